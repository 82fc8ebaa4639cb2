package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of the at-rest master key.
const KeySize = 32

// ErrDecrypt means a sealed value could not be opened: it was tampered with,
// or sealed under another key.
var ErrDecrypt = errors.New("secret: cannot decrypt value")

// Box seals and opens secrets stored in the database with AES-256-GCM.
type Box struct {
	aead cipher.AEAD
	key  []byte
}

// NewBox returns a Box for a 32-byte master key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(Derive(key, "at-rest-encryption"))
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Box{aead: aead, key: key}, nil
}

// Seal encrypts plaintext. The additional data binds the ciphertext to its
// row (for example "phone:PH123"), so a sealed value copied to another row
// does not open.
func (b *Box) Seal(plaintext, additionalData []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	mustRead(nonce)
	return b.aead.Seal(nonce, nonce, plaintext, additionalData)
}

// Open decrypts a value made by Seal with the same additional data.
func (b *Box) Open(sealed, additionalData []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrDecrypt
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], additionalData)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// SubKey derives an independent key for another purpose (cookie signing,
// inline enrollment tokens) from the master key.
func (b *Box) SubKey(purpose string) []byte { return Derive(b.key, purpose) }

// Derive returns HMAC-SHA256(key, purpose): a separate 32-byte key per use.
func Derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("enrollment-portal/" + purpose))
	return m.Sum(nil)
}

// LoadOrCreateKeyFile reads the hex-encoded master key at path, creating it
// when it does not exist. The portal itself uses LoadKeyFile and creates a
// key only beside a new database (see app.Open).
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	key, err = LoadKeyFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = CreateKeyFile(path)
		return key, err == nil, err
	}
	return key, false, err
}

// CreateKeyFile writes a fresh master key to path (mode 0600, parent
// directories 0700); an existing file is never overwritten.
func CreateKeyFile(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	mustRead(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secret: create key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secret: create key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("secret: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("secret: write key file: %w", err)
	}
	return key, nil
}

// LoadKeyFile reads the hex-encoded master key at path. A missing file is
// an error that matches os.ErrNotExist. A key file readable by others is
// refused rather than silently used.
func LoadKeyFile(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: read key file: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret: stat key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret: key file %s is readable by others (mode %o); run chmod 600", path, info.Mode().Perm())
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("secret: key file %s must hold %d hex-encoded bytes", path, KeySize)
	}
	return key, nil
}

// CheckValue is a value derived from the master key that tells whether two
// keys are the same without revealing the key: recorded in the database, it
// lets a start notice a missing or different key file.
func CheckValue(key []byte) string {
	return hex.EncodeToString(Derive(key, "key-check-value"))
}

// RandomKey returns a fresh master key, for tests and tools.
func RandomKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}
