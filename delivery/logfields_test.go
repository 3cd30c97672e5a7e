package delivery

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/vacationd/vacationd/transport"
)

// The recipient line carries what matches it with the client's log: the
// session, Message-ID, size and the client's queue id (from its Received
// field), and a unix socket client by its process; a reply is "queued",
// never "sent", at this point.
func TestRecipientLogLine(t *testing.T) {
	var logs strings.Builder
	f := newFixture(t, map[string]string{"example.com/bob.sieve": vacationScript}, nil)
	f.svc.log = slog.New(slog.NewTextHandler(&logs, nil))
	msg := "Received: from mail.example.org (mail.example.org [192.0.2.1])\r\n" +
		"\tby mx.example.com (Postfix) with ESMTPS id 4F1Bc2Yq3Tz9\r\n\tfor <bob@example.com>; Mon, 30 Nov 2026 10:00:00 +0000\r\n" +
		"Received: from older.example.net by mail.example.org with SMTP id OLDER; Mon, 30 Nov 2026 09:59:00 +0000\r\n" + testMsg
	env := &transport.Envelope{
		From: "alice@example.org", SessionID: "SESSION42", ClientHost: "mx.example.com",
		ClientAddr: &transport.UnixPeer{Path: "/run/vacationd/lmtp.sock", PID: 77, UID: 108, GID: 115},
		Recipients: []transport.Recipient{{Addr: "bob@example.com"}},
	}
	if st := f.svc.Deliver(context.Background(), env, []byte(msg)); !st[0].OK() {
		t.Fatalf("status %v", st[0])
	}
	line := logs.String()
	for _, want := range []string{
		"session=SESSION42", `client="unix:/run/vacationd/lmtp.sock pid=77 uid=108 gid=115"`, "helo=mx.example.com",
		"queue_id=4F1Bc2Yq3Tz9", "message_id=<m1@example.org>", "size=" + strconv.Itoa(len(msg)), "vacation=queued",
		`status="250 2.0.0 SESSION42 Ok"`,
	} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s:\n%s", want, line)
		}
	}
	if f.svc.metrics.Decisions.Value("queued") != 1 || f.svc.metrics.Decisions.Value("sent") != 0 {
		t.Errorf("decisions: queued %d sent %d", f.svc.metrics.Decisions.Value("queued"), f.svc.metrics.Decisions.Value("sent"))
	}
}
