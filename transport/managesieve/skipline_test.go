package managesieve

import (
	"testing"

	"github.com/vacationd/vacationd/internal/peertest"
)

// TestRefusedLineSkipsItsLiterals: a command line refused while it is
// read (a name that is no UTF-8, a bad escape, a stray character) is
// skipped with the literals it announces. The client sends a {n+}
// literal without waiting (and a {n} one too, as ManageSieve has no
// continuation), so the script's lines were read as commands: a script
// holding `SETACTIVE "s"` activated s.
func TestRefusedLineSkipsItsLiterals(t *testing.T) {
	const lit = "SETACTIVE \"s\"\r\nDELETESCRIPT \"s\"\r\n" // 33 octets
	tests := []struct {
		name, line, want string
	}{
		{"bad UTF-8 name", "PUTSCRIPT \"a\xffb\" {33+}\r\n" + lit, `NO "Invalid UTF-8 in quoted string"`},
		{"synchronising", "PUTSCRIPT \"a\xffb\" {33}\r\n" + lit, `NO "Invalid UTF-8 in quoted string"`},
		{"bad escape", "PUTSCRIPT \"a\\xb\" {33+}\r\n" + lit, `NO "Invalid escape in quoted string"`},
		{"stray character", "PUTSCRIPT \"ab\" ( {33+}\r\n" + lit, `NO "Unexpected character '('"`},
		{"two literals", "PUTSCRIPT \"a\\xb\" {33+}\r\n" + lit + " {33+}\r\n" + lit, `NO "Invalid escape in quoted string"`},
		{"bare LF", "CHECKSCRIPT \"\xff\" {33+}\n" + lit, `NO "Invalid UTF-8 in quoted string"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, addr, b := start(t, Config{})
			b.scripts["s"] = "keep;"
			c, _ := peertest.DialSieve(t, addr)
			c.Cmd(`AUTHENTICATE "PLAIN" "AGFsaWNlAHB3"`)
			if r := c.Cmd(tt.line); r.String() != tt.want {
				t.Errorf("reply %q, want %q", r.String(), tt.want)
			}
			if r := c.Cmd("NOOP"); r.String() != `OK "NOOP Completed"` {
				t.Errorf("next command: %q (the literal was read as commands)", r.String())
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.active != "" {
				t.Errorf("script %q activated by a literal's line", b.active)
			}
		})
	}
}

// TestRefusedLineLiteralBound: a refused line's literal larger than what
// the session would discard ends the session as a read literal does.
func TestRefusedLineLiteralBound(t *testing.T) {
	_, addr, _ := start(t, Config{MaxScriptSize: 10})
	for _, size := range []string{"99999999999", "99999999999999999999999"} {
		c, _ := peertest.DialSieve(t, addr)
		c.Cmd(`AUTHENTICATE "PLAIN" "AGFsaWNlAHB3"`)
		c.Send("PUTSCRIPT \"\xff\" {" + size + "+}\r\n")
		if r := c.Read(); r.String() != `BYE "Input buffer full, aborting"` {
			t.Errorf("{%s+}: reply %q", size, r.String())
		}
	}
}
