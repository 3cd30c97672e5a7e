package delivery

import "testing"

// A script that does not compile is counted once per version, however
// many messages meet it.
func TestCompileFailuresCounted(t *testing.T) {
	f := newFixture(t, map[string]string{"example.com/bob.sieve": "vacation \"no require\";\n"}, nil)
	for range 3 {
		if st := f.deliver(t, "alice@example.org", "bob@example.com"); !st[0].OK() {
			t.Fatalf("status %v: a broken script keeps the message", st[0])
		}
	}
	if n := f.svc.metrics.CompileFailures.Value(""); n != 1 {
		t.Errorf("compile failures %d, want 1", n)
	}
}
