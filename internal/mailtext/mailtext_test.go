package mailtext

import "testing"

func TestFieldName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"x-vacation", "X-Vacation"},
		{"CONTENT-TYPE", "Content-Type"},
		{"x--a1b", "X--A1b"},
		{"", ""},
		{"x-some-header", "X-Some-Header"},
		{"SUBJECT", "Subject"},
		{"x--y", "X--Y"},
		{"1-a", "1-A"},
	} {
		if got := FieldName(tt.in); got != tt.want {
			t.Errorf("FieldName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 5, "short"},
		{"longer", 5, "long…"},
		{"ééééé", 5, "ééééé"},
		{"éééééé", 5, "éééé…"},
		{"ab", 1, "…"},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"ééé", 3, "ééé"},
		{"éééé", 3, "éé…"},
	} {
		if got := Truncate(tt.in, tt.max); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
