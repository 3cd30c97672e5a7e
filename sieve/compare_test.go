package sieve

import (
	"context"
	"testing"
)

// TestUnicodeCasemap: i;unicode-casemap compares the canonical forms RFC
// 5051 defines, decomposition included: NFC and NFD spellings are equal,
// and so are a ligature and its letters in any case.
func TestUnicodeCasemap(t *testing.T) {
	const (
		nfc = "Caf\u00e9"  // é precomposed
		nfd = "CAFE\u0301" // E + combining acute
		lig = "\ufb01le"   // "ﬁle" with the fi ligature
		up  = "FILE"       // its letters
		ang = "\u212b"     // ANGSTROM SIGN
		aa  = "\u00e5"     // å
	)
	for _, tc := range []struct {
		mt         string
		value, key string
		want       bool
	}{
		{":is", nfc, nfd, true},
		{":is", nfd, nfc, true},
		{":is", lig, up, true},
		{":is", up, lig, true},
		{":is", ang, aa, true},
		{":contains", "Re: " + nfd + " au lait", "caf\u00e9 AU", true},
		{":contains", "the " + lig + "s", "FILES", true},
		{":matches", nfc + " noir", "cafe\u0301*", true},
		{":matches", lig, "FI*", true},
		{":is", nfc, "cafe", false},
		{":is", "caf", nfc, false},
	} {
		src := `if header :comparator "i;unicode-casemap" ` + tc.mt + ` "subject" "` + tc.key + `" { discard; }`
		s, err := Compile("t", []byte(src), nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		res, err := s.Run(context.Background(), &Env{Message: ParseMessage([]byte("Subject: " + tc.value + "\r\n\r\n"))})
		if err != nil {
			t.Fatal(err)
		}
		if got := !res.ImplicitKeep; got != tc.want {
			t.Errorf("%q %s %q = %v, want %v", tc.value, tc.mt, tc.key, got, tc.want)
		}
	}
}
