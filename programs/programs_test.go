package programs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// binDir writes executable shell scripts into a fresh directory.
func binDir(t *testing.T, progs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range progs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRunProgram(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := binDir(t, map[string]string{
		"echoargs": `echo -n "$1|$2|$SENDER|$RECIPIENT|$USER|$HOST|$SECRET"`,
		"cat":      `cat`,
		"fail":     `exit 3`,
		"sleep":    `sleep 20`,
		"big":      `head -c 5000 /dev/zero`,
	})
	if err := os.WriteFile(filepath.Join(dir, "noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET", "leaked")
	rn := &Runner{MaxOutput: 1000, Host: "mx.example.com"}
	call := func(name string, args ...string) *sieve.ProgramCall {
		return &sieve.ProgramCall{Kind: "execute", Name: name, Args: args, Output: true, User: "bob",
			Envelope: sieve.Envelope{From: "a@example.org", To: "b@example.com"},
			Settings: sieve.Settings{"sieve_execute_bin_dir": dir, "sieve_execute_exec_timeout": "1s"}}
	}
	out, err := rn.RunProgram(context.Background(), call("echoargs", "one two", "$(id)"))
	if err != nil || string(out) != "one two|$(id)|a@example.org|b@example.com|bob|mx.example.com|" {
		t.Errorf("echoargs: %q %v (arguments go unexpanded, no shell; the environment is Pigeonhole's only)", out, err)
	}
	c := call("cat")
	c.Input = []byte("a\nb\r\nc")
	if out, _ := rn.RunProgram(context.Background(), c); string(out) != "a\r\nb\r\nc" {
		t.Errorf("crlf input: %q", out)
	}
	c.Settings["sieve_execute_input_eol"] = "lf"
	if out, _ := rn.RunProgram(context.Background(), c); string(out) != "a\nb\nc" {
		t.Errorf("lf input: %q", out)
	}
	for _, name := range []string{"missing", "noexec", "../" + filepath.Base(dir) + "/cat"} {
		if _, err := rn.RunProgram(context.Background(), call(name)); !errors.Is(err, sieve.ErrProgramNotFound) {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
	if _, err := rn.RunProgram(context.Background(), call("fail")); !errors.Is(err, sieve.ErrProgramFailed) {
		t.Errorf("fail: %v", err)
	}
	start := time.Now()
	if _, err := rn.RunProgram(context.Background(), call("sleep")); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("sleep: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timeout took %v: the program's children were not killed", d)
	}
	if _, err := rn.RunProgram(context.Background(), call("big")); err == nil || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Errorf("big: %v", err)
	}
	c = call("cat")
	c.Settings = sieve.Settings{}
	if _, err := rn.RunProgram(context.Background(), c); !errors.Is(err, sieve.ErrProgramNotFound) {
		t.Errorf("no bin dir: %v", err)
	}
}
