package mailaddr

import (
	"strings"
	"testing"
)

// FuzzParse feeds every parser arbitrary input: none may panic or loop,
// and what they return must be consistent.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a@b.c", `"A, B" <a@b.c>, d@e.f`, "dave@x.example, garbage<, bob@example.com",
		"G: <x, b@e.c", `"unclosed, b@e.c`, "a@b.c (unclosed", "(\\", "<@r:a@b>", "<>", "<", ":",
		"a@[1.2.3.4", "=?utf-8?q?B=C3=B6b?= <b@e.c>", ".a.@b.c", "G: a@b.c;;; ,,, <<>>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		as := ParseList(s, 0)
		if len(as) > len(s)+1 {
			t.Fatalf("%d elements from %d bytes", len(as), len(s))
		}
		for _, a := range as {
			if a.Complete() && (a.Local == "" || a.Domain == "") {
				t.Fatalf("complete element %+v", a)
			}
		}
		if max := ParseList(s, 1); len(max) > 0 && len(as) > 0 && max[0] != as[0] {
			t.Fatalf("first element differs with max 1: %+v vs %+v", max[0], as[0])
		}
		if a, err := ParseMailbox(s); err == nil && (a.Local == "" || a.Domain == "" || a.Domain != strings.ToLower(a.Domain)) {
			t.Fatalf("ParseMailbox(%q) = %+v", s, a)
		}
		if a, null, ok := ParsePath(s); ok && !null {
			if p, ok2 := NormalizePath(a.SMTP()); !ok2 || p != a.SMTP() {
				t.Fatalf("path %q: %q does not parse back (%q, %v)", s, a.SMTP(), p, ok2)
			}
		}
		_ = Unquote(Quote(s))
	})
}
