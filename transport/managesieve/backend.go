// Package managesieve is a ManageSieve server (RFC 5804): the protocol
// only. What a login checks and where scripts live is a [Backend]'s
// business, in the style of go-smtp: the server parses commands, keeps
// the session's state (TLS, authentication, limits) and writes responses,
// and calls the Backend's [Session] for every script operation.
//
// Responses follow Pigeonhole's managesieved (Dovecot 2.3): the same
// response codes and, where it matters to clients, the same texts.
package managesieve

import (
	"context"
	"errors"
	"net/netip"
)

// Backend logs users in.
type Backend interface {
	// Login checks a user's password (decoded from SASL PLAIN or LOGIN;
	// authzid is PLAIN's authorization identity, usually "") and returns
	// the user's Session. A wrong password or unknown user is an error
	// wrapping ErrAuthFailed; any other error is a temporary failure
	// (NO (TRYLATER)).
	Login(ctx context.Context, c ConnInfo, authzid, user, password string) (Session, error)
}

// ConnInfo describes a connection to the Backend.
type ConnInfo struct {
	// Remote is the client (from the PROXY header when there was one);
	// Local the address it connected to.
	Remote, Local netip.AddrPort
	// TLS is true once STARTTLS succeeded; Secured when TLS is on or
	// the client is in a trusted network (plaintext passwords allowed).
	TLS, Secured bool
}

// ErrAuthFailed is what [Backend.Login] wraps for a wrong password.
var ErrAuthFailed = errors.New("authentication failed")

// ScriptInfo is one entry of LISTSCRIPTS.
type ScriptInfo struct {
	Name   string
	Active bool
}

// Session is one logged-in user's view of their scripts. Its methods are
// called from one goroutine at a time. An error of type *[Error] is sent
// as it is (response code and text); any other is a temporary failure
// (NO (TRYLATER)) whose text is not shown to the client but logged.
type Session interface {
	// User is the name the user logged in as (for logs).
	User() string
	ListScripts(ctx context.Context) ([]ScriptInfo, error)
	GetScript(ctx context.Context, name string) ([]byte, error)
	// PutScript compiles and stores a script; warnings (Pigeonhole's
	// text, one per line) are sent with OK (WARNINGS).
	PutScript(ctx context.Context, name string, src []byte) (warnings string, err error)
	// CheckScript compiles a script without storing it.
	CheckScript(ctx context.Context, src []byte) (warnings string, err error)
	// HaveSpace reports whether a script of size bytes could be stored
	// under name.
	HaveSpace(ctx context.Context, name string, size int64) error
	// SetActive activates a script; "" deactivates the active one.
	SetActive(ctx context.Context, name string) error
	DeleteScript(ctx context.Context, name string) error
	RenameScript(ctx context.Context, from, to string) error
	// Close ends the session (LOGOUT, UNAUTHENTICATE, disconnect).
	Close() error
}

// Response codes (RFC 5804 section 1.3) a Session returns in an [Error].
const (
	CodeNonexistent   = "NONEXISTENT"
	CodeActive        = "ACTIVE"
	CodeAlreadyExists = "ALREADYEXISTS"
	CodeQuota         = "QUOTA"
	CodeQuotaMaxSize  = "QUOTA/MAXSIZE"
	CodeQuotaMaxCount = "QUOTA/MAXSCRIPTS"
	CodeWarnings      = "WARNINGS"
	CodeTryLater      = "TRYLATER"
	CodeEncryptNeeded = "ENCRYPT-NEEDED"
	CodeAuthFailed    = ""
)

// Error is a NO response: an optional response code and a human-readable
// text (sent as a literal when it has several lines).
type Error struct {
	Code string
	Text string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Text
	}
	return "(" + e.Code + ") " + e.Text
}
