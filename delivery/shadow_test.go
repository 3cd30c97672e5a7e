package delivery

import (
	"net"
	"testing"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

func TestShadowView(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 40, 35, 0, time.UTC)
	sh := &Shadow{Trace: DovecotTrace("mx.example.test", func() time.Time { return now })}
	env := &transport.Envelope{From: "henry@internet.example", ClientHost: "mx.example.test\r",
		ClientAddr: &net.TCPAddr{IP: net.IPv4(192, 168, 203, 10), Port: 41000}}
	raw := []byte("Received: from client (unknown [127.0.0.1])\r\n\tby mx.example.test (Postfix) with ESMTP id 9AE\r\n\tfor <bob@example.test>; Mon, 30 Nov 2026 10:40:35 +0000\r\nSubject: hi\r\n\r\nbody\r\n")
	msg := sieve.ParseMessage(raw)
	seen := sh.view(env, transport.Recipient{Addr: "bob+x@example.test"}, msg)
	got := seen.Header("Received")
	want := "from mx.example.test? ([192.168.203.10]) by mx.example.test with LMTP (envelope-from <henry@internet.example>) for <bob+x@example.test>; Mon, 30 Nov 2026 10:40:35 +0000"
	if len(got) != 2 || got[0] != want || got[1] != msg.Header("Received")[0] {
		t.Fatalf("Received fields seen:\n%q\nwant Dovecot's\n%q\nthen Postfix's", got, want)
	}
	if string(msg.Raw()) != string(raw) || string(seen.Body) != "body\r\n" {
		t.Fatal("the message as received changed")
	}
}

func TestShadowEffects(t *testing.T) {
	sh := &Shadow{DecisionTTL: time.Hour}
	now := time.Now()
	msg := sieve.ParseMessage([]byte("Message-ID: <m1@x>\r\n\r\n"))
	vac := &store.OutboxRecord{Kind: store.KindVacation}
	res := &Result{
		Records:  []*store.OutboxRecord{{Kind: store.KindRedirect}, vac},
		Vacation: map[*sieve.Vacation]VacationResult{{}: {Reason: "sent"}},
	}
	sh.effects(res, "bob@example.test", "henry@internet.example", msg, now)
	if len(res.Records) != 1 || res.Records[0] != vac {
		t.Errorf("records %v: want only the vacation reply (Dovecot redirects itself)", res.Records)
	}
	want := decisionKey("bob@example.test", "<m1@x>", "")
	if len(res.Marks) != 1 || res.Marks[0].Key != want || !res.Marks[0].Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("marks %+v: want the decision mark %+v for an hour", res.Marks, want)
	}
	res = &Result{}
	sh.effects(res, "bob@example.test", "henry@internet.example", msg, now)
	if len(res.Marks) != 0 {
		t.Error("a decision mark without a vacation action")
	}
}
