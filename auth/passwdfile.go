package auth

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// PasswdFile checks passwords against a file in Dovecot's passwd-file
// format: one "user:{SCHEME}hash:uid:gid:gecos:home:shell:extra" per line
// (only the first two fields are used; '#' starts a comment line). See
// verify for the schemes.
//
// The file is reread when its size or modification time changes (checked
// at each login) and on [PasswdFile.Reload]. A file that cannot be read
// or parsed at a reread keeps the users last loaded, and the error is
// logged (once per change).
type PasswdFile struct {
	path string
	log  *slog.Logger

	mu    sync.Mutex
	users map[string]string // lower-case user -> password field
	mod   time.Time
	size  int64
	bad   string // the last reread error logged

	// slots bounds the hash verifications running at once: ARGON2ID as
	// Dovecot writes it costs 64 MiB and ~0.2 s of CPU per login.
	slots chan struct{}
}

// OpenPasswdFile loads path; an unreadable or malformed file is an error.
func OpenPasswdFile(path string, log *slog.Logger) (*PasswdFile, error) {
	if log == nil {
		log = slog.Default()
	}
	p := &PasswdFile{path: path, log: log, slots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	if err := p.Reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// Reload rereads the file now.
func (p *PasswdFile) Reload() error {
	st, err := os.Stat(p.path)
	if err != nil {
		return fmt.Errorf("passwd-file: %w", err)
	}
	data, err := os.ReadFile(p.path)
	if err != nil {
		return fmt.Errorf("passwd-file: %w", err)
	}
	users, err := parsePasswdFile(p.path, data)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.users, p.mod, p.size, p.bad = users, st.ModTime(), st.Size(), ""
	p.mu.Unlock()
	return nil
}

func parsePasswdFile(path string, data []byte) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, rest, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%s:%d: want user:password:..., found no user field", path, n)
		}
		pass, _, _ := strings.Cut(rest, ":")
		users[strings.ToLower(user)] = pass
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return users, nil
}

// refresh rereads the file if it changed since the last load.
func (p *PasswdFile) refresh() {
	st, err := os.Stat(p.path)
	p.mu.Lock()
	changed := err != nil || !st.ModTime().Equal(p.mod) || st.Size() != p.size
	p.mu.Unlock()
	if !changed {
		return
	}
	if err := p.Reload(); err != nil {
		p.mu.Lock()
		report := err.Error() != p.bad
		p.bad = err.Error()
		p.mu.Unlock()
		if report {
			p.log.Error("passwd-file not reloaded; keeping the users last loaded", "error", err)
		}
	}
}

// Check implements [Checker].
func (p *PasswdFile) Check(ctx context.Context, r Request) (string, error) {
	p.refresh()
	p.mu.Lock()
	stored, ok := p.users[strings.ToLower(r.User)]
	p.mu.Unlock()
	if !ok {
		// The same work as for a known user would not hide much with
		// per-scheme costs; the server's failure delay does.
		return "", fmt.Errorf("user %q: %w", r.User, ErrFailed)
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	good, err := verify(stored, r.Password)
	<-p.slots
	if err != nil {
		return "", fmt.Errorf("passwd-file %s, user %q: %w", p.path, r.User, err)
	}
	if !good {
		return "", fmt.Errorf("user %q: %w", r.User, ErrFailed)
	}
	return strings.ToLower(r.User), nil
}
