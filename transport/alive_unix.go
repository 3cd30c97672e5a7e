//go:build unix

package transport

import (
	"net"
	"syscall"
)

// alive reports whether the server has neither closed an idle session nor
// written to it (a 421 before closing), without a round trip: a
// non-blocking peek at the socket finds nothing to read. Connections that
// are not sockets count as alive.
func alive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = true
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true // never wait for the socket to become readable
	})
	return err == nil && ok
}
