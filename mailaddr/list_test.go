package mailaddr

import (
	"fmt"
	"reflect"
	"testing"
)

// show renders elements compactly: name|local@domain, "!" for invalid,
// "G(name)" and "G;" for group boundaries.
func show(as []Address) []string {
	var out []string
	for _, a := range as {
		var s string
		switch a.Kind {
		case GroupStart:
			s = "G(" + a.Name + ")"
		case GroupEnd:
			s = "G;"
		default:
			s = a.Name + "|" + a.String()
		}
		if a.Invalid {
			s += "!"
		}
		out = append(out, s)
	}
	return out
}

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"a@b.c", []string{"|a@b.c"}},
		{`"A, B" <a@b.c>, d@e.f`, []string{"A, B|a@b.c", "|d@e.f"}},
		{"a@b.c (Alice)", []string{"Alice|a@b.c"}},
		{"<@r.example,@s.example:a@b.c>", []string{"|a@b.c"}},
		{"G: a@b.c, d@e.f;, g@h.i", []string{"G(G)", "|a@b.c", "|d@e.f", "G;", "|g@h.i"}},
		{"undisclosed-recipients:;", []string{"G(undisclosed-recipients)", "G;"}},
		{`"a b"@c.d`, []string{"|a b@c.d"}},
		{".a.@b.c", []string{"|.a.@b.c"}},
		{"a@[192.0.2.1]", []string{"|a@[192.0.2.1]"}},
		// Recovery after malformed elements.
		{"d@x.e, garbage<, b@e.c", []string{"|d@x.e", "garbage|!", "|b@e.c"}},
		{"d@x.e, <>, b@e.c", []string{"|d@x.e", "|!", "|b@e.c"}},
		{"d@x.e, garbage<a@b, b@e.c", []string{"|d@x.e", "garbage|a@b!", "|b@e.c"}},
		{"d@x.e, Bob <b@e.c x, c@f.g", []string{"|d@x.e", "Bob|b@e.c!"}},
		{"d@x.e, G: <x, b@e.c", []string{"|d@x.e", "G(G)", "|x!", "|b@e.c", "G;!"}},
		{"carol, b@e.c", []string{"|carol!", "|b@e.c"}},
		{"a b c, b@e.c", []string{"a b c|!", "|b@e.c"}},
		{`"unclosed, b@e.c`, []string{"|!"}},
		{"a@b.c (unclosed", []string{"|a!"}},
	} {
		if got := show(ParseList(tc.in, 0)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseListMax(t *testing.T) {
	var v string
	for i := 0; i < 300; i++ {
		v += fmt.Sprintf("u%d@example.com, ", i)
	}
	if n := len(ParseList(v, 256)); n != 256 {
		t.Errorf("max 256: %d elements", n)
	}
}
