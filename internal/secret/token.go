package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
)

// TokenBytes is the entropy of every bearer token the portal hands out
// (enrollment links, activation codes, setup links): 256 bits.
const TokenBytes = 32

// NewToken returns a random URL-safe bearer token.
func NewToken() string {
	b := make([]byte, TokenBytes)
	mustRead(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewSalt returns 16 random bytes.
func NewSalt() []byte {
	b := make([]byte, 16)
	mustRead(b)
	return b
}

// DeriveToken returns the bearer token HMAC-SHA256(key, salt), URL-safe. The
// server can give the same token again from the stored salt; the database
// alone cannot.
func DeriveToken(key, salt []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(salt)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// HashToken returns the value stored in place of a bearer token. Tokens carry
// 256 bits of entropy, so a plain SHA-256 is enough: there is nothing to
// brute-force, and a database dump yields no usable link.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// EqualBytes compares two byte secrets in constant time.
func EqualBytes(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// NewTOTPSecret returns a random 160-bit TOTP seed in unpadded base32, the
// form authenticator apps expect in an otpauth:// URL.
func NewTOTPSecret() string {
	b := make([]byte, 20)
	mustRead(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns prefix followed by random upper-case letters and digits, n
// characters in all, in the style of Duo's object ids ("DU..." for users).
func NewID(prefix string, n int) string {
	return prefix + randomFrom(upperAlnum, n-len(prefix))
}

// NewKey returns n random letters and digits, for API secrets.
func NewKey(n int) string {
	return randomFrom(mixedAlnum, n)
}

func randomFrom(alphabet string, n int) string {
	out := make([]byte, n)
	// Rejection sampling keeps every character equally likely.
	limit := byte(256 - 256%len(alphabet))
	buf := make([]byte, 1)
	for i := 0; i < n; {
		mustRead(buf)
		if buf[0] >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}

func mustRead(b []byte) {
	// crypto/rand.Read never fails on supported platforms (Go 1.24+ panics
	// itself rather than return an error).
	_, _ = rand.Read(b)
}
