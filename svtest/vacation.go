package svtest

import (
	"context"
	"fmt"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/vacation"
)

// ComposeVacation composes vacation replies for the conformance suite with
// the real responder, under the settings the test configured; it is the
// usual Config.Vacation. The suite keeps no dedup records, like
// Pigeonhole's testsuite.
func ComposeVacation(ctx context.Context, a *sieve.Vacation, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) (*sieve.SentMessage, error) {
	vs, err := vacation.ParseSettings(settings)
	if err != nil {
		return nil, fmt.Errorf("vacation settings: %w", err)
	}
	r := &vacation.Responder{Settings: vs, Now: func() time.Time { return now }, Hostname: "testsuite.example.com"}
	in := &vacation.Input{User: env.To, Action: a, Message: msg,
		Envelope: vacation.Envelope{From: env.From, To: env.To, OrigTo: env.OrigTo}}
	d, err := r.Decide(ctx, in)
	if err != nil || !d.Send {
		return nil, err
	}
	rep, err := r.Compose(in, d)
	if err != nil {
		return nil, nil // an invalid expanded :from: a warning, no reply
	}
	return &sieve.SentMessage{From: rep.MailFrom, To: rep.RcptTo, Message: rep.Message}, nil
}
