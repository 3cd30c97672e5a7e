package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/metrics"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

// decidedSender is the sender field of the dedup marks recording that
// vacationd made the vacation decision for a message; no envelope sender
// has this form, so they never mix with reply marks.
const decidedSender = "<vacation-decided>"

// DefaultDecisionTTL is how long a decision mark is kept: far longer than
// the LMTP transaction in which Dovecot runs the same script and submits
// its own reply.
const DefaultDecisionTTL = 24 * time.Hour

// decisionKey is the dedup key of user's decision for the message whose
// Message-ID field is msgID (by the sender the reply goes to when the
// message has no msg-id: Pigeonhole's reply then has no In-Reply-To).
func decisionKey(user, msgID, sender string) store.DedupKey {
	if id := vacation.MessageID(msgID); id != "" {
		return store.DedupKey{User: user, Sender: decidedSender, Handle: "msgid:" + id}
	}
	return store.DedupKey{User: user, Sender: decidedSender, Handle: "sender:" + lockSender(sender)}
}

// DecisionMark records that vacationd decided user's vacation action for
// msg from envelope sender from, whatever the decision was, so the
// submission listener drops Dovecot's reply to the same message.
func DecisionMark(user, from string, msg *sieve.Message, now time.Time, ttl time.Duration) store.Mark {
	id := ""
	if v := msg.Header("Message-ID"); len(v) > 0 {
		id = v[0]
	}
	return store.Mark{Key: decisionKey(user, id, from), Created: now, Expires: now.Add(ttl)}
}

// SubmissionConfig configures a [Submission].
type SubmissionConfig struct {
	// State holds the decision marks and the outbox. Required.
	State State
	// Allowed are the client networks that may submit (Mailu's SUBNET
	// and the trusted networks); unix socket peers are always allowed,
	// and with none given no TCP client is.
	Allowed []netip.Prefix
	// RecipientDelimiter cuts the detail from the reply's sender.
	RecipientDelimiter string
	Logger             *slog.Logger
	Metrics            *SubmissionMetrics
	Now                func() time.Time
}

// SubmissionMetrics count the submission listener's messages.
type SubmissionMetrics struct {
	Messages *metrics.Counter // by outcome: queued, dropped, refused, tempfail
}

// NewSubmissionMetrics registers the submission metrics in r.
func NewSubmissionMetrics(r prometheus.Registerer) *SubmissionMetrics {
	return &SubmissionMetrics{Messages: metrics.NewCounter(r, "vacationd_submission_messages_total",
		"Messages submitted to the submission listener by outcome (dropped: a duplicate of a vacation reply vacationd decided).", "outcome")}
}

// Submission is the [transport.Deliverer] behind the SMTP listener that
// Dovecot uses as its submission_host in the Mailu profile. Dovecot runs
// the same script as vacationd, so:
//
//   - A Pigeonhole vacation reply (Auto-Submitted: auto-replied
//     (vacation)) to a message whose vacation decision vacationd already
//     made (a [DecisionMark] for the reply's sender without detail and its
//     In-Reply-To) is dropped: accepted and counted, never sent.
//   - Everything else (redirects from personal scripts, notifications,
//     vacation replies vacationd did not decide) is queued durably in the
//     outbox before it is accepted, and relayed like vacationd's replies.
type Submission struct {
	cfg SubmissionConfig
}

// NewSubmission checks cfg and returns the deliverer.
func NewSubmission(cfg SubmissionConfig) (*Submission, error) {
	if cfg.State == nil {
		return nil, errors.New("submission: State is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewSubmissionMetrics(nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Submission{cfg: cfg}, nil
}

var errNotAllowed = transport.Status{Code: 554, Enhanced: [3]int{5, 7, 1}, Message: "Relay access denied: client not in the allowed networks"}

// allowed reports whether a client may submit.
func (s *Submission) allowed(a net.Addr) bool { return transport.Allowed(a, s.cfg.Allowed) }

// CheckRcpt implements transport.RcptChecker: clients outside the allowed
// networks cannot name a recipient.
func (s *Submission) CheckRcpt(_ context.Context, env *transport.Envelope, _ transport.Recipient) *transport.Status {
	if !s.allowed(env.ClientAddr) {
		s.cfg.Logger.Warn("submission refused", "client", addrString(env.ClientAddr), "from", env.From)
		s.cfg.Metrics.Messages.Inc("refused")
		st := errNotAllowed
		return &st
	}
	return nil
}

// Deliver implements transport.Deliverer.
func (s *Submission) Deliver(ctx context.Context, env *transport.Envelope, raw []byte) []transport.Status {
	all := func(st transport.Status) []transport.Status {
		out := make([]transport.Status, len(env.Recipients))
		for i := range out {
			out[i] = st
		}
		return out
	}
	if !s.allowed(env.ClientAddr) || len(env.Recipients) == 0 {
		return all(errNotAllowed)
	}
	to := make([]string, len(env.Recipients))
	for i, r := range env.Recipients {
		to[i] = r.Addr
	}
	user := UserKey(env.From, s.cfg.RecipientDelimiter)
	msg := sieve.ParseMessage(raw)
	if isVacationReply(msg) && len(to) == 1 {
		irt := ""
		if v := msg.Header("In-Reply-To"); len(v) > 0 {
			irt = v[0]
		}
		k := decisionKey(user, irt, to[0])
		seen, err := s.cfg.State.Seen(ctx, k, s.cfg.Now())
		if err != nil {
			s.cfg.Logger.Error("submission: decision lookup", "from", env.From, "to", to, "error", err)
			s.cfg.Metrics.Messages.Inc("tempfail")
			return all(transport.StatusTempFail("Temporary failure looking up the vacation decision"))
		}
		if seen {
			s.cfg.Logger.Info("submission: dropped Dovecot's vacation reply; vacationd decided this one",
				"from", env.From, "to", to[0], "in_reply_to", strings.TrimPrefix(k.Handle, "msgid:"))
			s.cfg.Metrics.Messages.Inc("dropped")
			return all(transport.StatusOK("2.0.0 Ok: duplicate vacation reply dropped"))
		}
	}
	rec := &store.OutboxRecord{From: env.From, To: to, Message: raw, Kind: store.KindSubmission, User: user}
	if err := s.cfg.State.Commit(ctx, nil, []*store.OutboxRecord{rec}); err != nil {
		s.cfg.Logger.Error("submission: queue", "from", env.From, "to", to, "error", err)
		s.cfg.Metrics.Messages.Inc("tempfail")
		if errors.Is(err, store.ErrInvalid) {
			return all(transport.Status{Code: 554, Enhanced: [3]int{5, 6, 0}, Message: "Message cannot be queued: " + err.Error()})
		}
		return all(transport.StatusTempFail("Temporary failure queueing the message"))
	}
	s.cfg.Logger.Info("submission: queued", "id", rec.ID, "from", env.From, "to", to)
	s.cfg.Metrics.Messages.Inc("queued")
	return all(transport.StatusOK(fmt.Sprintf("2.0.0 Ok: queued as %d", rec.ID)))
}

// isVacationReply reports whether msg is a Sieve vacation reply:
// Auto-Submitted: auto-replied (vacation), as Pigeonhole writes it.
func isVacationReply(msg *sieve.Message) bool {
	for _, v := range msg.Header("Auto-Submitted") {
		v = strings.ToLower(strings.TrimSpace(sieve.Unfold(v)))
		if strings.HasPrefix(v, "auto-replied") && strings.Contains(v, "vacation") {
			return true
		}
	}
	return false
}
