package mailaddr

import "testing"

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`"alice smith"@example.org`: "alice smith@example.org",
		`"a\"b"@example.org`:        `a"b@example.org`,
		"alice@example.org":         "alice@example.org",
		`"x"`:                       `"x"`,
	} {
		if got := Unquote(in); got != want {
			t.Errorf("Unquote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"alice smith@example.org": `"alice smith"@example.org`,
		`a"b@example.org`:         `"a\"b"@example.org`,
		"alice@example.org":       "alice@example.org",
		"a..b@example.org":        `"a..b"@example.org`,
		"jörg@example.org":        "jörg@example.org", // RFC 6531: UTF-8 is atext
		"":                        "",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
		if in != "" && Unquote(Quote(in)) != in {
			t.Errorf("Unquote(Quote(%q)) = %q", in, Unquote(Quote(in)))
		}
	}
	if got := QuoteLocal("jörg", true); got != "jörg" {
		t.Errorf("QuoteLocal(jörg, utf8) = %q", got)
	}
}

func TestTrimAngle(t *testing.T) {
	for in, want := range map[string]string{"<a@b>": "a@b", " < a@b > ": "a@b", "<>": "", "a@b": "a@b", "<a@b": "<a@b"} {
		if got := TrimAngle(in); got != want {
			t.Errorf("TrimAngle(%q) = %q, want %q", in, got, want)
		}
	}
}
