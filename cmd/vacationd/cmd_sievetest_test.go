package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const cliData = "../../testdata/cli/"

// runCLI runs the binary's entry point with args and returns its exit
// status, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(args, &out, &errb)
	return rc, out.String(), errb.String()
}

type testDoc struct {
	CompileError bool             `json:"compile_error"`
	Errors       []string         `json:"errors"`
	Actions      []map[string]any `json:"actions"`
	ImplicitKeep bool             `json:"implicit_keep"`
}

func runJSON(t *testing.T, args ...string) testDoc {
	t.Helper()
	_, out, errs := runCLI(t, append([]string{"test", "--json"}, args...)...)
	var d testDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("no JSON on stdout: %v\nstdout: %s\nstderr: %s", err, out, errs)
	}
	return d
}

func vacationAction(t *testing.T, d testDoc) map[string]any {
	t.Helper()
	for _, a := range d.Actions {
		if a["type"] == "vacation" {
			return a
		}
	}
	t.Fatalf("no vacation action in %+v", d.Actions)
	return nil
}

func TestTestJSON(t *testing.T) {
	d := runJSON(t, "--now", "2026-01-02T03:04:05Z", "-f", "alice@example.org", "-r", "bob@example.com",
		cliData+"away.sieve", cliData+"message.eml")
	if d.CompileError || d.ImplicitKeep {
		t.Fatalf("compile_error=%v implicit_keep=%v, want false, false (fileinto cancels it)", d.CompileError, d.ImplicitKeep)
	}
	if len(d.Actions) != 2 || d.Actions[0]["type"] != "fileinto" || d.Actions[0]["mailbox"] != "Billing" {
		t.Fatalf("actions %+v", d.Actions)
	}
	v := vacationAction(t, d)
	if v["sent"] != true || v["envelope_from"] != "" || v["envelope_to"] != "alice@example.org" {
		t.Fatalf("vacation %+v", v)
	}
	msg, _ := v["message"].(string)
	for _, want := range []string{
		"\r\nFrom: <bob@example.com>\r\n", "\r\nTo: Alice <alice@example.org>\r\n", "\r\nSubject: Away\r\n",
		"\r\nDate: Fri, 02 Jan 2026 03:04:05 +0000\r\n", "\r\nIn-Reply-To: <m1@example.org>\r\n",
		"\r\nAuto-Submitted: auto-replied (vacation)\r\n", "\r\n\r\nI am away until Monday.\r\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("reply lacks %q:\n%s", want, msg)
		}
	}
	if v["expires"] != "2026-01-05T03:04:05Z" {
		t.Errorf("expires %v", v["expires"])
	}
}

// TestTestEnvelopeDefaults takes the envelope from the message, as
// sieve-test does, and applies -o settings.
func TestTestEnvelopeDefaults(t *testing.T) {
	d := runJSON(t, cliData+"away.sieve", cliData+"message.eml")
	if v := vacationAction(t, d); v["envelope_to"] != "alice@example.org" || v["sent"] != true {
		t.Fatalf("vacation %+v", v)
	}
	d = runJSON(t, "-o", "sieve_vacation_send_from_recipient=yes", cliData+"away.sieve", cliData+"message.eml")
	if v := vacationAction(t, d); v["envelope_from"] != "bob@example.com" {
		t.Fatalf("send_from_recipient ignored: %+v", v)
	}
	d = runJSON(t, "-f", "<>", cliData+"away.sieve", cliData+"message.eml")
	if v := vacationAction(t, d); v["sent"] != false || v["reason"] != "null-sender" {
		t.Fatalf("null sender: %+v", v)
	}
	d = runJSON(t, "-r", "carol@example.com", cliData+"away.sieve", cliData+"message.eml")
	if v := vacationAction(t, d); v["reason"] != "implicit-delivery" {
		t.Fatalf("other recipient: %+v", v)
	}
}

// TestTestData checks that --data keeps the dedup record so that a second
// run reports a duplicate, and that --now past the period replies again.
func TestTestData(t *testing.T) {
	dir := t.TempDir()
	args := func(now string) []string {
		return []string{"--data", dir, "--now", now, cliData + "away.sieve", cliData + "message.eml"}
	}
	if v := vacationAction(t, runJSON(t, args("2026-01-02T00:00:00Z")...)); v["sent"] != true {
		t.Fatalf("first run: %+v", v)
	}
	if _, err := os.Stat(filepath.Join(dir, "vacationd.db")); err != nil {
		t.Fatal(err)
	}
	if v := vacationAction(t, runJSON(t, args("2026-01-04T00:00:00Z")...)); v["sent"] != false || v["reason"] != "duplicate" {
		t.Fatalf("second run: %+v", v)
	}
	if v := vacationAction(t, runJSON(t, args("2026-01-05T00:00:01Z")...)); v["sent"] != true {
		t.Fatalf("after the period: %+v", v)
	}
	// Without --data or -e nothing is kept.
	plain := []string{"--now", "2026-01-02T00:00:00Z", cliData + "away.sieve", cliData + "message.eml"}
	runJSON(t, plain...)
	if v := vacationAction(t, runJSON(t, plain...)); v["sent"] != true {
		t.Fatalf("dry run recorded: %+v", v)
	}
}

func TestTestCompileError(t *testing.T) {
	d := runJSON(t, cliData+"broken.sieve", cliData+"message.eml")
	if !d.CompileError || len(d.Errors) < 2 {
		t.Fatalf("want compile errors, got %+v", d)
	}
	rc, out, errs := runCLI(t, "test", cliData+"broken.sieve", cliData+"message.eml")
	if rc != exitFatal || out != "" || !strings.Contains(errs, "broken.sieve:2:") {
		t.Fatalf("rc=%d stdout=%q stderr=%q", rc, out, errs)
	}
}

func TestTestBeforeScript(t *testing.T) {
	// The before script discards spam: the main script does not run.
	d := runJSON(t, "-s", cliData+"discard.sieve", cliData+"away.sieve", cliData+"spam.eml")
	if len(d.Actions) != 1 || d.Actions[0]["type"] != "discard" || d.ImplicitKeep {
		t.Fatalf("actions %+v implicit_keep %v", d.Actions, d.ImplicitKeep)
	}
	// Otherwise it runs after it.
	d = runJSON(t, "-s", cliData+"discard.sieve", cliData+"away.sieve", cliData+"message.eml")
	vacationAction(t, d)
}

func TestTestHuman(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace")
	rc, out, errs := runCLI(t, "test", "-t", trace, "--now", "2026-01-02T03:04:05Z", cliData+"away.sieve", cliData+"message.eml")
	if rc != 0 {
		t.Fatalf("rc=%d stderr=%s", rc, errs)
	}
	for _, want := range []string{
		"* store message in folder: Billing",
		"* send vacation message to <alice@example.org>",
		"Vacation reply: MAIL FROM:<> RCPT TO:<alice@example.org>; suppresses further replies until 2026-01-05T03:04:05Z",
		"START MESSAGE\nMessage-ID: <", "Subject: Away\n", "END MESSAGE",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(trace); err != nil || len(b) == 0 {
		t.Errorf("trace file empty: %v", err)
	}
	rc, out, _ = runCLI(t, "test", "-f", "alice@example.org", "-r", "alice@example.org", cliData+"away.sieve", cliData+"message.eml")
	if rc != 0 || !strings.Contains(out, "No vacation reply: own-address: ") {
		t.Errorf("rc=%d output:\n%s", rc, out)
	}
}

func TestTestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"test"},
		{"test", cliData + "away.sieve"},
		{"test", "-o", "sieve_vacation_default_subject_template=%{subject}", cliData + "away.sieve", cliData + "message.eml"},
		{"test", "-o", "novalue", cliData + "away.sieve", cliData + "message.eml"},
		{"test", "--now", "yesterday", cliData + "away.sieve", cliData + "message.eml"},
		{"test", cliData + "away.sieve", cliData + "missing.eml"},
	} {
		rc, _, errs := runCLI(t, args...)
		if rc == 0 || errs == "" {
			t.Errorf("%v: rc=%d stderr=%q, want an error", args, rc, errs)
		}
	}
}

// TestTestSettingWarning: like sieve-test, a setting value Pigeonhole does
// not take is ignored with a warning.
func TestTestSettingWarning(t *testing.T) {
	rc, _, errs := runCLI(t, "test", "-o", "sieve_vacation_min_period=soon", cliData+"away.sieve", cliData+"message.eml")
	if rc != 0 || !strings.Contains(errs, "invalid duration value for setting 'sieve_vacation_min_period'") {
		t.Errorf("rc=%d stderr=%q, want 0 and a warning", rc, errs)
	}
}

var errorLine = regexp.MustCompile(`^[^:]+:\d+:\d+: .+$`)

func TestCheck(t *testing.T) {
	rc, out, errs := runCLI(t, "check", cliData+"away.sieve", cliData+"discard.sieve")
	if rc != 0 || out != "" || errs != "" {
		t.Fatalf("good scripts: rc=%d stdout=%q stderr=%q", rc, out, errs)
	}
	rc, _, errs = runCLI(t, "check", cliData+"away.sieve", cliData+"broken.sieve")
	if rc != 1 {
		t.Fatalf("rc=%d, want 1", rc)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) < 2 {
		t.Fatalf("want every error, got %q", errs)
	}
	for _, l := range lines {
		if !errorLine.MatchString(l) || !strings.HasPrefix(l, cliData+"broken.sieve:") {
			t.Errorf("not file:line:col: message: %q", l)
		}
	}
	if rc, _, _ := runCLI(t, "check"); rc != 2 {
		t.Errorf("no scripts: rc=%d, want 2", rc)
	}
	// Warnings are printed as sievec prints them, and do not fail the check.
	warn := filepath.Join(t.TempDir(), "warn.sieve")
	if err := os.WriteFile(warn, []byte("require \"vacation\";\nvacation :days 0 \"Away.\";\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rc, _, errs := runCLI(t, "check", warn); rc != 0 || !strings.Contains(errs, warn+":2:16: warning: specified :days value '0' is under the minimum") {
		t.Errorf("script with a warning: rc=%d stderr=%q, want 0 and the warning", rc, errs)
	}
	// test prints them too, as sieve-test does, and runs the script.
	if rc, out, errs := runCLI(t, "test", "-f", "alice@example.org", "-r", "bob@example.com", warn, cliData+"message.eml"); rc != 0 ||
		!strings.Contains(errs, warn+":2:16: warning: specified :days value '0' is under the minimum") || !strings.Contains(out, "send vacation message") {
		t.Errorf("test of a script with a warning: rc=%d stdout=%q stderr=%q, want 0, the reply and the warning", rc, out, errs)
	}
	if rc, _, errs := runCLI(t, "check", cliData+"missing.sieve"); rc != 1 || !strings.Contains(errs, "missing.sieve") {
		t.Errorf("missing script: rc=%d stderr=%q", rc, errs)
	}
}

// TestTestRuntimeError checks that a failed run reports none of its
// actions, only the implicit keep, as sieve-test performs it.
func TestTestRuntimeError(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sieve")
	src := "require [\"vacation\", \"reject\"];\nreject \"no\";\nvacation \"gone\";\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ := runCLI(t, "test", "--json", "-f", "alice@example.org", "-r", "bob@example.com", script, cliData+"message.eml")
	var d struct {
		Actions      []map[string]any `json:"actions"`
		ImplicitKeep bool             `json:"implicit_keep"`
		RuntimeError string           `json:"runtime_error"`
		CompileError bool             `json:"compile_error"`
		Errors       []string         `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("no JSON: %v\n%s", err, out)
	}
	if !d.CompileError || len(d.Errors) != 1 || d.Errors[0] != d.RuntimeError {
		t.Errorf("compile_error %v, errors %q: a failed run must be reported as a failed script", d.CompileError, d.Errors)
	}
	if len(d.Actions) != 0 || !d.ImplicitKeep || !strings.Contains(d.RuntimeError, "conflicts") {
		t.Errorf("actions %v, implicit_keep %v, runtime_error %q; want none, true, a conflict", d.Actions, d.ImplicitKeep, d.RuntimeError)
	}
}

func TestStripMboxFrom(t *testing.T) {
	for in, want := range map[string]string{
		"From alice@example.org Mon Jan  1 10:00:00 2024\r\nTo: bob@example.com\r\n": "To: bob@example.com\r\n",
		"From: alice@example.org\r\n": "From: alice@example.org\r\n",
		"From x":                      "",
	} {
		if got := string(stripMboxFrom([]byte(in))); got != want {
			t.Errorf("stripMboxFrom(%q) = %q, want %q", in, got, want)
		}
	}
}
