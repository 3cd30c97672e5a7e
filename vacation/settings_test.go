package vacation

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"0", 0, false},
		{"3600", time.Hour, false},
		{"1d", 24 * time.Hour, false},
		{"60d", 60 * 24 * time.Hour, false},
		{"7 days", 7 * 24 * time.Hour, false},
		{"90 mins", 90 * time.Minute, false},
		{"1h", time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"30s", 30 * time.Second, false},
		{"", 0, true},
		{"d", 0, true},
		{"-1d", 0, true},
		{"1 fortnight", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999999d", 0, true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(map[string]string{
		"sieve_vacation_min_period":                "0",
		"sieve_vacation_max_period":                "30d",
		"sieve_vacation_default_period":            "1h",
		"sieve_vacation_use_original_recipient":    "yes",
		"sieve_vacation_check_recipient":           "no",
		"sieve_vacation_send_from_recipient":       "yes",
		"sieve_vacation_to_header_ignore_envelope": "YES",
		"sieve_vacation_default_subject":           "Away",
		"sieve_vacation_default_subject_template":  "Re: %{subject}",
		"sieve_user_email":                         "<bob@example.com>",
		"postmaster_address":                       "pm@example.com",
		"sieve_max_redirects":                      "4", // the engine's, ignored here
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		MinPeriod: 0, MaxPeriod: 30 * 24 * time.Hour, DefaultPeriod: time.Hour,
		UseOriginalRecipient: true, DontCheckRecipient: true, SendFromRecipient: true,
		ToHeaderIgnoreEnvelope: true, DefaultSubject: "Away", DefaultSubjectTemplate: "Re: %{subject}",
		UserEmail: "bob@example.com", PostmasterAddress: "pm@example.com",
		MaxRepliesPerAddress: 10, MaxRepliesPerMinute: 1000,
	}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if d := DefaultSettings(); d.MinPeriod != 24*time.Hour || d.MaxPeriod != 60*24*time.Hour || d.DefaultPeriod != 7*24*time.Hour {
		t.Errorf("defaults %+v", d)
	}
}

func TestSettingsErrors(t *testing.T) {
	var s Settings
	if err := s.Set("sieve_vacation_bogus", "1"); !errors.Is(err, ErrUnknownSetting) {
		t.Errorf("unknown name: %v", err)
	}
	for _, m := range []map[string]string{
		{"sieve_vacation_min_period": "soon"},
		{"sieve_vacation_dont_check_recipient": "perhaps"},
		{"sieve_vacation_dont_check_recipient": "true"}, // Pigeonhole knows yes and no only
		{"sieve_vacation_send_from_recipient": "1"},
		{"sieve_vacation_min_period": "10d"},                                       // over default 7d
		{"sieve_vacation_max_period": "1d", "sieve_vacation_min_period": "2d"},     // min > max
		{"sieve_vacation_default_period": "90d"},                                   // over max 60d
		{"sieve_vacation_default_period": "1h", "sieve_vacation_min_period": "1d"}, // under min
	} {
		if _, err := ParseSettings(m); err == nil {
			t.Errorf("ParseSettings(%v): no error", m)
		}
	}
	// max 0 is "no upper bound" (Dovecot 2.3).
	s, err := ParseSettings(map[string]string{"sieve_vacation_max_period": "0", "sieve_vacation_default_period": "400d"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Period(true, 1000*24*time.Hour); got != 1000*24*time.Hour {
		t.Errorf("unbounded period clamped to %v", got)
	}
}

func TestPeriod(t *testing.T) {
	s := DefaultSettings()
	for _, tc := range []struct {
		set  bool
		in   time.Duration
		want time.Duration
	}{
		{false, 0, 7 * 24 * time.Hour},
		{true, 0, 24 * time.Hour},
		{true, 10 * time.Second, 24 * time.Hour},
		{true, 3 * 24 * time.Hour, 3 * 24 * time.Hour},
		{true, 100 * 24 * time.Hour, 60 * 24 * time.Hour},
	} {
		if got := s.Period(tc.set, tc.in); got != tc.want {
			t.Errorf("Period(%v, %v) = %v, want %v", tc.set, tc.in, got, tc.want)
		}
	}
	s.MinPeriod = 0
	if got := s.Period(true, 0); got != 0 {
		t.Errorf(":seconds 0 with min 0 = %v, want 0", got)
	}
}

func TestParseSettingsLenient(t *testing.T) {
	for _, tc := range []struct {
		m    map[string]string
		warn bool
		min  time.Duration
	}{
		{map[string]string{"sieve_vacation_min_period": "10d", "sieve_vacation_max_period": "2d"}, true, 24 * time.Hour},
		{map[string]string{"sieve_vacation_default_period": "1h"}, true, 24 * time.Hour},
		{map[string]string{"sieve_vacation_min_period": "0"}, false, 0},
		{map[string]string{"sieve_vacation_max_period": "0", "sieve_vacation_default_period": "1h"}, false, 24 * time.Hour},
	} {
		s, warn, err := ParseSettingsLenient(tc.m)
		if err != nil {
			t.Fatalf("%v: %v", tc.m, err)
		}
		if (len(warn) > 0) != tc.warn || s.MinPeriod != tc.min {
			t.Errorf("%v: warnings %q, min %v; want warning %v, min %v", tc.m, warn, s.MinPeriod, tc.warn, tc.min)
		}
	}
	// Values Pigeonhole does not take are ignored with a warning.
	for _, m := range []map[string]string{
		{"sieve_vacation_min_period": "soon"},
		{"sieve_vacation_min_period": "1w"},
		{"sieve_vacation_min_period": "1 d"},
		{"sieve_vacation_dont_check_recipient": "true"},
		{"sieve_vacation_max_subject_codepoints": "many"},
	} {
		s, warn, err := ParseSettingsLenient(m)
		if err != nil || len(warn) != 1 || s != DefaultSettings() {
			t.Errorf("%v: %+v, warnings %q, %v; want the defaults and one warning", m, s, warn, err)
		}
	}
	s, warn, err := ParseSettingsLenient(map[string]string{"sieve_vacation_min_period": "2days",
		"sieve_vacation_dont_check_recipient": " YES ", "sieve_vacation_max_subject_codepoints": "10"})
	if err != nil || len(warn) != 0 || s.MinPeriod != 48*time.Hour || !s.DontCheckRecipient || s.MaxSubjectCodePoints != 10 {
		t.Errorf("%+v, warnings %q, %v", s, warn, err)
	}
}
