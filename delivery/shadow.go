package delivery

import (
	"fmt"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

// Shadow configures a service whose downstream runs the same scripts
// again: Mailu's Dovecot runs the admin's script as sieve_before on every
// message vacationd forwards. vacationd then sends only the vacation
// replies, and leaves everything else to the downstream:
//
//   - The scripts see the message as the downstream's Sieve will: with
//     the Trace field in front (Dovecot's LMTP prepends its Received field
//     before Sieve runs, which shifts header :index).
//   - Every recipient whose scripts ran is forwarded the message as
//     received, byte for byte, whatever the scripts did besides vacation
//     (fileinto, editheader, discard, reject, redirect are the
//     downstream's to perform). Only vacation replies are queued.
//   - Each vacation decision, whatever it was, is recorded with the
//     recipient's commit (a [DecisionMark]), so the submission listener
//     drops the downstream's own reply to the same message.
type Shadow struct {
	// Trace returns the header field, name and value without the line
	// break, that the downstream prepends before its Sieve runs; nil or ""
	// for none.
	Trace func(env *transport.Envelope, rc transport.Recipient) string
	// DecisionTTL is how long decision marks are kept
	// (0: DefaultDecisionTTL).
	DecisionTTL time.Duration
}

// view is the message as the downstream's Sieve sees it for rc.
func (sh *Shadow) view(env *transport.Envelope, rc transport.Recipient, msg *sieve.Message) *sieve.Message {
	if sh.Trace == nil {
		return msg
	}
	f := sh.Trace(env, rc)
	if f == "" {
		return msg
	}
	p := sieve.ParseMessage([]byte(f + "\r\n\r\n"))
	return msg.WithFields(append(p.Fields, msg.Fields...))
}

// effects keeps only the vacation effects of res and adds the decision
// marks; msg is the message as received.
func (sh *Shadow) effects(res *Result, user, from string, msg *sieve.Message, now time.Time) {
	recs := res.Records[:0:0]
	for _, r := range res.Records {
		if r.Kind == store.KindVacation {
			recs = append(recs, r)
		}
	}
	res.Records = recs
	if len(res.Vacation) > 0 {
		ttl := sh.DecisionTTL
		if ttl <= 0 {
			ttl = DefaultDecisionTTL
		}
		res.Marks = append(res.Marks, DecisionMark(user, from, msg, now, ttl))
	}
}

// DovecotTrace returns a Shadow.Trace writing the Received field
// Dovecot's LMTP (2.3) prepends, for a Dovecot named hostname:
//
//	Received: from <LHLO name> ([<client IP>])
//		by <hostname> with LMTP
//		(envelope-from <sender>)
//		for <recipient>; <date>
func DovecotTrace(hostname string, now func() time.Time) func(*transport.Envelope, transport.Recipient) string {
	if now == nil {
		now = time.Now
	}
	return func(env *transport.Envelope, rc transport.Recipient) string {
		helo, ip := clientNames(env)
		return fmt.Sprintf("Received: from %s ([%s])\r\n\tby %s with LMTP\r\n\t(envelope-from <%s>)\r\n\tfor <%s>; %s",
			helo, ip, hostname, printable(env.From), printable(rc.Addr), now().Format(time.RFC1123Z))
	}
}
