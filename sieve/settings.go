package sieve

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Settings holds configuration by Pigeonhole's setting names
// (sieve_vacation_min_period, recipient_delimiter, ...). A nil Settings is
// empty; every getter takes the default to use when a name is unset.
type Settings map[string]string

// Get returns the value of name and whether it is set.
func (s Settings) Get(name string) (string, bool) {
	v, ok := s[name]
	return v, ok
}

// String returns the value of name, or def.
func (s Settings) String(name, def string) string {
	if v, ok := s[name]; ok {
		return v
	}
	return def
}

// Bool parses name as yes/no (also true/false, 1/0).
func (s Settings) Bool(name string, def bool) bool {
	v, ok := s[name]
	if !ok {
		return def
	}
	b, err := ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// Int parses name as a number, with Pigeonhole's size suffixes.
func (s Settings) Int(name string, def int64) int64 {
	v, ok := s[name]
	if !ok {
		return def
	}
	n, err := ParseSize(v)
	if err != nil {
		return def
	}
	return n
}

// Duration parses name as a Pigeonhole time interval ("7d", "12h", "0").
func (s Settings) Duration(name string, def time.Duration) time.Duration {
	v, ok := s[name]
	if !ok {
		return def
	}
	d, err := ParseDuration(v)
	if err != nil {
		return def
	}
	return d
}

// Clone returns a copy that can be modified independently.
func (s Settings) Clone() Settings {
	out := make(Settings, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// ParseBool parses a Dovecot boolean.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "true", "1", "on":
		return true, nil
	case "no", "n", "false", "0", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want yes or no)", v)
}

// ParseSize parses a number with an optional k/M/G (or kB, MB, GB) suffix.
func ParseSize(v string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(t, suf.s) {
			t = strings.TrimSpace(strings.TrimSuffix(t, suf.s))
			mult = suf.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", v)
	}
	return n * mult, nil
}

// ParseDuration parses a Dovecot time interval: a number followed by an
// optional unit (s, m/min, h, d, w and their long forms); a bare number is
// seconds.
func ParseDuration(v string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(v))
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid time interval %q", v)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid time interval %q", v)
	}
	unit := strings.TrimSpace(t[i:])
	var d time.Duration
	switch unit {
	case "", "s", "sec", "secs", "second", "seconds":
		d = time.Second
	case "m", "min", "mins", "minute", "minutes":
		d = time.Minute
	case "h", "hour", "hours":
		d = time.Hour
	case "d", "day", "days":
		d = 24 * time.Hour
	case "w", "week", "weeks":
		d = 7 * 24 * time.Hour
	case "ms", "msec", "msecs":
		d = time.Millisecond
	default:
		return 0, fmt.Errorf("invalid time interval %q: unknown unit %q", v, unit)
	}
	return time.Duration(n) * d, nil
}
