package transport_test

import (
	"context"
	"log"
	"net/netip"
	"time"

	"github.com/vacationd/vacationd/transport"
)

// The LMTP endpoint behind HAProxy: every recipient is accepted once the
// policy has done its work.
func ExampleServer() {
	policy := transport.DelivererFunc(func(ctx context.Context, env *transport.Envelope, msg []byte) []transport.Status {
		st := make([]transport.Status, len(env.Recipients))
		for i := range st {
			// ... run the recipient's script, commit its effects ...
			st[i] = transport.StatusOK("2.0.0 Ok")
		}
		return st
	})
	srv, err := transport.NewServer(transport.Config{
		Deliverer:    policy,
		Proxy:        transport.ProxyRequired,
		ProxyTrusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		log.Fatal(err)
	}
	l, err := transport.Listen("127.0.0.1:2424") // or "unix:/run/vacationd/lmtp"
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(l)
	// ... on SIGTERM:
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// Sending a vacation reply through a relay behind a PROXY-only port.
func ExampleSender() {
	s, err := transport.NewSender(transport.SenderConfig{
		Addr:     "mail.example.com:25",
		Proxy:    transport.ProxyHeaderV2,
		AuthUser: "vacation", AuthPassword: "secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	err = s.Send(context.Background(), "", []string{"alice@example.org"}, []byte("Subject: Away\r\n\r\nI am away.\r\n"))
	if transport.IsTemporary(err) {
		// keep the outbox record and retry later
	} else if err != nil {
		// drop it with a log line: never bounce an auto-reply
	}
}

// Forwarding a kept message to Dovecot and answering per recipient.
func ExampleForwarder() {
	f, err := transport.NewForwarder(transport.ForwarderConfig{Target: "lmtp:unix:/run/dovecot/lmtp"})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st := f.Forward(context.Background(), "bob@example.org",
		[]transport.Recipient{{Addr: "alice@example.com"}, {Addr: "carol@example.com"}},
		"Received: from mx.example.com by vacationd with LMTP; Thu, 26 Nov 2026 21:00:00 +0000", []byte("Subject: hi\r\n\r\nhello\r\n"))
	for _, s := range st {
		log.Println(s) // e.g. "250 2.0.0 <alice@example.com> Saved", "451 4.2.0 ..."
	}
}
