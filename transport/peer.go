package transport

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net"
)

// UnixPeer is the client address of a unix socket connection: the
// socket and the connecting process's credentials, so a log line can say
// which local client (Postfix's lmtp, a script) delivered.
type UnixPeer struct {
	Path          string // the listening socket
	PID, UID, GID int
}

// Network implements net.Addr.
func (p *UnixPeer) Network() string { return "unix" }

// String is "unix:PATH pid=N uid=N gid=N".
func (p *UnixPeer) String() string {
	return fmt.Sprintf("unix:%s pid=%d uid=%d gid=%d", p.Path, p.PID, p.UID, p.GID)
}

// peerConn reports a unix socket client by its credentials.
type peerConn struct {
	net.Conn
	peer *UnixPeer
}

func (c *peerConn) RemoteAddr() net.Addr { return c.peer }

// withPeer wraps a freshly accepted unix connection so that its
// RemoteAddr names the client process.
func withPeer(c net.Conn) net.Conn {
	if p := peerCred(c); p != nil {
		return &peerConn{Conn: c, peer: p}
	}
	return c
}

// newSessionID returns a short random identifier for one LMTP session,
// logged with each recipient so a line matches the client's log.
func newSessionID() string {
	var b [10]byte
	rand.Read(b[:])
	return base32.StdEncoding.EncodeToString(b[:])
}
