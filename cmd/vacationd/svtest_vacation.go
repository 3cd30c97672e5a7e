package main

import (
	"context"
	"time"

	"github.com/vacationd/vacationd/sieve"
)

// svtestVacation composes vacation replies for the conformance suite. It
// is replaced by the vacation package's responder once that is wired.
var svtestVacation func(ctx context.Context, a *sieve.Vacation, msg *sieve.Message, env sieve.Envelope, settings sieve.Settings, now time.Time) (*sieve.SentMessage, error)
