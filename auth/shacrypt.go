package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt, as published by Ulrich Drepper ("Unix crypt using SHA-256 and
// SHA-512", the specification glibc's crypt implements for $5$ and $6$).
// Only verification is needed; the tests check the specification's test
// vectors.

const (
	shaCryptRoundsDefault = 5000
	shaCryptRoundsMin     = 1000
	shaCryptRoundsMax     = 999999999
	shaCryptSaltMax       = 16
)

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// shaCryptVariant is $5$ (SHA-256) or $6$ (SHA-512).
type shaCryptVariant struct {
	prefix string
	hash   func() hash.Hash
	// order lists the byte triples of the final encoding; tail the last
	// bytes and how many characters they make.
	order [][3]int
	tail  []int
	tailN int
}

var sha256Crypt = shaCryptVariant{
	prefix: "$5$", hash: sha256.New,
	order: [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14}, {15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}},
	tail:  []int{-1, 31, 30}, tailN: 3,
}

var sha512Crypt = shaCryptVariant{
	prefix: "$6$", hash: sha512.New,
	order: [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}},
	tail:  []int{-1, -1, 63}, tailN: 2,
}

// crypt computes the crypt string of key for setting, which is
// "$5$[rounds=N$]salt[$...]" (anything after the salt is ignored). It
// returns false when setting does not start with the variant's prefix.
func (v shaCryptVariant) crypt(key []byte, setting string) (string, bool) {
	rest, ok := strings.CutPrefix(setting, v.prefix)
	if !ok {
		return "", false
	}
	rounds, custom := shaCryptRoundsDefault, false
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, found := strings.Cut(r, "$")
		n, err := strconv.ParseUint(num, 10, 64)
		if !found || err != nil {
			return "", false
		}
		rounds = int(min(max(n, shaCryptRoundsMin), shaCryptRoundsMax))
		custom, rest = true, after
	}
	salt, _, _ := strings.Cut(rest, "$")
	if len(salt) > shaCryptSaltMax {
		salt = salt[:shaCryptSaltMax]
	}
	saltB := []byte(salt)

	h := v.hash()
	h.Write(key)
	h.Write(saltB)
	h.Write(key)
	b := h.Sum(nil)

	h.Reset()
	h.Write(key)
	h.Write(saltB)
	size := len(b)
	for n := len(key); n > 0; n -= size {
		h.Write(b[:min(n, size)])
	}
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(key)
		}
	}
	a := h.Sum(nil)

	h.Reset()
	for range len(key) {
		h.Write(key)
	}
	dp := h.Sum(nil)
	p := repeatTo(dp, len(key))

	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(saltB)
	}
	ds := h.Sum(nil)
	s := repeatTo(ds, len(saltB))

	c := a
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	var out strings.Builder
	out.WriteString(v.prefix)
	if custom {
		out.WriteString("rounds=" + strconv.Itoa(rounds) + "$")
	}
	out.WriteString(salt)
	out.WriteByte('$')
	enc := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for range n {
			out.WriteByte(cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	for _, t := range v.order {
		enc(c[t[0]], c[t[1]], c[t[2]], 4)
	}
	at := func(i int) byte {
		if i < 0 {
			return 0
		}
		return c[i]
	}
	enc(at(v.tail[0]), at(v.tail[1]), at(v.tail[2]), v.tailN)
	return out.String(), true
}

// repeatTo returns n bytes of d repeated.
func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, d[:min(len(d), n-len(out))]...)
	}
	return out
}
