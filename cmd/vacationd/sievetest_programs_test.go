package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestPrograms: vacationd test runs filter and execute programs from
// the bin dir given with -o, as sieve-test does; pipe programs only with -e.
func TestTestPrograms(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(dir, "piped")
	progs := map[string]string{
		"cat":  "#!/bin/sh\ncat\n",
		"mark": "#!/bin/sh\ncat > " + mark + "\n",
	}
	for name, body := range progs {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "s.sieve")
	msg := filepath.Join(dir, "m.eml")
	os.WriteFile(script, []byte(`require ["vnd.dovecot.execute", "vnd.dovecot.pipe", "variables"];
execute :pipe :output "out" "cat";
if string :contains "${out}" "Hello there" { pipe "mark"; }
`), 0o644)
	os.WriteFile(msg, []byte("From: alice@example.org\r\nTo: bob@example.com\r\nSubject: Hello there\r\n\r\nhi\r\n"), 0o644)
	args := []string{"test", "-x", "+vnd.dovecot.execute +vnd.dovecot.pipe", "-o", "sieve_execute_bin_dir=" + bin, "-o", "sieve_pipe_bin_dir=" + bin}
	rc, out, errs := runCLI(t, append(args, script, msg)...)
	if rc != 0 || !strings.Contains(out, "pipe message to program 'mark'") {
		t.Fatalf("rc %d\n%s%s", rc, out, errs)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("the pipe program ran without -e")
	}
	if rc, out, errs := runCLI(t, append(append(args, "-e"), script, msg)...); rc != 0 {
		t.Fatalf("-e: rc %d\n%s%s", rc, out, errs)
	}
	if b, err := os.ReadFile(mark); err != nil || !strings.Contains(string(b), "Subject: Hello there") {
		t.Errorf("with -e the pipe program got %q (%v)", b, err)
	}
}
