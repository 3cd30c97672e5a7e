package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestSieveTestFlags: every flag of sieve-test is accepted; the ones
// without meaning here are reported once each, and -m names where keep
// stores.
func TestTestSieveTestFlags(t *testing.T) {
	rc, out, errs := runCLI(t, "test", "-c", "/etc/dovecot/dovecot.conf", "-C", "-D", "-d", "-", "-l", "maildir:~/Maildir",
		"-P", "sieve_extprograms", "-P", "sieve_imapsieve", "-u", "bob", "-T", "level=matching", "-T", "debug", "-m", "Archive",
		"-f", "alice@example.org", "-r", "bob@example.com", cliData+"keep.sieve", cliData+"message.eml")
	if rc != exitOK {
		t.Fatalf("rc=%d stderr=%s", rc, errs)
	}
	for _, f := range []string{"-c", "-C", "-D", "-d", "-l", "-P", "-u", "-T"} {
		if n := strings.Count(errs, "vacationd test: "+f+" ignored"); n != 1 {
			t.Errorf("%s reported %d times, want once:\n%s", f, n, errs)
		}
	}
	if !strings.Contains(out, " * store message in folder: Archive\n") {
		t.Errorf("-m Archive: keep does not store there:\n%s", out)
	}
}

// TestTestExitStatus: vacationd test exits as sieve-test does.
func TestTestExitStatus(t *testing.T) {
	msg := cliData + "message.eml"
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"ok", []string{cliData + "away.sieve", msg}, exitOK},
		{"unknown flag", []string{"-Z", cliData + "away.sieve", msg}, exitUsage},
		{"missing message argument", []string{cliData + "away.sieve"}, exitUsage},
		{"unknown extension", []string{"-x", "+vacation-second", cliData + "away.sieve", msg}, exitUsage},
		{"unknown trace option", []string{"-T", "level=bogus", cliData + "away.sieve", msg}, exitUsage},
		{"compile error", []string{cliData + "broken.sieve", msg}, exitFatal},
		{"missing script", []string{cliData + "missing.sieve", msg}, exitFatal},
		{"missing message", []string{cliData + "away.sieve", cliData + "missing.eml"}, exitFatal},
		{"runtime error", []string{cliData + "conflict.sieve", msg}, exitFailure},
	} {
		rc, _, errs := runCLI(t, append([]string{"test"}, tc.args...)...)
		if rc != tc.want {
			t.Errorf("%s: rc=%d, want %d (stderr %q)", tc.name, rc, tc.want, errs)
		}
	}
	_, _, errs := runCLI(t, "test", "-x", "+vacation-second", cliData+"away.sieve", msg)
	if !strings.Contains(errs, `"vacation-second"`) {
		t.Errorf("unknown extension not named: %q", errs)
	}
}

// TestTestEnvelopeFromHeaders: without -f and -r the envelope comes from
// the message as sieve-test takes it (each case checked with sieve-test
// 2.3.19): the first address of the first field that starts with one,
// else sender@example.com / recipient@example.com.
func TestTestEnvelopeFromHeaders(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ msg, want string }{
		{"Return-Path: <>\nFrom: a@b.example\nTo: Bob <bob@example.com>, c@d.example\n", "from <a@b.example> to <bob@example.com>"},
		{"Return-Path: <x@y.example> (c)\nSender: \"S\" <s@y.example>\nTo: \"q\" garbage, bob@example.com\n", "from <x@y.example> to <recipient@example.com>"},
		{"Subject: none\n", "from <sender@example.com> to <recipient@example.com>"},
		{"Return-Path: Bob <bob@example.com x\nTo: Bob <bob@example.com x\n", "from <bob@example.com> to <bob@example.com>"},
		{"From: a@b.example\nFrom: c@d.example\nEnvelope-To: <>\nTo: e@f.example\n", "from <a@b.example> to <e@f.example>"},
	} {
		path := filepath.Join(dir, "m.eml")
		if err := os.WriteFile(path, []byte(tc.msg+"Subject: x\n\nbody\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, out, errs := runCLI(t, "test", cliData+"keep.sieve", path)
		if !strings.Contains(out, "Envelope: "+tc.want) {
			t.Errorf("%q: want envelope %s, got:\n%s%s", tc.msg, tc.want, out, errs)
		}
	}
}

// TestTestGetopt: sieve-test's getopt spellings (bundled flags, values
// attached to their flag) work as they do there.
func TestTestGetopt(t *testing.T) {
	rc, out, errs := runCLI(t, "test", "-CD", "-mArchive", "-x+vacation-seconds", "-falice@example.org", "-r", "bob@example.com",
		cliData+"keep.sieve", cliData+"message.eml")
	if rc != exitOK {
		t.Fatalf("rc=%d stderr=%s", rc, errs)
	}
	if !strings.Contains(out, " * store message in folder: Archive\n") || !strings.Contains(out, "from <alice@example.org>") {
		t.Errorf("attached values not read:\n%s", out)
	}
	for _, f := range []string{"-C", "-D"} {
		if !strings.Contains(errs, "vacationd test: "+f+" ignored") {
			t.Errorf("%s of the bundle -CD not read:\n%s", f, errs)
		}
	}
	// Go-style long flags and values that start with a dash are left alone.
	if rc, _, errs := runCLI(t, "test", "-json", "-x", "-regex", cliData+"keep.sieve", cliData+"message.eml"); rc != exitOK {
		t.Errorf("-json -x -regex: rc=%d %s", rc, errs)
	}
	if got := getoptArgs(flagSetForTest(), []string{"-Ce", "-x", "-regex", "-data", "d", "s", "-C"}); strings.Join(got, " ") != "-C -e -x -regex -data d s -C" {
		t.Errorf("getoptArgs = %q", got)
	}
}

func flagSetForTest() *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Bool("C", false, "")
	fs.Bool("e", false, "")
	fs.String("x", "", "")
	fs.String("data", "", "")
	return fs
}
