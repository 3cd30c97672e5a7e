package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	writeFile(t, scripts, "example.com/bob.sieve", "require \"vacation\";\nvacation \"Away.\";\n")
	writeFile(t, scripts, "example.com/carol.sieve", "require \"vacation-seconds\";\nvacation :seconds 60 \"Away.\";\n")
	good := writeFile(t, dir, "good.toml", "scripts = \""+scripts+"\"\nno-relay = true\nextensions = \"+vacation-seconds\"\n")
	cases := []struct {
		name, cfg string
		args      []string
		code      int
		out, err  string
	}{
		{"ok", good, nil, 0, "configuration ok, 2 scripts compiled", ""},
		{"script under the config's options", good, []string{filepath.Join(scripts, "example.com/carol.sieve")}, 0, "1 script compiled", ""},
		{"no relay", writeFile(t, dir, "norelay.toml", "scripts = \""+scripts+"\"\n"), nil, 1, "", "no --relay"},
		{"unknown key", writeFile(t, dir, "typo.toml", "scirpts = \"x\"\n"), nil, 2, "", "scirpts: unknown setting"},
		{"missing scripts dir", writeFile(t, dir, "missing.toml", "scripts = \"/nonexistent/scripts\"\nno-relay = true\n"), nil, 1, "", "/nonexistent/scripts"},
		{"extension off", writeFile(t, dir, "noext.toml", "scripts = \""+scripts+"\"\nno-relay = true\nextensions = \"-vacation-seconds\"\n"), nil, 1,
			"", "carol.sieve:1:"},
		{"relay auth without password", writeFile(t, dir, "auth.toml", "scripts = \""+scripts+"\"\nrelay = \"127.0.0.1:25\"\nrelay-auth-user = \"bob\"\n"),
			nil, 1, "", "--relay-auth-user needs --relay-auth-password-file"},
		// serve refuses a setting value it cannot read, so check does too.
		{"bad setting value", writeFile(t, dir, "badvalue.toml", "scripts = \""+scripts+"\"\nno-relay = true\nextensions = \"+vacation-seconds\"\n"+
			"o = [\"sieve_vacation_min_period=abc\"]\n"), nil, 1, "", "sieve_vacation_min_period"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(append([]string{"check", "--config", c.cfg}, c.args...), &out, &errOut)
			if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(errOut.String(), c.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out.String(), errOut.String(), c.code, c.out, c.err)
			}
		})
	}
	var out, errOut strings.Builder
	if code := run([]string{"check", "--config", good, "-x", "+regex"}, &out, &errOut); code != 2 {
		t.Errorf("-x with --config: exit %d", code)
	}
}
