package svtest

import (
	"context"
	"fmt"
	"time"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/notify"
	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/vacation"
)

// ComposeVacation composes vacation replies for the conformance suite
// through the service's pipeline, under the settings the test configured;
// it is the usual Config.Vacation. The suite keeps no dedup records, like
// Pigeonhole's testsuite.
func ComposeVacation(ctx context.Context, a *sieve.Vacation, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) (*sieve.SentMessage, error) {
	vs, err := vacation.ParseSettings(settings)
	if err != nil {
		return nil, fmt.Errorf("vacation settings: %w", err)
	}
	clock := func() time.Time { return now }
	p := &delivery.Pipeline{
		Settings:  settings,
		Responder: &vacation.Responder{Settings: vs, Now: clock, Hostname: "testsuite.example.com"},
		Now:       clock,
	}
	v, _, _, err := p.Vacation(ctx, &delivery.Request{User: env.To, Envelope: env, Message: msg}, a, nil)
	if err != nil || v.Reply == nil {
		return nil, err // no reply is due, or an invalid expanded :from (a warning, no reply)
	}
	return &sieve.SentMessage{From: v.Reply.MailFrom, To: v.Reply.RcptTo, Message: v.Reply.Message}, nil
}

// ComposeMail composes the messages of notify actions with package
// notify, one captured message per envelope recipient, as Pigeonhole's
// testsuite records them.
func ComposeMail(ctx context.Context, a sieve.Action, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) ([]*sieve.SentMessage, error) {
	in := notify.Input{Message: msg, Envelope: env, Settings: settings, Now: now, Hostname: "testsuite.example.com"}
	var m *notify.Mail
	var err error
	switch a := a.(type) {
	case *sieve.Notify:
		m, _, err = notify.Mailto(a, in)
	case *sieve.Report:
		m, err = notify.Report(a, in)
	default:
		return nil, fmt.Errorf("no message for a %s action", a.Kind())
	}
	if err != nil || m == nil {
		return nil, err
	}
	var out []*sieve.SentMessage
	for _, to := range m.To {
		out = append(out, &sieve.SentMessage{From: m.From, To: to, Message: m.Message})
	}
	return out, nil
}
