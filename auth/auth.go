// Package auth checks users' passwords for ManageSieve (and any other front
// door that logs users in). A [Checker] is chosen with a spec string (see
// [Open]): Dovecot's passwd-file format, or an existing Dovecot's auth
// service over its auth-client socket.
//
// No password, and no part of a hash, ever appears in an error or a log
// line produced by this package.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
)

// ErrFailed means the user is unknown or the password is wrong. Any other
// error from [Checker.Check] means the backend could not answer (a
// temporary failure).
var ErrFailed = errors.New("authentication failed")

// Request is one login attempt.
type Request struct {
	// User is the login name as the client sent it; Password its
	// password.
	User, Password string
	// Service names the protocol for backends that care ("sieve").
	Service string
	// Remote and Local are the client's and the server's addresses, when
	// known.
	Remote, Local netip.Addr
	// Secured is true when the connection is encrypted or the client is
	// trusted, so a plaintext password may be used.
	Secured bool
}

// A Checker checks passwords. Implementations are safe for concurrent use.
type Checker interface {
	// Check returns the user's canonical name when the password is right,
	// an error wrapping ErrFailed when it is not (or the user is unknown),
	// and any other error when the backend is unavailable.
	Check(ctx context.Context, r Request) (string, error)
}

// A Reloader rereads its configuration (an operator's SIGHUP).
type Reloader interface {
	Reload() error
}

// Open returns the Checker a spec names:
//
//	passwd-file:PATH    Dovecot's passwd-file (see [PasswdFile])
//	dovecot:SOCKET      Dovecot's auth-client socket (see [Dovecot])
func Open(spec string, log *slog.Logger) (Checker, error) {
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" {
		return nil, fmt.Errorf("--auth %q: want passwd-file:PATH or dovecot:SOCKET", spec)
	}
	switch kind {
	case "passwd-file":
		return OpenPasswdFile(arg, log)
	case "dovecot":
		return &Dovecot{Socket: arg}, nil
	}
	return nil, fmt.Errorf("--auth %q: unknown backend %q (want passwd-file or dovecot)", spec, kind)
}
