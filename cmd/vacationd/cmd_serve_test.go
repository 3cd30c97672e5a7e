package main

import (
	"flag"
	"net"
	"strings"
	"testing"
)

func TestServeRejectsBadConfigNamingTheSource(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--proxy", "sometimes"}, nil, `flag -proxy: proxy mode "sometimes"`},
		{nil, map[string]string{"VACATIOND_PROXY_TRUSTED": "10.0.0.0/33"}, "VACATIOND_PROXY_TRUSTED"},
		{[]string{"--relay-tls", "ssl"}, nil, "flag -relay-tls"},
		{[]string{"--relay-proxy", "v3"}, nil, "flag -relay-proxy"},
		{[]string{"--relay-proxy-source", "not-an-ip"}, nil, "flag -relay-proxy-source"},
		{[]string{"--deliver-to", "smtp:127.0.0.1:25"}, nil, "flag -deliver-to"},
		{[]string{"--log-format", "xml"}, nil, "flag -log-format"},
		{nil, map[string]string{"VACATIOND_MAX_CONNS": "many"}, "VACATIOND_MAX_CONNS"},
		{[]string{"-o", "novalue"}, nil, `-o: setting "novalue": want NAME=VALUE`},
		{[]string{"-o", "sieve_vacation_min_perod=1d"}, nil, `-o: setting "sieve_vacation_min_perod": unknown setting name`},
		{[]string{"--scripts", "/nonexistent/scripts"}, nil, "scripts directory: open /nonexistent/scripts"},
		{[]string{"--script-source", "ldap:x"}, nil, `--script-source: "ldap:x": unknown source`},
		{[]string{"--script-source", "dovecot-home:/var/vmail/%q"}, nil, `unknown variable %q`},
		{[]string{"--scripts", "x", "--script-source", "store"}, nil, "--scripts and --script-source both given"},
		{[]string{"--sieve-before", "/nonexistent/before.sieve", "--script-source", "store"}, nil, "--sieve-before: script /nonexistent/before.sieve"},
		{[]string{"-o", "sieve_vacation_min_period=often"}, nil, "sieve_vacation_min_period"},
		{[]string{"extra"}, nil, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errOut strings.Builder
			args := append([]string{"--data", t.TempDir(), "--lmtp", "127.0.0.1:0", "--no-relay"}, c.args...)
			if code := runServe(args, &out, &errOut); code == 0 {
				t.Fatalf("exit 0, want an error")
			}
			if !strings.Contains(errOut.String(), c.want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), c.want)
			}
		})
	}
}

func TestServeFailsCleanlyWhenHTTPAddressIsTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var out, errOut strings.Builder
	args := []string{"--data", t.TempDir(), "--lmtp", "127.0.0.1:0", "--http", busy.Addr().String(), "--relay", "127.0.0.1:1", "--script-source", "store"}
	if code := runServe(args, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "http listen") {
		t.Errorf("stderr = %q, want the http listen error", errOut.String())
	}
}

func TestApplyEnv(t *testing.T) {
	var o serveOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o.flags(fs)
	if err := fs.Parse([]string{"--proxy", "optional"}); err != nil {
		t.Fatal(err)
	}
	environ := []string{
		"VACATIOND_PROXY=required", // the command line wins
		"VACATIOND_LMTP=127.0.0.1:2525",
		"VACATIOND_O=sieve_user_email=bob@example.com",
		"VACATIOND_O_2=sieve_vacation_min_period=0",
		"VACATIOND_O_1=recipient_delimiter=+",
		"VACATIOND_SIEVE_BEFORE_A=/etc/before.sieve",
		"OTHER=x",
	}
	if _, err := applyEnv(fs, environ); err != nil {
		t.Fatal(err)
	}
	if o.proxy != "optional" || o.lmtp != "127.0.0.1:2525" {
		t.Errorf("proxy %q lmtp %q", o.proxy, o.lmtp)
	}
	want := "sieve_user_email=bob@example.com, recipient_delimiter=+, sieve_vacation_min_period=0"
	if o.settings.String() != want {
		t.Errorf("-o from the environment = %q, want %q", o.settings.String(), want)
	}
	if o.before.String() != "/etc/before.sieve" {
		t.Errorf("sieve-before = %q", o.before.String())
	}
}
