//go:build !linux

package transport

import "net"

// peerCred is only implemented on Linux.
func peerCred(net.Conn) *UnixPeer { return nil }
