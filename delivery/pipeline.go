package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/vacationd/vacationd/mailaddr"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/vacation"
)

// Pipeline is the one path from a message to what a recipient's scripts
// decided: it loads the user's scripts from the Source, compiles them,
// runs them, decides every vacation action and builds the effects to
// store (dedup marks, the replies and redirects to queue). It stores
// nothing itself: the LMTP service commits the effects before it answers,
// `vacationd test` prints them. Every front door (serve, test, svtest's
// vacation replies) goes through it, so what Pigeonhole's sieve-test is
// compared with is what the service does.
type Pipeline struct {
	Source   Source
	Compiler *Compiler
	// Settings are Pigeonhole-named settings for the Sieve engine.
	Settings  sieve.Settings
	Responder *vacation.Responder
	// Strict makes a script that does not compile stop the evaluation
	// with Result.CompileErrors, as sieve-test does; otherwise the script
	// is skipped (and logged once by the Compiler) and the others run.
	Strict bool
	// MaxRedirectHops is the loop guard: a message that already carries
	// this many X-Sieve-Redirected-From fields is not redirected again
	// (0: 10).
	MaxRedirectHops int
	// Sources answer mailboxexists/special-use, the metadata tests and
	// extlists for a user; nil: only INBOX exists, nothing else does.
	Sources UserSources
	// Programs runs the programs of vnd.dovecot.pipe, filter and
	// execute (off unless enabled); nil: none is found.
	Programs sieve.ProgramRunner
	Logger   *slog.Logger
	Now      func() time.Time
}

// UserSources answer what a script may ask about a user's mail store
// (package sources implements them over files and the store).
type UserSources interface {
	// Mailboxes returns the user's mailboxes (a sieve.SpecialUseChecker
	// too when special uses are known); an error is retried.
	Mailboxes(user string) (sieve.MailboxChecker, error)
	UserMetadata(user string) sieve.MetadataSource
	UserLists(user string) sieve.ListSource
}

// Request is one recipient's evaluation.
type Request struct {
	// User owns the scripts and the dedup records: the recipient in lower
	// case without its detail.
	User        string
	Envelope    sieve.Envelope
	Message     *sieve.Message
	Environment map[string]string
	// Duplicates answers the duplicate test (RFC 7352); nil: never seen.
	Duplicates sieve.DuplicateChecker
	// Trace receives a trace of the run (sieve-test -t); nil: none.
	Trace io.Writer
}

// Result is what a recipient's scripts decided.
type Result struct {
	// CompileErrors holds, in strict mode, the errors of every script
	// that did not compile; then nothing ran.
	CompileErrors []error
	// CompileWarnings holds, in strict mode, the compile warnings of the
	// scripts that ran (sieve-test prints them).
	CompileWarnings sieve.ErrorList
	// Run is the Sieve result (nil when nothing ran). After a runtime
	// error its actions are not performed: only the implicit keep.
	Run    *sieve.Result
	RunErr error
	// Vacation and Redirect are the outcomes of those actions.
	Vacation map[*sieve.Vacation]VacationResult
	// Redirect holds the outbox record of each redirect; nil means a
	// loop guard stopped it and the message is kept instead.
	Redirect map[*sieve.Redirect]*store.OutboxRecord
	// DuplicateRedirect holds the redirects an earlier delivery of the
	// message already made (neither sent again nor kept).
	DuplicateRedirect map[*sieve.Redirect]bool
	// Mail holds the outbox record of each notify and report action; nil
	// means none is due (e.g. a notification about an automatic message).
	Mail map[sieve.Action]*store.OutboxRecord
	// Piped says of each pipe action whether the message counts as
	// delivered by it (false: it failed and the message is kept).
	Piped map[*sieve.Pipe]bool
	// Marks and Records are the effects to commit together.
	Marks   []store.Mark
	Records []*store.OutboxRecord
}

// Actions returns the actions to perform: none after a runtime error.
func (r *Result) Actions() []sieve.Action {
	if r.Run == nil || r.RunErr != nil {
		return nil
	}
	return r.Run.Actions
}

// ImplicitKeep reports whether the message is kept implicitly.
func (r *Result) ImplicitKeep() bool {
	return r.Run == nil || r.RunErr != nil || r.Run.ImplicitKeep
}

// Edited returns the message as the scripts left it.
func (r *Result) Edited() *sieve.Message {
	if r.Run == nil {
		return nil
	}
	return r.Run.Message
}

// VacationResult is the outcome of one vacation action.
type VacationResult struct {
	Decision *vacation.Decision
	// Reply is the composed reply when one is due.
	Reply *vacation.Reply
	// Reason is "sent" (queued), a vacation.Reason, or "error" for a
	// reply that could not be composed.
	Reason string
	// Mark is the reply's dedup mark (nil when its period is 0). It is
	// exclusive: the store queues the reply only if no other delivery
	// marked the key meanwhile.
	Mark *store.Mark
}

// StepError is a failure that is no fault of the message: a source that
// is unavailable, a store that does not answer. The recipient must be
// retried later, never answered with a success that loses its effects.
type StepError struct {
	Step string // "load scripts", "duplicate check", "vacation dedup"
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Evaluate runs the user's scripts on the message and decides their
// vacation actions. A *StepError means the evaluation could not be done.
func (p *Pipeline) Evaluate(ctx context.Context, req *Request) (*Result, error) {
	scripts, compileErrs, err := p.load(ctx, req.User)
	if err != nil {
		return nil, &StepError{"load scripts", err}
	}
	res := &Result{Vacation: map[*sieve.Vacation]VacationResult{}, Redirect: map[*sieve.Redirect]*store.OutboxRecord{},
		Mail: map[sieve.Action]*store.OutboxRecord{}, Piped: map[*sieve.Pipe]bool{}, DuplicateRedirect: map[*sieve.Redirect]bool{}}
	if len(compileErrs) > 0 {
		res.CompileErrors = compileErrs
		return res, nil
	}
	if p.Strict {
		for _, s := range scripts {
			res.CompileWarnings = append(res.CompileWarnings, s.Warnings()...)
		}
	}
	dups := &dupRecorder{checker: req.Duplicates}
	env := &sieve.Env{
		Message: req.Message, Envelope: req.Envelope, Now: p.Now, Settings: p.Settings,
		Environment: req.Environment, Duplicates: dups, Trace: req.Trace,
		Programs: p.Programs,
	}
	if p.Sources != nil {
		boxes, err := p.Sources.Mailboxes(req.User)
		if err != nil {
			return nil, &StepError{"mailboxes", err}
		}
		env.Mailboxes, env.Metadata, env.Lists = boxes, p.Sources.UserMetadata(req.User), p.Sources.UserLists(req.User)
	}
	if req.Duplicates == nil {
		env.Duplicates = nil
	}
	res.Run, res.RunErr = sieve.RunMulti(ctx, scripts, env)
	if dups.err != nil {
		// The store did not answer the duplicate test: a success with the
		// implicit keep would drop the script's actions for good.
		return nil, &StepError{"duplicate check", dups.err}
	}
	if res.Run == nil {
		res.Run = &sieve.Result{ImplicitKeep: true, Message: req.Message}
	}
	now := p.now()
	if res.RunErr == nil {
		res.Marks = duplicateMarks(req.User, now, res.Run.Duplicates)
	}
	for _, a := range res.Actions() {
		switch a := a.(type) {
		case *sieve.Redirect:
			dup, mark, err := p.redirectDuplicate(ctx, req, a, now)
			if err != nil {
				return nil, &StepError{"redirect duplicate check", err}
			}
			if dup {
				// Done by an earlier delivery of this message.
				p.log().Info("discarded duplicate forward", "rcpt", req.Envelope.To, "to", a.Address)
				res.DuplicateRedirect[a] = true
				continue
			}
			rec := p.redirect(req, a, res.Edited())
			res.Redirect[a] = rec
			if rec != nil {
				res.Records = append(res.Records, rec)
				if mark != nil {
					res.Marks = append(res.Marks, *mark)
				}
			}
		case *sieve.Notify, *sieve.Report:
			rec := p.mailRecord(req, a)
			res.Mail[a] = rec
			if rec != nil {
				res.Records = append(res.Records, rec)
			}
		case *sieve.Pipe:
			res.Piped[a] = p.pipe(ctx, req, a, res.Edited())
		case *sieve.Vacation:
			v, mark, rec, err := p.Vacation(ctx, req, a, res.Edited())
			if err != nil {
				return nil, &StepError{"vacation dedup", err}
			}
			res.Vacation[a] = v
			if mark != nil {
				res.Marks = append(res.Marks, *mark)
			}
			if rec != nil {
				res.Records = append(res.Records, rec)
			}
		}
	}
	return res, nil
}

// load returns the user's compiled scripts. In strict mode the errors of
// scripts that do not compile are returned instead of running without
// them.
func (p *Pipeline) load(ctx context.Context, user string) ([]*sieve.Script, []error, error) {
	srcs, err := p.Source.Scripts(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*sieve.Script, 0, len(srcs))
	var compileErrs []error
	for _, sc := range srcs {
		s, err := p.Compiler.Load(sc)
		if err != nil {
			var el sieve.ErrorList
			if !errors.As(err, &el) && !p.Strict {
				return nil, nil, err
			}
			compileErrs = append(compileErrs, err)
			continue
		}
		out = append(out, s)
	}
	if !p.Strict {
		compileErrs = nil // logged by the Compiler; the script is skipped
	}
	return out, compileErrs, nil
}

// redirect builds the outbox record for a redirect the way Pigeonhole
// sends it (sieve.PlanRedirect: envelope sender per
// sieve_redirect_envelope_from, an X-Sieve-Redirected-From header, loop
// detection through it), or returns nil when a loop guard stops it.
func (p *Pipeline) redirect(req *Request, a *sieve.Redirect, msg *sieve.Message) *store.OutboxRecord {
	if a.Message != nil {
		msg = a.Message // as edited when the redirect ran
	}
	plan := sieve.PlanRedirect(p.Settings, req.Envelope, msg)
	if plan.Loop {
		p.log().Warn("redirect loop detected; keeping instead", "rcpt", req.Envelope.To, "to", a.Address)
		return nil
	}
	maxHops := p.MaxRedirectHops
	if maxHops <= 0 {
		maxHops = 10
	}
	if hops := len(msg.Header("X-Sieve-Redirected-From")); hops >= maxHops {
		p.log().Warn("too many redirect hops; keeping instead", "rcpt", req.Envelope.To, "to", a.Address, "hops", hops)
		return nil
	}
	return &store.OutboxRecord{
		From:    plan.From,
		To:      []string{a.Address},
		Message: plan.Message(msg),
		Kind:    store.KindRedirect,
		User:    req.User,
	}
}

// Vacation decides and composes the reply to one vacation action (svtest
// calls it for the suite's replies); it returns the dedup mark and
// outbox record to commit (nil when no reply is due). edited is the
// message as the script left it (the checks read that one). An error
// means the decision could not be made (the dedup store did not answer).
func (p *Pipeline) Vacation(ctx context.Context, req *Request, a *sieve.Vacation, edited *sieve.Message) (VacationResult, *store.Mark, *store.OutboxRecord, error) {
	if !strings.EqualFold(req.User, mailaddr.TrimAngle(req.Envelope.To)) {
		// The user's address without detail is one of the user's
		// addresses (copy mode delivers to user+detail@domain).
		cp := *a
		cp.Addresses = append(append([]string(nil), a.Addresses...), req.User)
		a = &cp
	}
	in := &vacation.Input{User: req.User, Action: a, Message: req.Message, Edited: edited,
		Envelope: vacation.Envelope{From: req.Envelope.From, To: req.Envelope.To, OrigTo: req.Envelope.OrigTo}}
	d, err := p.Responder.Decide(ctx, in)
	if err != nil {
		return VacationResult{Reason: "error"}, nil, nil, err
	}
	for _, w := range d.Warnings {
		p.log().Warn("vacation", "rcpt", req.Envelope.To, "warning", w)
	}
	if !d.Send {
		return VacationResult{Decision: d, Reason: string(d.Reason)}, nil, nil, nil
	}
	rep, err := p.Responder.Compose(in, d)
	if err != nil {
		p.log().Warn("vacation compose", "rcpt", req.Envelope.To, "error", err)
		return VacationResult{Decision: d, Reason: "error"}, nil, nil, nil
	}
	rec := &store.OutboxRecord{From: rep.MailFrom, To: []string{rep.RcptTo}, Message: rep.Message, Kind: store.KindVacation, User: req.User}
	var mark *store.Mark
	if d.Period > 0 {
		mark = &store.Mark{Key: store.DedupKey{User: d.Key.User, Sender: d.Key.Sender, Handle: d.Key.Handle}, Created: d.Now, Expires: d.Expires, Reply: rec}
	}
	return VacationResult{Decision: d, Reply: rep, Reason: "sent", Mark: mark}, mark, rec, nil
}

// UserKey is the user an address belongs to: lower case, without the
// detail that delims (recipient_delimiter, each character one delimiter)
// separate.
func UserKey(addr, delims string) string {
	addr = strings.ToLower(mailaddr.TrimAngle(addr))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	if delims != "" {
		if i := strings.IndexAny(local, delims); i > 0 {
			local = local[:i]
		}
	}
	return local + "@" + domain
}
