package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Hashes of "secret" made by `doveadm pw -s SCHEME -p secret`
// (Dovecot 2.3.19).
var dovecotHashes = map[string]string{
	"sha512":   "{SHA512-CRYPT}$6$GP8LrEu7JNjQOR48$E6cei14oQi8MynuEMCgJUFfdBPAWiH/6ri1nV8fegS8FwHiEIImhe5kWzr7Tb8NqYCX85V5RICkuMNeg6B4sK.",
	"sha256":   "{SHA256-CRYPT}" + mustCrypt(sha256Crypt, "secret", "$5$abcdefgh"),
	"blf":      "{BLF-CRYPT}$2y$05$vWpcvHUatW9mlLtwvPZuJejBwZJYXorkZDMSGOgpYxgQ25crj0L1.",
	"argon2id": "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$VbRfbu9QERoIl+bVQ7gHVg$yvsYu7SRa8LrUYJYcNUM++/oMKo5+T0WDmSXCev5i9w",
	"argon2i":  "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$zJP7AwgqPixzos5Y6TEA8g$0gJOkDNsjofR50lsCx4qXpzqRLT8Ku1uarxWzu+oOWI",
	"ssha512":  "{SSHA512}9Yv600I5BXKN1wTlLfi3n3qw203gWGF91FeceMLcqDw2fm0g+tTdnowoDOoCWbJw3pOhkTuDEG1grQcY5NmQg7QNpcg=",
	"plain":    "{PLAIN}secret",
	"bare":     mustCrypt(sha512Crypt, "secret", "$6$saltsalt"),
}

func mustCrypt(v shaCryptVariant, key, setting string) string {
	s, ok := v.crypt([]byte(key), setting)
	if !ok {
		panic(setting)
	}
	return s
}

func writeUsers(t *testing.T, path string, users map[string]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# comment\n\n")
	for u, h := range users {
		b.WriteString(u + ":" + h + ":1000:1000::/home/" + u + "::\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPasswdFileSchemes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	users := map[string]string{}
	for u, h := range dovecotHashes {
		users[u+"@example.com"] = h
	}
	users["odd@example.com"] = "{MD5-CRYPT}$1$x$y"
	writeUsers(t, path, users)
	p, err := OpenPasswdFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for u := range dovecotHashes {
		t.Run(u, func(t *testing.T) {
			got, err := p.Check(ctx, Request{User: strings.ToUpper(u) + "@example.com", Password: "secret"})
			if err != nil || got != u+"@example.com" {
				t.Errorf("right password: %q, %v", got, err)
			}
			if _, err := p.Check(ctx, Request{User: u + "@example.com", Password: "Secret"}); !errors.Is(err, ErrFailed) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
	if _, err := p.Check(ctx, Request{User: "nobody@example.com", Password: "secret"}); !errors.Is(err, ErrFailed) {
		t.Errorf("unknown user: %v", err)
	}
	_, err = p.Check(ctx, Request{User: "odd@example.com", Password: "secret"})
	if err == nil || errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "MD5-CRYPT") || strings.Contains(err.Error(), "$1$x$y") {
		t.Errorf("unsupported scheme: %v (want an error naming the scheme, not the hash)", err)
	}
}

func TestPasswdFileRereadOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	writeUsers(t, path, map[string]string{"a@example.com": "{PLAIN}one"})
	p, err := OpenPasswdFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Check(ctx, Request{User: "a@example.com", Password: "one"}); err != nil {
		t.Fatal(err)
	}
	writeUsers(t, path, map[string]string{"a@example.com": "{PLAIN}two", "b@example.com": "{PLAIN}three"})
	os.Chtimes(path, time.Now().Add(time.Second), time.Now().Add(time.Second))
	if _, err := p.Check(ctx, Request{User: "a@example.com", Password: "one"}); !errors.Is(err, ErrFailed) {
		t.Errorf("old password after change: %v", err)
	}
	if _, err := p.Check(ctx, Request{User: "b@example.com", Password: "three"}); err != nil {
		t.Errorf("new user after change: %v", err)
	}
	// A broken file keeps the users last loaded.
	os.WriteFile(path, []byte(":nouser\n"), 0o600)
	os.Chtimes(path, time.Now().Add(2*time.Second), time.Now().Add(2*time.Second))
	if _, err := p.Check(ctx, Request{User: "b@example.com", Password: "three"}); err != nil {
		t.Errorf("after a broken reread: %v", err)
	}
	if err := p.Reload(); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("Reload of a broken file = %v, want an error naming the line", err)
	}
}

func TestOpen(t *testing.T) {
	for _, spec := range []string{"", "passwd-file:", "ldap:x", "passwd-file:/nonexistent/users"} {
		if _, err := Open(spec, nil); err == nil {
			t.Errorf("Open(%q) succeeded", spec)
		}
	}
}
