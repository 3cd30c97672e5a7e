//go:build linux

package transport

import (
	"net"

	"golang.org/x/sys/unix"
)

// peerCred returns the credentials of the process at the other end of a
// unix socket (SO_PEERCRED), or nil.
func peerCred(c net.Conn) *UnixPeer {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	var cred *unix.Ucred
	rc.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil || cred == nil {
		return nil
	}
	return &UnixPeer{Path: uc.LocalAddr().String(), PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}
}
