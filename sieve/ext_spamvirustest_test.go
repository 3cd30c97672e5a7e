package sieve

import (
	"context"
	"strings"
	"testing"
)

func TestSpamVirusTest(t *testing.T) {
	msg := "X-Spam: Yes, score=7.6 required=5.0\r\n" +
		"X-Spam-Low: No, score=-1.6 required=5.0\r\n" +
		"X-Spam-Level: ****\r\n" +
		"X-Spam-Bad: ***+\r\n" +
		"X-Max: 8\r\n" +
		"X-Verdict: Not Spam\r\n" +
		"X-Virus: Found to be infected.\r\n" +
		"\r\nbody\r\n"
	score := Settings{
		"sieve_spamtest_status_header":    "X-Spam: score=(-?[0-9]+\\.[0-9]+)",
		"sieve_spamtest_score_max_header": "X-Spam: required=([0-9.]+)",
	}
	with := func(base Settings, kv ...string) Settings {
		s := base.Clone()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(s, kv[i])
			} else {
				s[kv[i]] = kv[i+1]
			}
		}
		return s
	}
	tests := []struct {
		name     string
		settings Settings
		test     string // spamtest or virustest test, :matches "*" captures the value
		want     string
	}{
		{"unconfigured", nil, `spamtest`, "0"},
		{"score over max", score, `spamtest`, "10"},
		{"score percent", score, `spamtest :percent`, "100"},
		{"negative score", with(score, "sieve_spamtest_status_header", "X-Spam-Low: score=(-?[0-9]+\\.[0-9]+)", "sieve_spamtest_score_max_header", "X-Spam-Low: required=([0-9.]+)"), `spamtest`, "1"},
		{"max value", with(score, "sieve_spamtest_score_max_header", "", "sieve_spamtest_score_max_value", "10"), `spamtest :percent`, "76"},
		{"max from header", with(score, "sieve_spamtest_score_max_header", "X-Max"), `spamtest`, "9"},
		{"both max is a config error", with(score, "sieve_spamtest_score_max_value", "10"), `spamtest`, "0"},
		{"no max is a config error", with(score, "sieve_spamtest_score_max_header", ""), `spamtest`, "0"},
		{"missing header", with(score, "sieve_spamtest_status_header", "X-None"), `spamtest`, "0"},
		{"regex does not match", with(score, "sieve_spamtest_status_header", "X-Spam: nothing=([0-9])"), `spamtest`, "0"},
		{"strlen", Settings{"sieve_spamtest_status_header": "X-Spam-Level", "sieve_spamtest_status_type": "strlen", "sieve_spamtest_score_max_value": "8"}, `spamtest`, "5"},
		{"strlen mixed", Settings{"sieve_spamtest_status_header": "X-Spam-Bad", "sieve_spamtest_status_type": "strlen", "sieve_spamtest_score_max_value": "8"}, `spamtest`, "0"},
		{"text", Settings{"sieve_spamtest_status_header": "X-Verdict", "sieve_spamtest_status_type": "text", "sieve_spamtest_text_value1": "Not Spam", "sieve_spamtest_text_value/10": "Spam"}, `spamtest`, "1"},
		{"text unknown", Settings{"sieve_spamtest_status_header": "X-Verdict", "sieve_spamtest_status_type": "text", "sieve_spamtest_text_value10": "Spam"}, `spamtest`, "0"},
		{"bad type", Settings{"sieve_spamtest_status_header": "X-Verdict", "sieve_spamtest_status_type": "magic"}, `spamtest`, "0"},
		{"virus text regex", Settings{"sieve_virustest_status_header": "X-Virus:Found to be (.+)\\.", "sieve_virustest_status_type": "text", "sieve_virustest_text_value/5": "infected"}, `virustest`, "5"},
		{"2.3 setting names", Settings{"sieve_spamtest_status_header": "X-Max", "sieve_spamtest_max_value": "16"}, `spamtest :percent`, "50"},
		{"virus score", Settings{"sieve_virustest_status_header": "X-Max", "sieve_virustest_score_max_value": "16"}, `virustest`, "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := `require ["spamtestplus", "virustest", "variables", "fileinto"];
if ` + tc.test + ` :matches "*" { fileinto "${0}"; }`
			s, err := Compile("t", []byte(src), scoreOpts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(context.Background(), &Env{Message: ParseMessage([]byte(msg)), Settings: tc.settings})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Actions) != 1 || res.Actions[0].(*FileInto).Mailbox != tc.want {
				t.Errorf("value %v, want %s", res.Actions, tc.want)
			}
		})
	}
}

func TestSpamtestRelational(t *testing.T) {
	set := Settings{"sieve_spamtest_status_header": "X-Spam-Level", "sieve_spamtest_status_type": "strlen", "sieve_spamtest_score_max_value": "8"}
	msg := ParseMessage([]byte("X-Spam-Level: ********\r\n\r\n"))
	src := `require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "5" { fileinto "yes"; }`
	s, err := Compile("test", []byte(src), scoreOpts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(context.Background(), &Env{Message: msg, Settings: set})
	if err != nil || len(res.Actions) != 1 || res.Actions[0].(*FileInto).Mailbox != "yes" {
		t.Errorf("spamtest :value ge 5 did not hold for a maximal score")
	}
}

func TestSpamtestErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`require "spamtest"; if spamtest :percent "3" {}`, "only accepts the :percent argument when the spamtestplus extension is active"},
		{`require "spamtest"; if spamtest 3 {}`, "expects a string"},
		{`require "virustest"; if virustest :percent "3" {}`, "unknown tagged argument ':percent'"},
		{`if spamtest "3" {}`, "unknown test 'spamtest'"},
	}
	for _, tc := range tests {
		_, err := Compile("t", []byte(tc.src), scoreOpts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"7.6", 7.6, true}, {"-1.6", -1.6, true}, {".29", 0.29, true}, {"1,5", 1.5, true},
		{"+3", 3, true}, {"12345", 12345, true}, {"123456", 0, false}, {"1.123456", 0, false},
		{"", 0, false}, {"1.2x", 0, false}, {"abc", 0, false},
	}
	for _, tc := range tests {
		got, err := parseDecimal(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseDecimal(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// scoreOpts enables the score tests, which are off by default as in
// Pigeonhole.
var scoreOpts = &Options{Extensions: "+spamtest +spamtestplus +virustest"}

func TestScoreTestsOffByDefault(t *testing.T) {
	for _, ext := range []string{"spamtest", "spamtestplus", "virustest"} {
		if _, err := Compile("t", []byte(`require "`+ext+`";`), nil); err == nil {
			t.Errorf("%s is on by default; Pigeonhole needs it enabled", ext)
		}
	}
}
