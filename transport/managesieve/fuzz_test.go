package managesieve

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// FuzzSession feeds arbitrary client bytes to a whole session (parser,
// SASL, every command against an in-memory backend): the server must
// neither panic nor hang, whatever arrives.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"CAPABILITY\r\nLOGOUT\r\n",
		"AUTHENTICATE \"PLAIN\" \"AGFsaWNlAHB3\"\r\nPUTSCRIPT \"a\" {5+}\r\nkeep;\r\nSETACTIVE \"a\"\r\nLISTSCRIPTS\r\n",
		"AUTHENTICATE \"LOGIN\"\r\n\"YWxpY2U=\"\r\n{4}\r\ncHc=\r\nGETSCRIPT \"a\"\r\n",
		"PUTSCRIPT \"a\" {99999999999999999999+}\r\n",
		"NOOP \"unterminated\r\nNOOP \"\\x\"\r\n{3}\r\nabc\r\n\"\x00\"\r\n",
		"AUTHENTICATE \"PLAIN\"\r\n*\r\n\"*\"\r\nHAVESPACE \"x\" 99999999999999999999999\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b := &memBackend{scripts: map[string]string{}}
		s, err := NewServer(Config{Backend: b, AuthFailDelay: time.Microsecond, MaxScriptSize: 1 << 10, MaxLine: 1 << 10,
			IdleTimeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			s.serveConn(&tcpLike{server})
			close(done)
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		client.Write(in)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("session did not end after the client closed")
		}
	})
}

// tcpLike gives a pipe end TCP addresses (loopback: plaintext allowed).
type tcpLike struct{ net.Conn }

func (tcpLike) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (tcpLike) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4190} }
