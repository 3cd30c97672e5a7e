package auth

import "testing"

// BenchmarkVerify measures one password check per scheme (what a login
// costs the server's CPU).
func BenchmarkVerify(b *testing.B) {
	for _, scheme := range []string{"sha512", "sha256", "blf", "argon2id", "argon2i", "ssha512", "plain"} {
		b.Run(scheme, func(b *testing.B) {
			for range b.N {
				if ok, err := verify(dovecotHashes[scheme], "secret"); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
