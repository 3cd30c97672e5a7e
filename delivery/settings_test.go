package delivery

import (
	"strings"
	"testing"
)

// TestExpandSettingValue checks the Dovecot expansion of values, which
// sieve-test applies to -o: %% is %, other variables are refused.
func TestExpandSettingValue(t *testing.T) {
	for in, want := range map[string]string{
		"Re: %%{subject}": "Re: %{subject}",
		"[OOO] %%$":       "[OOO] %$",
		"100%%%%":         "100%%",
		"plain":           "plain",
	} {
		got, err := expandSettingValue(in)
		if err != nil || got != want {
			t.Errorf("expandSettingValue(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Re: %{subject}", "%$", "%u", "50%"} {
		if got, err := expandSettingValue(in); err == nil {
			t.Errorf("expandSettingValue(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseSettings(t *testing.T) {
	tests := []struct {
		in      []string
		want    map[string]string
		wantErr string // substring of the error; "" for none
	}{
		{in: []string{"sieve_vacation_min_period=0"}, want: map[string]string{"sieve_vacation_min_period": "0"}},
		{in: []string{"plugin/sieve_user_email = bob@example.com"}, want: map[string]string{"sieve_user_email": "bob@example.com"}},
		{in: []string{"sieve_before2=/x.sieve", "sieve_spamtest_status_type=strlen"}, want: map[string]string{"sieve_before2": "/x.sieve", "sieve_spamtest_status_type": "strlen"}},
		{in: []string{"recipient_delimiter=+-"}, want: map[string]string{"recipient_delimiter": "+-"}},
		{in: []string{"sieve_vacation_min_perod=0"}, wantErr: `"sieve_vacation_min_perod": unknown setting`},
		{in: []string{"plugin/nonsense=1"}, wantErr: `"nonsense": unknown setting`},
		{in: []string{"sieve_user_email"}, wantErr: "want NAME=VALUE"},
		{in: []string{"=x"}, wantErr: "want NAME=VALUE"},
		{in: []string{"sieve_vacation_default_subject_template=Re: %{subject}"}, wantErr: "sieve_vacation_default_subject_template"},
		{in: []string{"sieve_extensions=+editheader -regex"}, want: map[string]string{"sieve_extensions": "+editheader -regex"}},
		{in: []string{"sieve_extensions=+editheadr"}, wantErr: `"editheadr"`},
		{in: []string{"plugin/sieve_global_extensions=+vnd.dovecot.nope"}, wantErr: `"vnd.dovecot.nope"`},
	}
	for _, tc := range tests {
		got, err := ParseSettings(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSettings(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSettings(%q): %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseSettings(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseSettings(%q)[%s] = %q, want %q", tc.in, k, got[k], v)
			}
		}
	}
}
