package transport

import (
	"log/slog"
	"os"
	"time"
)

// clientDefaults fills the zero (or negative) settings a [Sender] and a
// [Forwarder] share with their documented defaults: dialing 30s, each
// command 1 minute, the end of DATA 5 minutes, 4 idle connections reused
// for 30s, slog.Default().
func clientDefaults(dial, command, data *time.Duration, maxIdle *int, idle *time.Duration, log **slog.Logger) {
	if *dial <= 0 {
		*dial = 30 * time.Second
	}
	if *command <= 0 {
		*command = time.Minute
	}
	if *data <= 0 {
		*data = 5 * time.Minute
	}
	if *maxIdle <= 0 {
		*maxIdle = 4
	}
	if *idle <= 0 {
		*idle = 30 * time.Second
	}
	if *log == nil {
		*log = slog.Default()
	}
}

// localName is name, or when it is "" this host's name (os.Hostname), or
// "localhost" when that is unknown: the name announced in a greeting,
// EHLO or LHLO.
func localName(name string) string {
	if name != "" {
		return name
	}
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}
