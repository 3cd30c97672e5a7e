package main

import (
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The file sets what neither the command line nor the environment set,
// and every value says where it came from.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "vacationd.toml", `
lmtp = "127.0.0.1:3000"
relay = "relay.example.net:25"
max-conns = 10
relay-tls-verify = false
retry-min = "5s"
o = ["sieve_vacation_min_period=0", "sieve_user_email=bob@example.com"]
proxy = "optional"
`)
	environ := []string{"VACATIOND_CONFIG=" + file, "VACATIOND_PROXY=required", "VACATIOND_MAX_CONNS=20"}
	c, err := loadConfig([]string{"--max-conns", "30"}, environ, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	o := c.opts
	if o.lmtp != "127.0.0.1:3000" || o.relay != "relay.example.net:25" || o.relayTLSVerify || o.retryMin.String() != "5s" {
		t.Errorf("file values not applied: %+v", o)
	}
	if o.proxy != "required" || o.maxConns != 30 {
		t.Errorf("proxy %q max-conns %d: environment and flags must override the file", o.proxy, o.maxConns)
	}
	if got := o.settings.String(); got != "sieve_vacation_min_period=0, sieve_user_email=bob@example.com" {
		t.Errorf("-o from the file = %q", got)
	}
	want := map[string]source{
		"lmtp": source(file), "proxy": "environment VACATIOND_PROXY", "max-conns": "command line",
		"config": "environment VACATIOND_CONFIG", "http": sourceDefault,
	}
	for name, src := range want {
		if got := c.source(name); got != src {
			t.Errorf("source(%s) = %q, want %q", name, got, src)
		}
	}
}

func TestConfigFileErrorsNameFileAndKey(t *testing.T) {
	cases := []struct{ text, want string }{
		{`lmtpp = "x"`, `lmtpp: unknown setting`},
		{`relay_tls = "none"`, `did you mean "relay-tls"`},
		{`max-conns = "many"`, `max-conns = "many"`},
		{`proxy = ["off", "required"]`, `proxy: want one value, not an array`},
		{"[relay]\nhost = \"x\"", `relay: want a value, not a table`},
		{"lmtp = \n", `:1:`},
		{`config = "other.toml"`, `config: unknown setting`},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), "v.toml", c.text)
			_, err := loadConfig([]string{"--config", file}, nil, os.Stderr)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to name %s and contain %q", err, file, c.want)
			}
		})
	}
	if _, err := loadConfig([]string{"--config", "/nonexistent/v.toml"}, nil, os.Stderr); err == nil || !strings.Contains(err.Error(), "/nonexistent/v.toml") {
		t.Errorf("missing file: %v", err)
	}
}

// `vacationd config` prints a config file that, read back, gives the same
// configuration.
func TestConfigCommandRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "v.toml", "relay = \"relay.example.net:25\"\no = [\"a=1\", \"b=\\\"2\\\"\"]\n")
	t.Setenv("VACATIOND_MAX_CONNS", "7")
	var out, errOut strings.Builder
	if code := run([]string{"config", "-n", "--config", file, "--proxy", "optional"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		`relay = "relay.example.net:25"`, "# " + file,
		"max-conns = 7", "# environment VACATIOND_MAX_CONNS",
		`proxy = "optional"`, "# command line",
		`o = ["a=1", "b=\"2\""]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "lmtp =") {
		t.Errorf("-n printed a default:\n%s", got)
	}
	back := writeFile(t, dir, "back.toml", got)
	t.Setenv("VACATIOND_MAX_CONNS", "")
	os.Unsetenv("VACATIOND_MAX_CONNS")
	c, err := loadConfig([]string{"--config", back}, nil, os.Stderr)
	if err != nil {
		t.Fatalf("output is not a valid config: %v\n%s", err, got)
	}
	if c.opts.maxConns != 7 || c.opts.proxy != "optional" || c.opts.settings.String() != `a=1, b="2"` {
		t.Errorf("read back: %+v", c.opts)
	}
	out.Reset()
	run([]string{"config"}, &out, &errOut)
	if !strings.Contains(out.String(), "data = \"/var/lib/vacationd\"") || !strings.Contains(out.String(), "# default") {
		t.Errorf("config without -n lacks the defaults:\n%s", out.String())
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut strings.Builder
		if code := run(args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		if !strings.HasPrefix(out.String(), "vacationd ") || !strings.Contains(out.String(), "go1.") || !strings.Contains(out.String(), "commit ") {
			t.Errorf("%v: %q", args, out.String())
		}
	}
}

// The man page documents every serve flag, from the same definitions.
func TestManPageListsEveryFlag(t *testing.T) {
	var out, errOut strings.Builder
	if code := run([]string{"man"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	fs := flagsOf()
	for _, name := range settingNames(fs) {
		if !strings.Contains(out.String(), `.BR \-\-`+strings.ReplaceAll(name, "-", `\-`)) {
			t.Errorf("man page lacks --%s", name)
		}
		if !strings.Contains(out.String(), envName(name)) {
			t.Errorf("man page lacks %s", envName(name))
		}
	}
}

// The reloadable settings are real flags, and the man page marks them.
func TestReloadableFlagsExist(t *testing.T) {
	fs := flagsOf()
	var out, errOut strings.Builder
	run([]string{"man"}, &out, &errOut)
	for name := range reloadableFlags() {
		if fs.Lookup(name) == nil {
			t.Errorf("reloadable %q is not a serve flag", name)
		}
	}
	if n := strings.Count(out.String(), "[reloaded by SIGHUP]") - 1; n != len(reloadableFlags()) { // one in the introduction
		t.Errorf("man page marks %d settings reloadable, want %d", n, len(reloadableFlags()))
	}
}

// TestUnknownEnvironment: a VACATIOND_* variable that names no setting
// (a typo) is not silently ignored: serve logs it, `vacationd config`
// and `vacationd check --config` print it, each naming the variable.
func TestUnknownEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  string
		warn bool
	}{
		{"VACATIOND_RELAY_WORKERS=3", false},
		{"VACATIOND_O_1=recipient_delimiter=+", false},
		{"VACATIOND_SIEVE_BEFORE_A=/etc/before.sieve", false},
		{"OTHER_RELAY_WORKER=3", false},
		{"VACATIOND_RELAY_WORKER=3", true},
		{"VACATIOND_RELAY_WORKERS_1=3", true}, // not a repeatable setting
		{"VACATIOND_SCRIPT=/x", true},
	} {
		cfg, err := loadConfig(nil, []string{tc.env}, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", tc.env, err)
		}
		name, _, _ := strings.Cut(tc.env, "=")
		got := strings.Join(cfg.warnings, "\n")
		if tc.warn != strings.Contains(got, "environment "+name+": ") {
			t.Errorf("%s: warnings %q, want one naming it: %v", tc.env, got, tc.warn)
		}
	}
	t.Setenv("VACATIOND_RELAY_WORKER", "3")
	var out strings.Builder
	if code := run([]string{"config", "-n"}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "# warning: environment VACATIOND_RELAY_WORKER: ") {
		t.Errorf("config -n: exit %d, output %q lacks the warning", code, out.String())
	}
}

// TestInstalledConfigRelay: the installed config relays to the local
// Postfix, which on Debian offers STARTTLS with the self-signed snakeoil
// certificate (main.cf.tls): a relay connection that verifies it (the
// default --relay-tls auto with --relay-tls-verify) never sends a reply,
// so the config talks plain SMTP over loopback.
func TestInstalledConfigRelay(t *testing.T) {
	cfg, err := loadConfig([]string{"--config", "../../deploy/vacationd.toml"}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.opts
	host, _, err := net.SplitHostPort(o.relay)
	if err != nil {
		t.Fatalf("relay %q: %v", o.relay, err)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		t.Skipf("relay %q is not on loopback", o.relay)
	}
	if o.relayTLS != "none" && o.relayTLSVerify {
		t.Errorf("relay %s with relay-tls %q and a verified certificate: Debian's Postfix offers the snakeoil certificate", o.relay, o.relayTLS)
	}
}
