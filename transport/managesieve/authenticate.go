package managesieve

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
)

// credentials are what a plaintext SASL exchange yielded.
type credentials struct{ authzid, user, pass string }

// newMechanism returns the SASL server for a mechanism (PLAIN or LOGIN),
// which fills in cr.
func newMechanism(name string, cr *credentials) sasl.Server {
	switch name {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			*cr = credentials{identity, username, password}
			return nil
		})
	case sasl.Login:
		return &loginServer{cr: cr}
	}
	return nil
}

// loginServer is the LOGIN mechanism (draft-murchison-sasl-login), which
// go-sasl only has a client for: "Username:", then "Password:".
type loginServer struct {
	cr   *credentials
	step int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough // an initial response is the user name
	case 1:
		l.cr.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.cr.pass = string(resp)
		l.step++
		return nil, true, nil
	}
	return nil, false, errors.New("unexpected response")
}

// authenticate runs AUTHENTICATE; it returns false when the session ends.
func (c *conn) authenticate(args []arg) bool {
	s, ok := c.strArgs("AUTHENTICATE", args, 1, 2)
	if !ok {
		return false
	}
	if s == nil {
		return true
	}
	mech := strings.ToUpper(s[0])
	var cr credentials
	m := newMechanism(mech, &cr)
	if m == nil {
		return c.reply("NO", "", "Unsupported authentication mechanism.") == nil
	}
	if !c.secured() {
		return c.reply("NO", CodeEncryptNeeded, "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.") == nil
	}
	var resp []byte
	if len(s) == 2 {
		var err error
		if resp, err = base64.StdEncoding.DecodeString(s[1]); err != nil {
			return c.reply("NO", "", "Invalid base64 data in initial response") == nil
		}
	}
	for step := 0; ; step++ {
		challenge, done, err := m.Next(resp)
		if err != nil {
			return c.authFailed(mech, cr.user)
		}
		if done {
			break
		}
		if step > 4 {
			return c.authFailed(mech, cr.user)
		}
		c.bw.WriteString(quote(base64.StdEncoding.EncodeToString(challenge)) + "\r\n")
		if c.flush() != nil {
			return false
		}
		line, err := c.r.line()
		var pe *protocolError
		switch {
		case errors.As(err, &pe):
			return c.reply("NO", "", "Invalid AUTHENTICATE client response.") == nil
		case err != nil:
			return false
		}
		// The response is one string (quoted or a literal).
		if len(line) != 1 || !line[0].isString() {
			return c.reply("NO", "", "Invalid AUTHENTICATE client response.") == nil
		}
		if line[0].s == "*" {
			return c.reply("NO", "", "Authentication aborted by client.") == nil
		}
		if resp, err = base64.StdEncoding.DecodeString(line[0].s); err != nil {
			return c.reply("NO", "", "Invalid base64 data in continued response") == nil
		}
	}
	sess, err := c.srv.cfg.Backend.Login(c.ctx(), c.info(), cr.authzid, cr.user, cr.pass)
	cr.pass = ""
	if errors.Is(err, ErrAuthFailed) {
		return c.authFailed(mech, cr.user)
	}
	if err != nil {
		c.srv.log.Error("managesieve: login failed: authentication backend unavailable", c.logAttrs("user", cr.user, "error", err)...)
		return c.reply("NO", CodeTryLater, "Temporary authentication failure.") == nil
	}
	c.sess = sess
	c.authFails, c.bad = 0, 0
	c.srv.log.Info("managesieve: login", c.logAttrs("method", mech, "tls", c.tls)...)
	return c.reply("OK", "", "Logged in.") == nil
}

// authFailed answers a failed login after the failure delay; it returns
// false when the session ends.
func (c *conn) authFailed(mech, user string) bool {
	c.srv.authFailed.Add(1)
	c.authFails++
	c.srv.log.Info("managesieve: authentication failed", c.logAttrs("method", mech, "login", user, "attempts", c.authFails)...)
	select {
	case <-time.After(c.srv.cfg.AuthFailDelay):
	case <-c.srv.ctx.Done():
		return false
	}
	if c.authFails >= c.srv.cfg.MaxAuthFails {
		c.reply("BYE", "", fmt.Sprintf("Too many authentication failures (%d).", c.authFails))
		return false
	}
	return c.reply("NO", "", "Authentication failed.") == nil
}
