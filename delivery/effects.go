package delivery

import (
	"context"
	"errors"

	"github.com/vacationd/vacationd/notify"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// The effects of enotify, vnd.dovecot.report and vnd.dovecot.pipe
// actions. Notifications and reports are composed here and queued in the
// outbox with the recipient's other effects (one Commit), so they are
// relayed like replies and never sent for a delivery that failed. Pipes
// run here, before the commit.

// mailRecord composes the notification or report of a and returns its
// outbox record; nil when nothing is due (the reason is logged).
func (p *Pipeline) mailRecord(req *Request, a sieve.Action) *store.OutboxRecord {
	in := notify.Input{Message: req.Message, Envelope: req.Envelope, Settings: p.Settings, Now: p.now()}
	if p.Responder != nil {
		in.Hostname = p.Responder.Hostname
	}
	var (
		m    *notify.Mail
		why  string
		err  error
		kind string
	)
	switch a := a.(type) {
	case *sieve.Notify:
		kind = store.KindNotify
		m, why, err = notify.Mailto(a, in)
	case *sieve.Report:
		kind = store.KindReport
		m, err = notify.Report(a, in)
	default:
		return nil
	}
	switch {
	case err != nil:
		p.log().Warn(a.Kind(), "rcpt", req.Envelope.To, "error", err)
		return nil
	case m == nil:
		p.log().Info(a.Kind(), "rcpt", req.Envelope.To, "skipped", why)
		return nil
	}
	rec := &store.OutboxRecord{From: m.From, To: m.To, Message: m.Message, Kind: kind, User: req.User}
	if err := store.CheckRecord(0, rec); err != nil {
		// A script's odd address must not make the commit, and so the
		// whole delivery, fail again and again.
		p.log().Warn(a.Kind(), "rcpt", req.Envelope.To, "error", err)
		return nil
	}
	return rec
}

// pipe runs the program of a pipe action with msg as its input. It
// reports whether the message counts as delivered: true when the
// program succeeded or the action has :try.
func (p *Pipeline) pipe(ctx context.Context, req *Request, a *sieve.Pipe, msg *sieve.Message) bool {
	if a.Message != nil {
		msg = a.Message
	}
	env := &sieve.Env{Envelope: req.Envelope, Environment: req.Environment}
	call := sieve.NewProgramCall("pipe", a.Program, a.Args, env, p.Settings)
	call.Input = msg.Raw()
	err := sieve.ErrProgramNotFound
	if p.Programs != nil {
		_, err = p.Programs.RunProgram(ctx, call)
	}
	if err == nil {
		p.log().Info("pipe", "rcpt", req.Envelope.To, "program", a.Program)
		return true
	}
	level := p.log().Error
	if a.Try || errors.Is(err, sieve.ErrProgramFailed) {
		level = p.log().Warn
	}
	level("pipe failed", "rcpt", req.Envelope.To, "program", a.Program, "try", a.Try, "error", err)
	return a.Try
}
