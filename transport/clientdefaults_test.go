package transport

import (
	"log/slog"
	"testing"
	"time"
)

// clientSettings are the settings clientDefaults fills, as one value.
type clientSettings struct {
	dial, command, data, idle time.Duration
	maxIdle                   int
	log                       *slog.Logger
}

// TestClientDefaults: a Sender and a Forwarder get the documented defaults
// for the settings left zero and keep the ones set; both get a local name.
func TestClientDefaults(t *testing.T) {
	s, err := NewSender(SenderConfig{Addr: "127.0.0.1:25"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewForwarder(ForwarderConfig{Target: "lmtp:127.0.0.1:24", DialTimeout: time.Second, MaxIdle: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want clientSettings
		localName string
	}{
		{"sender",
			clientSettings{s.cfg.DialTimeout, s.cfg.CommandTimeout, s.cfg.DataTimeout, s.cfg.IdleTimeout, s.cfg.MaxIdle, s.log},
			clientSettings{30 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Second, 4, slog.Default()},
			s.cfg.HeloName},
		{"forwarder",
			clientSettings{f.cfg.DialTimeout, f.cfg.CommandTimeout, f.cfg.DataTimeout, f.cfg.IdleTimeout, f.cfg.MaxIdle, f.log},
			clientSettings{time.Second, time.Minute, 5 * time.Minute, 30 * time.Second, 1, slog.Default()},
			f.cfg.LHLOName},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: settings %+v, want %+v", tt.name, tt.got, tt.want)
		}
		if tt.localName == "" {
			t.Errorf("%s: no local name", tt.name)
		}
	}
}
