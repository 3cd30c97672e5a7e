package scripts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vacationd/vacationd/auth"
	"github.com/vacationd/vacationd/transport/managesieve"
)

// SieveBackend is the ManageSieve server's backend: logins go to an
// [auth.Checker], script commands to a [Manager] for the logged-in
// user (the checker's canonical name, in lower case, which is the name
// delivery looks scripts up by).
type SieveBackend struct {
	Manager *Manager
	Auth    auth.Checker
}

// Login implements [managesieve.Backend].
func (b *SieveBackend) Login(ctx context.Context, c managesieve.ConnInfo, authzid, user, password string) (managesieve.Session, error) {
	if authzid != "" && !strings.EqualFold(authzid, user) {
		// No one logs in on behalf of another user.
		return nil, fmt.Errorf("authorization identity %q differs from %q: %w", authzid, user, managesieve.ErrAuthFailed)
	}
	name, err := b.Auth.Check(ctx, auth.Request{
		User: user, Password: password, Service: "sieve",
		Remote: c.Remote.Addr(), Local: c.Local.Addr(), Secured: c.Secured,
	})
	if errors.Is(err, auth.ErrFailed) {
		return nil, fmt.Errorf("%w: %w", managesieve.ErrAuthFailed, err)
	}
	if err != nil {
		return nil, err
	}
	return &sieveSession{m: b.Manager, user: strings.ToLower(name)}, nil
}

// sieveSession is one user's ManageSieve session.
type sieveSession struct {
	m    *Manager
	user string
}

// protoErr turns a Manager's *Error into the protocol's.
func protoErr(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &managesieve.Error{Code: e.Code, Text: e.Msg}
	}
	return err
}

func (s *sieveSession) User() string { return s.user }

func (s *sieveSession) ListScripts(context.Context) ([]managesieve.ScriptInfo, error) {
	list, err := s.m.List(s.user)
	if err != nil {
		return nil, err
	}
	out := make([]managesieve.ScriptInfo, len(list))
	for i, sc := range list {
		out[i] = managesieve.ScriptInfo{Name: sc.Name, Active: sc.Active}
	}
	return out, nil
}

func (s *sieveSession) GetScript(_ context.Context, name string) ([]byte, error) {
	sc, err := s.m.Get(s.user, name)
	return sc.Source, protoErr(err)
}

func (s *sieveSession) PutScript(_ context.Context, name string, src []byte) (string, error) {
	w, err := s.m.Put(s.user, name, src)
	return w, protoErr(err)
}

func (s *sieveSession) CheckScript(_ context.Context, src []byte) (string, error) {
	w, err := s.m.Check(s.user, "", src)
	return w, protoErr(err)
}

func (s *sieveSession) HaveSpace(_ context.Context, name string, size int64) error {
	return protoErr(s.m.HaveSpace(s.user, name, size))
}

func (s *sieveSession) SetActive(_ context.Context, name string) error {
	return protoErr(s.m.Activate(s.user, name))
}

func (s *sieveSession) DeleteScript(_ context.Context, name string) error {
	return protoErr(s.m.Delete(s.user, name))
}

func (s *sieveSession) RenameScript(_ context.Context, from, to string) error {
	return protoErr(s.m.Rename(s.user, from, to))
}

func (s *sieveSession) Close() error { return nil }
