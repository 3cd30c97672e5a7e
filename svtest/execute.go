package svtest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vacationd/vacationd/sieve"
)

// execute carries out a result against the in-memory mail store and the
// captured outgoing mail, as test_result_execute does.
func (ts *suite) execute(c *sieve.Call, res *sieve.Result) error {
	msg := res.Message
	if msg == nil {
		msg = c.Message()
	}
	env := c.Env().Envelope
	// Storing into a missing mailbox fails the whole result, as in
	// Pigeonhole; the implicit keep then stores the message as received.
	for _, a := range res.Actions {
		f, ok := a.(*sieve.FileInto)
		if !ok {
			continue
		}
		if storageNameInvalid(f.Mailbox) {
			ts.store("INBOX", c.Message(), nil)
			return fmt.Errorf("failed to store into mailbox '%s': Invalid mailbox name: Name has an empty hierarchy level", sieve.Sanitize(f.Mailbox, 256))
		}
		if !f.Create && !ts.MailboxExists(f.Mailbox) {
			ts.store("INBOX", c.Message(), nil)
			return fmt.Errorf("failed to store into mailbox '%s': Mailbox doesn't exist: %s", f.Mailbox, f.Mailbox)
		}
	}
	if d, ok := c.Env().Duplicates.(*sieve.MemoryDuplicates); ok {
		d.Record(res.Duplicates)
	}
	// Actions carried out by an earlier test_result_execute are not
	// repeated.
	loopKeep := false
	for _, a := range res.Executed() {
		switch a := a.(type) {
		case *sieve.Keep:
			ts.store("INBOX", sieve.ActionMessage(a, msg), a.Flags)
		case *sieve.FileInto:
			ts.store(a.Mailbox, sieve.ActionMessage(a, msg), a.Flags)
		case *sieve.Redirect:
			d := sieve.PlanRedirect(c.Settings(), env, msg)
			if d.Loop {
				// Not sent again; the message is kept instead.
				loopKeep = loopKeep || !a.Copy
				continue
			}
			ts.sent = append(ts.sent, &sieve.SentMessage{From: d.From, To: a.Address, Message: d.Message(sieve.ActionMessage(a, msg))})
		case *sieve.Reject:
			if env.From != "" {
				ts.sent = append(ts.sent, &sieve.SentMessage{From: "", To: env.From, Message: rejectMessage(a, msg, env, c.Settings())})
			}
		case *sieve.Pipe:
			if err := ts.pipe(c, a, sieve.ActionMessage(a, msg)); err != nil {
				return err
			}
		case *sieve.Notify, *sieve.Report:
			if ts.hooks.Mail == nil {
				continue
			}
			sms, err := ts.hooks.Mail(c.Context(), a, msg, env, c.Settings(), c.Now())
			if err != nil {
				return err
			}
			ts.sent = append(ts.sent, sms...)
		case *sieve.Vacation:
			if ts.hooks.Vacation == nil {
				continue
			}
			sm, err := ts.hooks.Vacation(c.Context(), a, msg, env, c.Env().Settings, c.Now())
			if err != nil {
				return err
			}
			if sm != nil {
				ts.sent = append(ts.sent, sm)
			}
		}
	}
	if res.ImplicitKeep || loopKeep {
		ts.store("INBOX", msg, res.ImplicitFlags)
	}
	return nil
}

// pipe pipes m to the program of a; a failure adds the runner's error and
// fails the result, unless the action has :try.
func (ts *suite) pipe(c *sieve.Call, a *sieve.Pipe, m *sieve.Message) error {
	call := sieve.NewProgramCall("pipe", a.Program, a.Args, c.Env(), c.Settings())
	call.Input = m.Raw()
	err := sieve.ErrProgramNotFound
	if ts.hooks.Programs != nil {
		_, err = ts.hooks.Programs.RunProgram(c.Context(), call)
	}
	name := sieve.Sanitize(a.Program, 80)
	switch {
	case err == nil || a.Try:
		return nil
	case errors.Is(err, sieve.ErrProgramNotFound):
		return fmt.Errorf("failed to pipe message to program: program '%s' not found", name)
	case errors.Is(err, sieve.ErrProgramFailed):
		return fmt.Errorf("failed to execute to program '%s'", name)
	}
	ts.errors = append(ts.errors, err.Error())
	return fmt.Errorf("failed to pipe message to program '%s'", name)
}

// Metadata reads an entry set by test_imap_metadata_set.
func (ts *suite) Metadata(mailbox, entry string) (string, bool, error) {
	v, ok := ts.metadata[[2]string{mailboxKey(mailbox), entry}]
	return v, ok, nil
}

// store saves a copy of m with its flags. Like Dovecot with attachment
// detection on (as in Pigeonhole's testsuite), saving adds the
// $HasNoAttachment keyword.
func (ts *suite) store(box string, m *sieve.Message, flags []string) {
	c := *m
	box = mailboxKey(box)
	ts.boxes[box] = append(ts.boxes[box], &c)
	out := append([]string(nil), flags...)
	has := false
	for _, f := range out {
		has = has || strings.EqualFold(f, "$HasNoAttachment")
	}
	if !has {
		out = append(out, "$HasNoAttachment")
	}
	ts.flags[&c] = out
}

// MailboxExists reports whether the test mail store has the mailbox.
func (ts *suite) MailboxExists(name string) bool {
	_, ok := ts.boxes[mailboxKey(name)]
	return ok
}

// mailboxKey names a mailbox of the test store: INBOX and its children
// ("INBOX.x") are case-insensitive, as in Dovecot.
func mailboxKey(name string) string {
	if len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || name[5] == '.') {
		return "INBOX" + name[5:]
	}
	return name
}

// storageNameInvalid reports mailbox names the test mail store (with '/'
// as hierarchy separator, like Dovecot's) refuses: empty hierarchy levels.
func storageNameInvalid(name string) bool {
	return strings.Contains(name, "//") || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/")
}

// rejectMessage builds the rejection notice (a minimal MDN-like message).
func rejectMessage(a *sieve.Reject, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings) []byte {
	var b strings.Builder
	b.WriteString("From: " + postmasterAddress(settings, env) + "\r\n")
	b.WriteString("To: <" + env.From + ">\r\n")
	subj := ""
	if s := msg.HeaderDecoded("subject"); len(s) > 0 {
		subj = s[0]
	}
	b.WriteString("Subject: Automatically rejected mail\r\n")
	b.WriteString("Auto-Submitted: auto-replied (rejected)\r\n")
	b.WriteString("Precedence: bulk\r\n\r\n")
	b.WriteString("Your message to <" + env.To + "> was automatically rejected:\r\n")
	b.WriteString(a.Reason + "\r\n")
	if subj != "" {
		b.WriteString("\r\nOriginal subject: " + subj + "\r\n")
	}
	return []byte(b.String())
}

// postmasterAddress is the From of rejections: postmaster_address when set,
// else Postmaster at the recipient's domain (Dovecot's default).
func postmasterAddress(settings sieve.Settings, env sieve.Envelope) string {
	if pm := strings.TrimSpace(settings.String("postmaster_address", "")); pm != "" {
		return pm
	}
	domain := "localhost"
	if i := strings.LastIndexByte(env.To, '@'); i >= 0 && i+1 < len(env.To) {
		domain = env.To[i+1:]
	}
	return "Postmaster <postmaster@" + domain + ">"
}
