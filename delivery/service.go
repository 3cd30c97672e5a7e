package delivery

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vacationd/vacationd/mailaddr"
	"github.com/vacationd/vacationd/sieve"
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
	// Source finds each recipient's scripts (sieve_before and sieve_after
	// included, see Layered).
	Source Source
	// Compiler compiles them under the service's extensions and limits.
	Compiler *Compiler
	// RecipientDelimiter separates the detail from the user in local
	// parts (e.g. "+"); the script still sees the full address.
	RecipientDelimiter string
	// Settings are Pigeonhole-named settings for the Sieve engine.
	Settings sieve.Settings

	Store     State
	Responder *vacation.Responder
	// Downstream receives kept messages; nil makes vacationd a sidecar
	// that consumes the message once its effects are stored.
	Downstream Downstream
	// FileintoDetail forwards fileinto "X" as local+X@domain.
	FileintoDetail bool
	// NoReceived forwards messages without vacationd's Received field,
	// byte for byte as received.
	NoReceived bool
	// Shadow, when not nil, is for a downstream that runs the same
	// scripts again (Mailu's Dovecot): see [Shadow].
	Shadow *Shadow
	// MaxRedirectHops is the loop guard: a message that already carries
	// this many X-Sieve-Redirected-From fields is not redirected again.
	MaxRedirectHops int
	// Sources answer mailboxexists/special-use, the metadata tests and
	// extlists; nil: only INBOX exists, nothing else does.
	Sources UserSources
	// Programs runs the programs of vnd.dovecot.pipe, filter and execute
	// (extensions off unless enabled); nil: none is found.
	Programs sieve.ProgramRunner
	Hostname string
	Logger   *slog.Logger
	Metrics  *Metrics
	Now      func() time.Time
}

// Service runs Sieve for every recipient of a message. It is safe for
// concurrent use by many LMTP sessions.
type Service struct {
	cfg     Config
	log     *slog.Logger
	pipe    *Pipeline
	metrics *Metrics
	locks   [256]sync.Mutex
}

// New returns a Service; the scripts are compiled lazily on first use.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Responder == nil || cfg.Source == nil {
		return nil, errors.New("delivery: Source, Store and Responder are required")
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
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.Compiler == nil {
		cfg.Compiler = NewCompiler(sieve.Options{Settings: cfg.Settings}, cfg.Logger)
	}
	cfg.Compiler.failures.Store(cfg.Metrics.CompileFailures)
	pipe := &Pipeline{
		Source: cfg.Source, Compiler: cfg.Compiler, Settings: cfg.Settings, Responder: cfg.Responder,
		MaxRedirectHops: cfg.MaxRedirectHops, Logger: cfg.Logger, Now: cfg.Now,
		Sources: cfg.Sources, Programs: cfg.Programs,
	}
	return &Service{cfg: cfg, log: cfg.Logger, pipe: pipe, metrics: cfg.Metrics}, nil
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
	var fields []slog.Attr // the message's log fields, made once for all its recipients
	logged := s.log.Enabled(ctx, slog.LevelInfo)
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
		if !logged {
			continue
		}
		if fields == nil {
			fields = logFields(env, msg, len(raw))
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "recipient", append(fields[:len(fields):len(fields)],
			slog.String("from", env.From), slog.String("rcpt", env.Recipients[i].Addr),
			slog.String("actions", o.action), slog.String("vacation", logReason(o.reason)),
			slog.String("status", o.status.String()))...)
	}
	s.metrics.Latency.Observe(s.cfg.Now().Sub(start).Seconds())
	return statuses
}

// lockSender is sender as the dedup key has it (lower case, a quoted local
// part unquoted), so two spellings of one key take the same lock.
func lockSender(sender string) string {
	sender = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(sender, "<"), ">"))
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		return mailaddr.UnquoteLocal(sender[:i]) + sender[i:]
	}
	return sender
}

// recipient runs the scripts for one recipient and stores the effects:
// lock, evaluate, plan the deliveries, commit.
func (s *Service) recipient(ctx context.Context, env *transport.Envelope, rc transport.Recipient, msg *sieve.Message) outcome {
	user := UserKey(rc.Addr, s.cfg.RecipientDelimiter)
	lock := s.lock(user, env.From)
	defer lock.release()

	seen := msg
	if s.cfg.Shadow != nil {
		seen = s.cfg.Shadow.view(env, rc, msg)
	}
	res, err := s.pipe.Evaluate(ctx, &Request{
		User:        user,
		Envelope:    sieve.Envelope{From: env.From, To: rc.Addr, OrigTo: rc.ORCPT},
		Message:     seen,
		Environment: s.environment(env),
		Duplicates:  storeDuplicates{db: s.cfg.Store, user: user, now: s.cfg.Now()},
	})
	if err != nil {
		return s.evaluationFailed(rc, err)
	}
	s.logRun(rc, res)
	if s.cfg.Shadow != nil {
		s.cfg.Shadow.effects(res, user, env.From, msg, s.cfg.Now())
	}
	if len(res.Marks) == 0 {
		// Nothing to deduplicate (no reply, or one with no period such as
		// :seconds 0): the commit need not hold the lock, so messages from
		// one sender to one user share fsyncs instead of queueing for them.
		lock.release()
	}
	err = s.commit(ctx, res)
	o := s.plan(rc, seen, res)
	if err != nil {
		s.log.Error("store commit", "rcpt", rc.Addr, "error", err)
		reason := o.reason
		if reason == "sent" { // nothing was queued; counted as an error by commit
			reason = "error"
		}
		return outcome{status: transport.StatusTempFail("Temporary failure storing the auto-reply"), action: o.action, reason: reason}
	}
	if s.cfg.Shadow != nil {
		// The downstream performs the other actions itself.
		o.status, o.deliver = transport.Status{}, []delivery{{to: rc}}
	}
	if o.status.Code != 0 { // rejected: nothing is delivered
		o.deliver = nil
		return o
	}
	o.status = transport.StatusOK(okText(env))
	return o
}

// userLock is the lock of one user and sender, released at most once.
type userLock struct {
	mu   *sync.Mutex
	held bool
}

func (l *userLock) release() {
	if l.held {
		l.held = false
		l.mu.Unlock()
	}
}

// lock serializes evaluate-and-commit for one user and sender, so two
// concurrent messages cannot both decide to reply.
func (s *Service) lock(user, sender string) *userLock {
	h := fnv.New32a()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(lockSender(sender)))
	l := &userLock{mu: &s.locks[h.Sum32()%uint32(len(s.locks))], held: true}
	l.mu.Lock()
	return l
}

// evaluationFailed answers a recipient whose evaluation could not be
// done with a temporary failure, so that the client retries.
func (s *Service) evaluationFailed(rc transport.Recipient, err error) outcome {
	var se *StepError
	step := "evaluate"
	if errors.As(err, &se) {
		step = se.Step
	}
	s.log.Error(step, "rcpt", rc.Addr, "error", err)
	text := map[string]string{
		"load scripts":    "Temporary failure loading the Sieve script",
		"duplicate check": "Temporary failure checking for a duplicate message",
		"vacation dedup":  "Temporary failure checking for a duplicate auto-reply",
	}[step]
	if text == "" {
		text = "Temporary failure running the Sieve script"
	}
	reason := "-"
	if step == "vacation dedup" {
		reason = "error"
		s.metrics.Decisions.Inc("error")
	}
	return outcome{status: transport.StatusTempFail(text), action: "error", reason: reason}
}

// logRun logs what the run reported besides its actions.
func (s *Service) logRun(rc transport.Recipient, res *Result) {
	if res.RunErr != nil {
		s.log.Warn("sieve runtime error; implicit keep", "rcpt", rc.Addr, "error", res.RunErr)
	}
	for _, w := range res.Run.Warnings {
		s.log.Warn("sieve warning", "rcpt", rc.Addr, "warning", w)
	}
	for _, e := range res.Run.Errors {
		s.log.Warn("sieve runtime error (run continued)", "rcpt", rc.Addr, "error", e)
	}
	for _, v := range res.Vacation {
		if v.Reason != "sent" {
			s.metrics.Decisions.Inc(v.Reason)
		}
	}
}

// plan turns the actions into the recipient's deliveries and answer.
func (s *Service) plan(rc transport.Recipient, msg *sieve.Message, res *Result) outcome {
	o := outcome{reason: "-"}
	var actions []string
	// edited is the message an action stores when the script changed it.
	edited := func(m *sieve.Message) *sieve.Message {
		if m == nil || m == msg {
			return nil
		}
		return m
	}
	keep := func(m *sieve.Message) { o.addDelivery(rc, edited(m)) }
	for _, a := range res.Actions() {
		actions = append(actions, a.Kind())
		switch a := a.(type) {
		case *sieve.Keep:
			keep(a.Message)
		case *sieve.FileInto:
			if strings.EqualFold(a.Mailbox, "INBOX") || !s.cfg.FileintoDetail {
				keep(a.Message)
				continue
			}
			to := withDetail(withoutDetail(rc.Addr, s.cfg.RecipientDelimiter), a.Mailbox, s.delimiter())
			o.addDelivery(transport.Recipient{Addr: to, ORCPT: rc.ORCPT}, edited(a.Message))
		case *sieve.Reject:
			o.status = rejectStatus(a.Reason)
		case *sieve.Redirect:
			if res.Redirect[a] == nil && !res.DuplicateRedirect[a] {
				keep(a.Message)
			}
		case *sieve.Pipe:
			if !res.Piped[a] {
				keep(a.Message)
			}
		case *sieve.Vacation:
			o.reason = res.Vacation[a].Reason
		}
	}
	if res.ImplicitKeep() {
		keep(res.Edited())
		actions = append(actions, "implicit-keep")
	}
	o.action = strings.Join(actions, ",")
	return o
}

// commit stores the recipient's marks and records together, durably.
// A reply whose exclusive mark lost to one stored meanwhile (another
// replica's, or a delivery that raced past the lock) is not queued by the
// store: its decision becomes a duplicate.
func (s *Service) commit(ctx context.Context, res *Result) error {
	if len(res.Marks) == 0 && len(res.Records) == 0 {
		return nil
	}
	if err := s.cfg.Store.Commit(ctx, res.Marks, res.Records); err != nil {
		for _, v := range res.Vacation {
			if v.Reason == "sent" {
				s.metrics.Decisions.Inc("error")
				s.refund(v)
			}
		}
		return err
	}
	for _, r := range res.Records {
		if r.ID != 0 {
			s.metrics.Queued.Inc(r.Kind)
		}
	}
	for a, v := range res.Vacation {
		if v.Reason != "sent" {
			continue
		}
		if v.Mark != nil && v.Mark.Reply != nil && v.Mark.Reply.ID == 0 {
			v.Reason = string(vacation.Duplicate)
			res.Vacation[a] = v
			s.refund(v)
		}
		s.metrics.Decisions.Inc(logReason(v.Reason)) // counted once the reply is stored, or not
	}
	return nil
}

// refund takes a reply that was decided but not queued back from the
// backscatter limits, which counted it when they allowed it.
func (s *Service) refund(v VacationResult) {
	lim, ok := s.cfg.Responder.Limiter.(vacation.Refunder)
	if ok && v.Decision != nil && v.Decision.Send {
		lim.Refund(v.Decision.RcptTo, v.Decision.Now)
	}
}

func (s *Service) delimiter() string {
	if s.cfg.RecipientDelimiter != "" {
		return s.cfg.RecipientDelimiter[:1]
	}
	return "+"
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
	received := ""
	if !s.cfg.NoReceived {
		received = s.received(env)
	}
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
	helo, ip := clientNames(env)
	return fmt.Sprintf("Received: from %s ([%s])\r\n\tby %s (vacationd) with LMTP;\r\n\t%s\r\n",
		helo, ip, s.cfg.Hostname, s.cfg.Now().Format(time.RFC1123Z))
}

// clientNames are the client's LHLO name (printable, "unknown" when it
// gave none) and IP address (the PROXY-resolved one), as Received fields
// name them.
func clientNames(env *transport.Envelope) (helo, ip string) {
	ip = addrString(env.ClientAddr)
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	helo = printable(env.ClientHost)
	if helo == "" {
		helo = "unknown"
	}
	return helo, ip
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
	local, domain := mailaddr.UnquoteLocal(addr[:i]), addr[i+1:]
	box = strings.Map(func(r rune) rune {
		if r == '@' || r == ' ' || r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '_'
		}
		return r
	}, box)
	return mailaddr.QuoteLocal(local+delim+box, true) + "@" + domain
}

// withoutDetail removes the detail that delims (the configured
// delimiters) separate in addr's local part, so withDetail replaces it:
// Dovecot reads user+detail+box as mailbox "detail+box".
func withoutDetail(addr, delims string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || delims == "" {
		return addr
	}
	local := mailaddr.UnquoteLocal(addr[:i])
	if j := strings.IndexAny(local, delims); j > 0 {
		return mailaddr.QuoteLocal(local[:j], true) + addr[i:]
	}
	return addr
}
