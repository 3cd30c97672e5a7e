package main

import (
	"context"
	"time"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/vacation"
)

// svtestVacation composes vacation replies for the conformance suite with
// the vacation package's responder. The suite has no duplicate database,
// as in Pigeonhole's testsuite, so nothing is deduplicated.
func svtestVacation(ctx context.Context, a *sieve.Vacation, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) (*sieve.SentMessage, error) {
	vs, err := vacation.ParseSettings(settings)
	if err != nil {
		return nil, err
	}
	r := &vacation.Responder{Settings: vs, Now: func() time.Time { return now }, Hostname: "vacationd.test"}
	in := &vacation.Input{
		User:     env.To,
		Action:   a,
		Message:  msg,
		Envelope: vacation.Envelope{From: env.From, To: env.To, OrigTo: env.OrigTo},
	}
	_, rep, err := r.Respond(ctx, in)
	if err != nil || rep == nil {
		return nil, err
	}
	return &sieve.SentMessage{From: rep.MailFrom, To: rep.RcptTo, Message: rep.Message}, nil
}
