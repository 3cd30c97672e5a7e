package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/programs"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/sources"
	"github.com/vacationd/vacationd/store"
)

// sourceOptions configure what scripts may ask about users' mail stores:
// mailboxes (mailboxexists, special-use), external lists (extlists) and,
// from the store, METADATA entries; and the programs of extprograms.
type sourceOptions struct {
	mailboxDir, listDir    string
	doveadmURL, doveadmKey string
}

func (o *sourceOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.mailboxDir, "mailbox-dir", "", "`DIR`/<user> lists the user's mailboxes, a tab and their special-use flags after each (empty: only INBOX exists)")
	fs.StringVar(&o.doveadmURL, "doveadm-url", "", "Dovecot's doveadm HTTP API (`URL`, e.g. http://127.0.0.1:8080/doveadm/v1): users' mailboxes and their METADATA come from it")
	fs.StringVar(&o.doveadmKey, "doveadm-api-key-file", "", "`FILE` holding doveadm_api_key for --doveadm-url")
	fs.StringVar(&o.listDir, "list-dir", "", "`DIR`/<name> holds the external list :<name> (e.g. addrbook:family), one item a line, for extlists")
}

// serveSources builds the user sources and the program runner of serve.
// Programs run only from the bin directories the settings name
// (sieve_pipe_bin_dir, sieve_filter_bin_dir, sieve_execute_bin_dir), and
// only for scripts that may require the extensions (--extensions).
func serveSources(o *serveOptions, db store.State, settings sieve.Settings) (delivery.UserSources, sieve.ProgramRunner, error) {
	us := &sources.UserSources{MailboxDir: o.mailboxDir}
	switch {
	case o.doveadmURL != "" && o.mailboxDir != "":
		return nil, nil, fmt.Errorf("--doveadm-url and --mailbox-dir both given: mailboxes come from one of them")
	case o.doveadmURL != "":
		if o.doveadmKey == "" {
			return nil, nil, fmt.Errorf("--doveadm-url needs --doveadm-api-key-file")
		}
		key, err := readSecretFile("--doveadm-api-key-file", o.doveadmKey)
		if err != nil {
			return nil, nil, err
		}
		us.Doveadm = &sources.Doveadm{URL: o.doveadmURL, APIKey: key}
	}
	if o.mailboxDir != "" {
		if st, err := os.Stat(o.mailboxDir); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("--mailbox-dir %s: not a directory", o.mailboxDir)
		}
	}
	if o.listDir != "" {
		l, err := sources.ListDir(o.listDir)
		if err != nil {
			return nil, nil, fmt.Errorf("--list-dir: %w", err)
		}
		us.Lists = l
	} else if settings.String("sieve_extlists_list", "") != "" {
		l, err := sources.ListsFromSettings(settings, "")
		if err != nil {
			return nil, nil, err
		}
		us.Lists = l
	}
	if md, ok := db.(store.Metadata); ok {
		us.Metadata = md
	}
	return us, &programs.Runner{Host: hostname(o)}, nil
}
