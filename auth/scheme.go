package auth

import (
	"bytes"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// verify reports whether password matches stored, a Dovecot password
// field: "{SCHEME}hash", or a bare crypt(3) string ($2y$, $5$, $6$). An
// unknown scheme or a malformed hash is an error that names the scheme
// but never the hash.
func verify(stored, password string) (bool, error) {
	scheme, hash := "CRYPT", stored
	if strings.HasPrefix(stored, "{") {
		end := strings.IndexByte(stored, '}')
		if end < 0 {
			return false, fmt.Errorf("password field: unterminated {SCHEME}")
		}
		scheme, hash = strings.ToUpper(stored[1:end]), stored[end+1:]
	}
	switch scheme {
	case "PLAIN", "CLEAR", "CLEARTEXT":
		return subtle.ConstantTimeCompare([]byte(hash), []byte(password)) == 1, nil
	case "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "CRYPT":
		return verifyCrypt(scheme, hash, password)
	case "SSHA512":
		raw, err := base64.StdEncoding.DecodeString(hash)
		if err != nil || len(raw) <= sha512.Size {
			return false, fmt.Errorf("{SSHA512}: malformed hash")
		}
		sum := sha512.Sum512(append([]byte(password), raw[sha512.Size:]...))
		return subtle.ConstantTimeCompare(sum[:], raw[:sha512.Size]) == 1, nil
	case "ARGON2I", "ARGON2ID":
		return verifyArgon2(scheme, hash, password)
	}
	return false, fmt.Errorf("password scheme {%s} is not supported (want BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, ARGON2I, ARGON2ID, SSHA512 or PLAIN)", scheme)
}

// verifyCrypt checks a crypt(3) string of SHA-crypt ($5$, $6$) or bcrypt
// ($2a$, $2b$, $2y$).
func verifyCrypt(scheme, hash, password string) (bool, error) {
	switch {
	case strings.HasPrefix(hash, "$6$") && (scheme == "SHA512-CRYPT" || scheme == "CRYPT"),
		strings.HasPrefix(hash, "$5$") && (scheme == "SHA256-CRYPT" || scheme == "CRYPT"):
		v := sha512Crypt
		if hash[1] == '5' {
			v = sha256Crypt
		}
		got, ok := v.crypt([]byte(password), hash)
		if !ok {
			return false, fmt.Errorf("{%s}: malformed hash", scheme)
		}
		return subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1, nil
	case strings.HasPrefix(hash, "$2") && (scheme == "BLF-CRYPT" || scheme == "CRYPT"):
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		if err == bcrypt.ErrMismatchedHashAndPassword {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("{%s}: malformed hash", scheme)
		}
		return true, nil
	}
	return false, fmt.Errorf("{%s}: hash is not in a supported crypt format ($2y$, $5$ or $6$)", scheme)
}

// verifyArgon2 checks a PHC string: $argon2id$v=19$m=65536,t=3,p=1$salt$hash
// (salt and hash in unpadded base64), as Dovecot writes them.
func verifyArgon2(scheme, hash, password string) (bool, error) {
	bad := fmt.Errorf("{%s}: malformed hash", scheme)
	f := strings.Split(hash, "$")
	if len(f) != 6 || f[0] != "" || !strings.EqualFold(f[1], scheme) || f[2] != "v=19" {
		return false, bad
	}
	var m, t, p uint64
	for _, kv := range strings.Split(f[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return false, bad
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		default:
			return false, bad
		}
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(f[4])
	want, err2 := base64.RawStdEncoding.DecodeString(f[5])
	if err1 != nil || err2 != nil || m == 0 || t == 0 || p == 0 || p > 255 || len(want) == 0 || m > 4<<20 {
		return false, bad
	}
	var got []byte
	if scheme == "ARGON2I" {
		got = argon2.Key([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(want)))
	} else {
		got = argon2.IDKey([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(want)))
	}
	return subtle.ConstantTimeCompare(got, want) == 1 && !bytes.Equal(want, nil), nil
}
