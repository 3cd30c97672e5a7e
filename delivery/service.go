package delivery

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
	"github.com/vacationd/vacationd/vacation"
)

// Downstream delivers kept messages to the next hop (Dovecot's LMTP): one
// transaction for all of to, the received field prepended to msg, one
// status per recipient in order. transport.Forwarder is one.
type Downstream interface {
	Forward(ctx context.Context, from string, to []transport.Recipient, received string, msg []byte) []transport.Status
}

// Config configures a Service.
type Config struct {
	// ScriptsDir holds per-user scripts: DIR/<domain>/<local>.sieve, else
	// DIR/<address>.sieve.
	ScriptsDir string
	// Before and After are script files run before and after the user's
	// script (Pigeonhole's sieve_before and sieve_after).
	Before, After []string
	// GlobalDir resolves :global includes; "" disables them.
	GlobalDir string
	// RecipientDelimiter separates the detail from the user in local
	// parts (e.g. "+"); the script still sees the full address.
	RecipientDelimiter string
	// Settings are Pigeonhole-named settings for the Sieve engine.
	Settings sieve.Settings
	// Extensions adjusts the enabled Sieve extensions (sieve_extensions).
	Extensions string
	Limits     sieve.Limits

	Store     State
	Responder *vacation.Responder
	// Downstream receives kept messages; nil makes vacationd a sidecar
	// that consumes the message once its effects are stored.
	Downstream Downstream
	// FileintoDetail forwards fileinto "X" as local+X@domain.
	FileintoDetail bool
	// MaxRedirectHops is the loop guard: a message that already carries
	// this many X-Sieve-Redirected-From fields is not redirected again.
	MaxRedirectHops int
	Hostname        string
	Logger          *slog.Logger
	Metrics         *Metrics
	Now             func() time.Time
}

// Service runs Sieve for every recipient of a message. It is safe for
// concurrent use by many LMTP sessions.
type Service struct {
	cfg     Config
	log     *slog.Logger
	cache   *scriptCache
	metrics *Metrics
	locks   [256]sync.Mutex
}

// New returns a Service; the scripts are compiled lazily on first use.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Responder == nil {
		return nil, errors.New("delivery: Store and Responder are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.MaxRedirectHops <= 0 {
		cfg.MaxRedirectHops = 10
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	opts := &sieve.Options{Extensions: cfg.Extensions, Settings: cfg.Settings, Limits: cfg.Limits}
	if cfg.GlobalDir != "" {
		opts.Resolver = DirResolver(cfg.GlobalDir)
	}
	s := &Service{cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics, cache: newScriptCache(opts, cfg.Logger)}
	return s, nil
}

// outcome is what one recipient's scripts decided.
type outcome struct {
	status transport.Status
	// deliver lists the downstream deliveries: the recipient itself for
	// keep, and with --fileinto-detail one local+box address per folder.
	deliver []delivery
	action  string // summary for the log
	reason  string // vacation reason code or "sent"
}

// delivery is one downstream delivery of a recipient's message.
type delivery struct {
	to transport.Recipient
	// msg is the message to deliver when the script edited it; nil means
	// the message as received.
	msg *sieve.Message
}

// addDelivery adds a delivery unless the same address already has one.
func (o *outcome) addDelivery(to transport.Recipient, msg *sieve.Message) {
	for _, d := range o.deliver {
		if strings.EqualFold(d.to.Addr, to.Addr) {
			return
		}
	}
	o.deliver = append(o.deliver, delivery{to: to, msg: msg})
}

// Deliver implements transport.Deliverer.
func (s *Service) Deliver(ctx context.Context, env *transport.Envelope, raw []byte) []transport.Status {
	start := s.cfg.Now()
	msg := sieve.ParseMessage(raw)
	outs := make([]outcome, len(env.Recipients))
	for i, rc := range env.Recipients {
		outs[i] = s.recipient(ctx, env, rc, msg)
	}
	s.forward(ctx, env, raw, outs)
	statuses := make([]transport.Status, len(outs))
	for i, o := range outs {
		statuses[i] = o.status
		outcomeName := "delivered"
		switch {
		case o.status.Temporary():
			outcomeName = "tempfail"
		case o.status.Permanent():
			outcomeName = "rejected"
		}
		s.metrics.Recipients.Inc(outcomeName)
		s.log.Info("recipient",
			"client", addrString(env.ClientAddr), "from", env.From, "rcpt", env.Recipients[i].Addr,
			"actions", o.action, "vacation", o.reason, "status", o.status.String())
	}
	s.metrics.Latency.Observe(s.cfg.Now().Sub(start).Seconds())
	return statuses
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// lockFor serializes decide-and-commit for one user and sender, so two
// concurrent messages cannot both decide to reply.
func (s *Service) lockFor(user, sender string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(lockSender(sender)))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

// lockSender is sender as the dedup key has it (lower case, a quoted local
// part unquoted), so two spellings of one key take the same lock.
func lockSender(sender string) string {
	sender = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(sender, "<"), ">"))
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		return unquoteLocal(sender[:i]) + sender[i:]
	}
	return sender
}

// recipient runs the scripts for one recipient and stores the effects.
func (s *Service) recipient(ctx context.Context, env *transport.Envelope, rc transport.Recipient, msg *sieve.Message) outcome {
	addr := strings.ToLower(rc.Addr)
	user := s.userKey(addr)
	mu := s.lockFor(user, env.From)
	mu.Lock()
	locked := true
	unlock := func() {
		if locked {
			locked = false
			mu.Unlock()
		}
	}
	defer unlock()

	scripts, err := s.scripts(user)
	if err != nil {
		s.log.Error("load scripts", "rcpt", addr, "error", err)
		return outcome{status: transport.StatusTempFail("Temporary failure loading the Sieve script"), action: "error"}
	}
	dups := &storeDuplicates{db: s.cfg.Store, user: user, now: s.cfg.Now()}
	senv := &sieve.Env{
		Message:     msg,
		Envelope:    sieve.Envelope{From: env.From, To: rc.Addr, OrigTo: rc.ORCPT},
		Now:         s.cfg.Now,
		Settings:    s.cfg.Settings,
		Environment: s.environment(env),
		Duplicates:  dups,
	}
	res, runErr := sieve.RunMulti(ctx, scripts, senv)
	if dups.err != nil {
		// The store did not answer the duplicate test: a 250 with the
		// implicit keep would drop the script's actions for good.
		s.log.Error("sieve duplicate check", "rcpt", addr, "error", dups.err)
		return outcome{status: transport.StatusTempFail("Temporary failure checking for a duplicate message"), action: "error", reason: "-"}
	}
	if runErr != nil {
		s.log.Warn("sieve runtime error; implicit keep", "rcpt", addr, "error", runErr)
	}
	for _, w := range res.Warnings {
		s.log.Warn("sieve warning", "rcpt", addr, "warning", w)
	}
	for _, e := range res.Errors {
		s.log.Warn("sieve runtime error (run continued)", "rcpt", addr, "error", e)
	}
	var (
		marks   []store.Mark
		recs    []*store.OutboxRecord
		o       = outcome{reason: "-"}
		actions []string
	)
	// edited is the message an action stores when the script changed it.
	edited := func(m *sieve.Message) *sieve.Message {
		if m == nil || m == msg {
			return nil
		}
		return m
	}
	keep := func(m *sieve.Message) { o.addDelivery(rc, edited(m)) }
	if runErr == nil {
		marks = duplicateMarks(user, s.cfg.Now(), res.Duplicates)
		for _, a := range res.Actions {
			actions = append(actions, a.Kind())
			switch a := a.(type) {
			case *sieve.Keep:
				keep(a.Message)
			case *sieve.FileInto:
				switch {
				case strings.EqualFold(a.Mailbox, "INBOX") || !s.cfg.FileintoDetail:
					keep(a.Message)
				default:
					o.addDelivery(transport.Recipient{Addr: withDetail(withoutDetail(rc.Addr, s.cfg.RecipientDelimiter), a.Mailbox, s.delimiter()), ORCPT: rc.ORCPT}, edited(a.Message))
				}
			case *sieve.Discard:
			case *sieve.Reject:
				o.status = rejectStatus(a.Reason)
			case *sieve.Redirect:
				if r := s.redirect(env, rc, user, a, res.Message); r != nil {
					recs = append(recs, r)
				} else {
					keep(a.Message)
				}
			case *sieve.Vacation:
				m, r, reason, err := s.vacation(ctx, env, rc, user, a, msg, res.Message)
				o.reason = reason
				if err != nil {
					// The dedup store did not answer: answering 250 would
					// consume the message and lose the reply.
					return outcome{status: transport.StatusTempFail("Temporary failure checking for a duplicate auto-reply"), action: "error", reason: reason}
				}
				if r != nil {
					recs = append(recs, r)
				}
				if m != nil {
					marks = append(marks, *m)
				}
			}
		}
	}
	if res.ImplicitKeep {
		keep(res.Message)
	}
	if res.ImplicitKeep {
		actions = append(actions, "implicit-keep")
	}
	o.action = strings.Join(actions, ",")
	if len(marks) == 0 {
		// Nothing to deduplicate (no reply, or one with no period such as
		// :seconds 0): the commit need not hold the lock, so messages from
		// one sender to one user share fsyncs instead of queueing for them.
		unlock()
	}
	if len(marks) > 0 || len(recs) > 0 {
		if err := s.cfg.Store.Commit(ctx, marks, recs); err != nil {
			s.log.Error("store commit", "rcpt", addr, "error", err)
			if o.reason == "sent" {
				s.metrics.Decisions.Inc("error")
			}
			return outcome{status: transport.StatusTempFail("Temporary failure storing the auto-reply"), action: o.action, reason: o.reason}
		}
		for _, r := range recs {
			if r.ID != 0 {
				s.metrics.Queued.Inc(r.Kind)
			}
		}
		if o.reason == "sent" { // counted once the reply is stored, or not
			if replyLost(marks) {
				// Another delivery (another replica, or one that raced
				// past the lock) stored a live mark first: the store kept
				// its reply and skipped ours.
				o.reason = string(vacation.Duplicate)
			}
			s.metrics.Decisions.Inc(o.reason)
		}
	}
	if o.status.Code != 0 { // rejected: nothing is delivered
		o.deliver = nil
		return o
	}
	o.status = transport.StatusOK("Ok")
	return o
}

func (s *Service) delimiter() string {
	if s.cfg.RecipientDelimiter != "" {
		return s.cfg.RecipientDelimiter[:1]
	}
	return "+"
}

// userKey is the user an address belongs to: lower case, without detail.
func (s *Service) userKey(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	if d := s.cfg.RecipientDelimiter; d != "" {
		if i := strings.IndexAny(local, d); i > 0 {
			local = local[:i]
		}
	}
	return local + "@" + domain
}

// scripts returns the before, user and after scripts that exist.
func (s *Service) scripts(user string) ([]*sieve.Script, error) {
	var out []*sieve.Script
	// add appends the script at path; found is false when there is no file.
	add := func(path string) (found bool, err error) {
		sc, err := s.cache.load(path)
		if err != nil {
			var el sieve.ErrorList
			if errors.As(err, &el) {
				return true, nil // logged by the cache; the script is skipped
			}
			return true, err
		}
		if sc == nil {
			return false, nil
		}
		out = append(out, sc)
		return true, nil
	}
	for _, p := range s.cfg.Before {
		if _, err := add(p); err != nil {
			return nil, err
		}
	}
	for _, p := range s.userScriptPaths(user) {
		found, err := add(p)
		if err != nil {
			return nil, err
		}
		if found {
			break
		}
	}
	for _, p := range s.cfg.After {
		if _, err := add(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// userScriptPaths lists where a user's script may be, in order:
// DIR/<domain>/<local>.sieve, then DIR/<user>.sieve.
func (s *Service) userScriptPaths(user string) []string {
	if s.cfg.ScriptsDir == "" || !safeName(user) {
		return nil
	}
	var out []string
	local, domain, ok := strings.Cut(user, "@")
	if ok && safeName(local) && safeName(domain) {
		out = append(out, filepath.Join(s.cfg.ScriptsDir, domain, local+".sieve"))
	}
	return append(out, filepath.Join(s.cfg.ScriptsDir, user+".sieve"))
}

func safeName(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/\\\x00") && !strings.HasPrefix(s, ".")
}

func (s *Service) environment(env *transport.Envelope) map[string]string {
	m := map[string]string{
		"name":     "vacationd",
		"location": "MDA",
		"phase":    "during",
		"host":     s.cfg.Hostname,
	}
	if _, d, ok := strings.Cut(s.cfg.Hostname, "."); ok {
		m["domain"] = d
	}
	if env.ClientAddr != nil {
		host := env.ClientAddr.String()
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		m["remote-ip"] = host
		m["remote-host"] = host
	}
	return m
}

// rejectStatus is the 550 answer for reject/ereject; the reason is kept
// to one line.
func rejectStatus(reason string) transport.Status {
	line := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r < 0x20 {
			return ' '
		}
		return r
	}, reason))
	if line == "" {
		line = "Message rejected"
	}
	return transport.Status{Code: 550, Enhanced: [3]int{5, 7, 1}, Message: line}
}

// redirect builds the outbox record for a redirect the way Pigeonhole
// sends it (sieve.PlanRedirect: envelope sender per
// sieve_redirect_envelope_from, an X-Sieve-Redirected-From header, loop
// detection through it), or returns nil when a loop guard stops it.
func (s *Service) redirect(env *transport.Envelope, rc transport.Recipient, user string, a *sieve.Redirect, msg *sieve.Message) *store.OutboxRecord {
	if a.Message != nil {
		msg = a.Message // as edited when the redirect ran
	}
	plan := sieve.PlanRedirect(s.cfg.Settings, sieve.Envelope{From: env.From, To: rc.Addr, OrigTo: rc.ORCPT}, msg)
	if plan.Loop {
		s.log.Warn("redirect loop detected; keeping instead", "rcpt", rc.Addr, "to", a.Address)
		return nil
	}
	if hops := len(msg.Header("X-Sieve-Redirected-From")); hops >= s.cfg.MaxRedirectHops {
		s.log.Warn("too many redirect hops; keeping instead", "rcpt", rc.Addr, "to", a.Address, "hops", hops)
		return nil
	}
	return &store.OutboxRecord{
		From:    plan.From,
		To:      []string{a.Address},
		Message: plan.Message(msg),
		Kind:    store.KindRedirect,
		User:    user,
	}
}

// vacation decides and composes a reply; it returns the dedup mark and
// outbox record to commit (nil when no reply is due) and the reason code.
// msg is the message as received, edited the message as the script left
// it (the checks read that one). An error means the decision could not be
// made (the dedup store did not answer): the recipient must be retried.
func (s *Service) vacation(ctx context.Context, env *transport.Envelope, rc transport.Recipient, user string, a *sieve.Vacation, msg, edited *sieve.Message) (*store.Mark, *store.OutboxRecord, string, error) {
	if !strings.EqualFold(user, rc.Addr) {
		// The user's address without detail is one of the user's
		// addresses (copy mode delivers to user+detail@domain).
		cp := *a
		cp.Addresses = append(append([]string(nil), a.Addresses...), user)
		a = &cp
	}
	in := &vacation.Input{User: user, Action: a, Message: msg, Edited: edited,
		Envelope: vacation.Envelope{From: env.From, To: rc.Addr, OrigTo: rc.ORCPT}}
	d, err := s.cfg.Responder.Decide(ctx, in)
	if err != nil {
		s.log.Error("vacation decide", "rcpt", rc.Addr, "error", err)
		s.metrics.Decisions.Inc("error")
		return nil, nil, "error", err
	}
	for _, w := range d.Warnings {
		s.log.Warn("vacation", "rcpt", rc.Addr, "warning", w)
	}
	if !d.Send {
		s.metrics.Decisions.Inc(string(d.Reason))
		return nil, nil, string(d.Reason), nil
	}
	rep, err := s.cfg.Responder.Compose(in, d)
	if err != nil {
		s.log.Warn("vacation compose", "rcpt", rc.Addr, "error", err)
		s.metrics.Decisions.Inc("error")
		return nil, nil, "error", nil
	}
	rec := &store.OutboxRecord{From: rep.MailFrom, To: []string{rep.RcptTo}, Message: rep.Message, Kind: store.KindVacation, User: user}
	var mark *store.Mark
	if d.Period > 0 {
		// Exclusive (Reply set): the store queues the reply only if no
		// other delivery marked the key meanwhile.
		mark = &store.Mark{Key: store.DedupKey{User: d.Key.User, Sender: d.Key.Sender, Handle: d.Key.Handle}, Created: d.Now, Expires: d.Expires, Reply: rec}
	}
	return mark, rec, "sent", nil
}

// forward delivers the kept messages downstream and folds the answers
// into the outcomes: a recipient is answered with the worst status of its
// deliveries. Deliveries of the message as received share one transaction;
// each edited message goes in its own. Without a downstream the message is
// consumed.
func (s *Service) forward(ctx context.Context, env *transport.Envelope, raw []byte, outs []outcome) {
	if s.cfg.Downstream == nil {
		return
	}
	type ref struct{ out, del int }
	groups := map[*sieve.Message][]ref{}
	var order []*sieve.Message
	for i, o := range outs {
		if !o.status.OK() {
			continue
		}
		for j, d := range o.deliver {
			if _, ok := groups[d.msg]; !ok {
				order = append(order, d.msg)
			}
			groups[d.msg] = append(groups[d.msg], ref{i, j})
		}
	}
	received := s.received(env)
	for _, m := range order {
		refs := groups[m]
		rcpts := make([]transport.Recipient, len(refs))
		for k, r := range refs {
			rcpts[k] = outs[r.out].deliver[r.del].to
		}
		body := raw
		if m != nil {
			body = m.Raw()
		}
		sts := s.cfg.Downstream.Forward(ctx, env.From, rcpts, received, body)
		for k, r := range refs {
			st := transport.StatusTempFail("4.3.0 Downstream gave no answer")
			if k < len(sts) {
				st = sts[k]
			}
			outs[r.out].status = worse(outs[r.out].status, st)
		}
	}
}

// worse returns the status to answer when a recipient's deliveries got a
// and b: a temporary failure wins (the client retries them all), then a
// permanent one, then success.
func worse(a, b transport.Status) transport.Status {
	rank := func(s transport.Status) int {
		switch {
		case s.Temporary():
			return 2
		case s.Permanent():
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// received is the Received field added to forwarded messages; the client
// address is the PROXY-resolved one.
func (s *Service) received(env *transport.Envelope) string {
	ip := addrString(env.ClientAddr)
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	helo := printable(env.ClientHost)
	if helo == "" {
		helo = "unknown"
	}
	return fmt.Sprintf("Received: from %s ([%s])\r\n\tby %s (vacationd) with LMTP;\r\n\t%s\r\n",
		helo, ip, s.cfg.Hostname, s.cfg.Now().Format(time.RFC1123Z))
}

// printable replaces what is not printable ASCII with '?', as Postfix
// does for the HELO name in its Received fields: the LHLO argument is the
// client's text up to a space, control characters (a bare CR) and invalid
// UTF-8 included.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f {
			return '?'
		}
		return r
	}, s)
}

// withDetail turns user@domain into user+box@domain. Spaces, '@',
// controls and invalid UTF-8 in box become '_'; a local part that is then
// no dot-atom (a folder named "a..b" or "Lists <go>") is written as a
// quoted string, so the downstream RCPT TO still carries one address.
func withDetail(addr, box, delim string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr
	}
	local, domain := unquoteLocal(addr[:i]), addr[i+1:]
	box = strings.Map(func(r rune) rune {
		if r == '@' || r == ' ' || r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '_'
		}
		return r
	}, box)
	return quoteLocal(local+delim+box) + "@" + domain
}

// withoutDetail removes the detail that delims (the configured
// delimiters) separate in addr's local part, so withDetail replaces it:
// Dovecot reads user+detail+box as mailbox "detail+box".
func withoutDetail(addr, delims string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || delims == "" {
		return addr
	}
	local := unquoteLocal(addr[:i])
	if j := strings.IndexAny(local, delims); j > 0 {
		return quoteLocal(local[:j]) + addr[i:]
	}
	return addr
}

// unquoteLocal returns the text of a local part written as a quoted string.
func unquoteLocal(l string) string {
	if len(l) < 2 || l[0] != '"' || l[len(l)-1] != '"' {
		return l
	}
	var b strings.Builder
	for i := 1; i < len(l)-1; i++ {
		if l[i] == '\\' && i+1 < len(l)-1 {
			i++
		}
		b.WriteByte(l[i])
	}
	return b.String()
}

// quoteLocal writes a local part as a dot-atom when it is one (RFC 5321
// §4.1.2, with RFC 6531's UTF-8), else as a quoted string.
func quoteLocal(l string) string {
	dotAtom := l != "" && !strings.HasPrefix(l, ".") && !strings.HasSuffix(l, ".") && !strings.Contains(l, "..") &&
		!strings.ContainsFunc(l, func(r rune) bool {
			return r < 0x80 && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
				strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r))
		})
	if dotAtom {
		return l
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range l {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
