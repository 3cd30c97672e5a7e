package transport

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestAllowFrom(t *testing.T) {
	for _, c := range []struct {
		allowed string
		want    bool
	}{
		{"127.0.0.0/8", true},
		{"10.0.0.0/8", false},
		{"", true},
	} {
		var prefixes []netip.Prefix
		if c.allowed != "" {
			prefixes = []netip.Prefix{netip.MustParsePrefix(c.allowed)}
		}
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l := AllowFrom(raw, prefixes, nil)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("220 hi\r\n"))
				c.Close()
			}
		}()
		conn, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(conn)
		conn.Close()
		l.Close()
		if got := string(b) == "220 hi\r\n"; got != c.want {
			t.Errorf("allowed %q: served %v (%q), want %v", c.allowed, got, b, c.want)
		}
		// A refused client is told why (Postfix logs the reply, where a
		// bare close reads "lost connection ... initial server greeting").
		if want := "421 4.7.0 Client address not allowed, closing connection\r\n"; !c.want && string(b) != want {
			t.Errorf("allowed %q: refused with %q, want %q", c.allowed, b, want)
		}
	}
}
