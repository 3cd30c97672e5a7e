package transport

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// ListenOptions set the file attributes of a unix socket [ListenWith]
// creates, so that a client running as another user (Postfix's lmtp
// client runs as postfix) may connect: connecting needs write permission
// on the socket file. They are ignored for TCP addresses.
type ListenOptions struct {
	// Mode, when not 0, is the socket file's permission bits, e.g. 0660.
	// When 0 the file keeps what the umask leaves (usually 0755: only its
	// owner can connect).
	Mode os.FileMode
	// Owner and Group, when not "", are the user and group owning the
	// socket file, by name or number. Changing the owner needs root;
	// changing the group needs root or membership of the group.
	Owner, Group string
}

// Listen is [ListenWith] without options.
func Listen(addr string) (net.Listener, error) {
	return ListenWith(addr, ListenOptions{})
}

// ListenWith opens a listener for addr: "unix:PATH" for a unix socket (a
// stale socket file left by a previous run is removed first; o sets its
// owner, group and mode before it is returned), else a TCP "host:port".
func ListenWith(addr string, o ListenOptions) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		uid, gid, err := o.ids()
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if c, err := net.Dial("unix", path); err == nil {
				c.Close()
				return nil, fmt.Errorf("listen %s: socket in use", addr)
			}
			os.Remove(path)
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		if uid >= 0 || gid >= 0 {
			if err := os.Lchown(path, uid, gid); err != nil {
				l.Close()
				return nil, fmt.Errorf("listen %s: socket owner %q group %q: %w", addr, o.Owner, o.Group, err)
			}
		}
		if o.Mode != 0 {
			if err := os.Chmod(path, o.Mode.Perm()); err != nil {
				l.Close()
				return nil, fmt.Errorf("listen %s: socket mode %#o: %w", addr, o.Mode.Perm(), err)
			}
		}
		return l, nil
	}
	// No TCP keep-alive: LMTP sessions are short and bounded by read
	// timeouts, and enabling it costs four setsockopt calls a connection.
	lc := net.ListenConfig{KeepAlive: -1}
	l, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return l, nil
}

// ids resolves Owner and Group to numbers; -1 stands for "unchanged".
func (o ListenOptions) ids() (uid, gid int, err error) {
	uid, gid = -1, -1
	if o.Owner != "" {
		if uid, err = lookupID(o.Owner, func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		}); err != nil {
			return -1, -1, fmt.Errorf("socket owner %q: %w", o.Owner, err)
		}
	}
	if o.Group != "" {
		if gid, err = lookupID(o.Group, func(n string) (string, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		}); err != nil {
			return -1, -1, fmt.Errorf("socket group %q: %w", o.Group, err)
		}
	}
	return uid, gid, nil
}

// lookupID takes a number as it is and looks a name up.
func lookupID(s string, lookup func(string) (string, error)) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	id, err := lookup(s)
	if err != nil {
		return -1, err
	}
	return strconv.Atoi(id)
}
