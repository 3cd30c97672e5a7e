package transport

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fuzzServerModes are the PROXY setups FuzzServer picks from with the
// input's first byte.
var fuzzServerModes = []struct {
	proxy   ProxyMode
	trusted string
}{
	{ProxyOff, ""},
	{ProxyOptional, "127.0.0.0/8"}, // a header is required from us
	{ProxyOptional, "10.0.0.0/8"},  // we are untrusted: sniffed for a header
	{ProxyRequired, "127.0.0.0/8"},
}

// FuzzServer sends random bytes on an LMTP connection, behind each PROXY
// mode, and closes its sending side. The server must neither panic (the
// protocol recovers a command's panic and logs it) nor keep the
// connection open past its timeouts.
func FuzzServer(f *testing.F) {
	lmtp := "LHLO c.test\r\nMAIL FROM:<a@x.test> SIZE=20 BODY=8BITMIME SMTPUTF8\r\n" +
		"RCPT TO:<b@y.test> ORCPT=rfc822;b@y.test NOTIFY=NEVER\r\nRCPT TO:<c@y.test>\r\nDATA\r\n" +
		"Subject: hi\r\n\r\n..dot\r\n.\r\nRSET\r\nNOOP\r\nVRFY x\r\nHELP\r\nQUIT\r\n"
	bdat := "LHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@y>\r\nBDAT 4\r\nab\r\nBDAT 0 LAST\r\nBDAT 99999999999999999999\r\n"
	v1 := "PROXY TCP4 192.0.2.1 192.0.2.2 1234 24\r\n"
	v2 := "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00\x02\x01\xc0\x00\x02\x02\x04\xd2\x00\x18"
	for m := range fuzzServerModes {
		for _, s := range []string{"", lmtp, bdat, v1 + lmtp, v2 + lmtp, v1, "PROXY UNKNOWN\r\n" + bdat,
			"LHLO x\r\nMAIL FROM:<a@x> AUTH=<>\r\nRCPT TO:<\x00>\r\nSTARTTLS\r\nAUTH PLAIN\r\n*\r\n"} {
			f.Add(append([]byte{byte(m)}, s...))
		}
	}

	var addrs []string
	var logs []*panicLog
	for _, m := range fuzzServerModes {
		pl := &panicLog{}
		cfg := Config{Deliverer: &recorder{}, Proxy: m.proxy, Logger: slog.New(slog.NewTextHandler(pl, nil)), MaxMessageBytes: 1 << 16,
			MaxRecipients: 10, ReadTimeout: time.Second, WriteTimeout: time.Second, ProxyTimeout: 300 * time.Millisecond}
		if m.trusted != "" {
			cfg.ProxyTrusted = []netip.Prefix{netip.MustParsePrefix(m.trusted)}
		}
		_, addr := startServer(f, cfg)
		addrs = append(addrs, addr)
		logs = append(logs, pl)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		m := int(in[0]) % len(fuzzServerModes)
		c, err := net.Dial("tcp", addrs[m])
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Longer than any of the server's timeouts: a connection still open
		// after this is a hang.
		c.SetDeadline(time.Now().Add(5 * time.Second))
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, c)
			done <- err
		}()
		// The server may close before reading everything; a write error is
		// no failure.
		if _, err := c.Write(in[1:]); err == nil {
			c.(*net.TCPConn).CloseWrite()
		}
		// A reset (the server closed with our bytes unread) is fine; a
		// timeout is not.
		var ne net.Error
		if err := <-done; errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("mode %d: connection not closed by the server: %v", m, err)
		}
		if s := logs[m].take(); s != "" {
			t.Fatalf("mode %d: server panicked:\n%s", m, s)
		}
	})
}

// panicLog keeps the log records that tell of a panic and drops the rest.
type panicLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (p *panicLog) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "panic") {
		p.mu.Lock()
		p.b.Write(b)
		p.mu.Unlock()
	}
	return len(b), nil
}

// take returns and forgets what was kept.
func (p *panicLog) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.b.String()
	p.b.Reset()
	return s
}
