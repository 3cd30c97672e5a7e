package sieve

import (
	"strings"
	"testing"
)

// TestDefaultExtensions pins the default set to Pigeonhole 0.5's, as
// `sieve-test` (dovecot-sieve 2.3) answers `require` for each name.
func TestDefaultExtensions(t *testing.T) {
	on := []string{"fileinto", "reject", "envelope", "encoded-character", "vacation", "subaddress",
		"comparator-i;ascii-numeric", "relational", "regex", "imap4flags", "copy", "include", "body",
		"variables", "enotify", "environment", "mailbox", "date", "index", "ihave", "duplicate", "mime",
		"foreverypart", "extracttext"}
	off := []string{"vacation-seconds", "spamtest", "spamtestplus", "virustest", "editheader",
		"vnd.dovecot.debug", "ereject", "mboxmetadata", "servermetadata", "special-use", "extlists",
		"vnd.dovecot.environment", "vnd.dovecot.report", "vnd.dovecot.pipe", "vnd.dovecot.filter", "vnd.dovecot.execute"}
	for _, name := range on {
		if _, err := Compile("t", []byte(`require "`+name+`";`), nil); err != nil {
			t.Errorf("%s: off by default, Pigeonhole has it on: %v", name, err)
		}
	}
	for _, name := range off {
		if _, err := Compile("t", []byte(`require "`+name+`";`), nil); err == nil {
			t.Errorf("%s: on by default, Pigeonhole has it off", name)
		}
		if _, err := Compile("t", []byte(`require "`+name+`";`), &Options{Extensions: "+" + name}); err != nil {
			t.Errorf("%s: not enabled by +%s: %v", name, name, err)
		}
		if _, err := Compile("t", []byte(`require "`+name+`";`), &Options{Settings: Settings{"sieve_extensions": "+" + name}}); err != nil {
			t.Errorf("%s: not enabled by sieve_extensions: %v", name, err)
		}
	}
	// sieve_global_extensions enables an extension for global scripts only.
	set := Settings{"sieve_global_extensions": "+vnd.dovecot.debug"}
	if _, err := Compile("t", []byte(`require "vnd.dovecot.debug";`), &Options{Settings: set, Location: Global}); err != nil {
		t.Errorf("sieve_global_extensions: %v", err)
	}
	if _, err := Compile("t", []byte(`require "vnd.dovecot.debug";`), &Options{Settings: set}); err == nil {
		t.Error("sieve_global_extensions enabled an extension for a personal script")
	}
	for _, name := range off {
		for _, c := range Capabilities() {
			if c == name {
				t.Errorf("Capabilities announces %s, which is off by default", name)
			}
		}
	}
}

func TestCheckExtensions(t *testing.T) {
	if err := CheckExtensions(nil, "+vacation-seconds -regex editheader"); err != nil {
		t.Fatal(err)
	}
	err := CheckExtensions(nil, "+vacation-seconds +vacation-second")
	if err == nil || !strings.Contains(err.Error(), `"vacation-second"`) {
		t.Fatalf("unknown name: %v", err)
	}
}

// TestSettingNamesOfExtensions: the settings the extensions of issue 10
// read are known names (serve refuses unknown ones).
func TestSettingNamesOfExtensions(t *testing.T) {
	for _, n := range []string{"sieve_notify_max_notifications", "sieve_notify_mailto_max_recipients",
		"sieve_notify_mailto_max_headers", "sieve_notify_mailto_envelope_from", "sieve_report_from",
		"sieve_variables_max_value_size", "sieve_extlists_list", "sieve_extlists_list/:addrbook:default/dict",
		"sieve_environment/display_name", "sieve_env_display_name", "sieve_pipe_bin_dir", "sieve_execute_input_eol",
		"sieve_redirect_duplicate_period"} {
		if !IsSetting(n) {
			t.Errorf("%s is not a known setting", n)
		}
	}
}
