package secret

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestBoxSealsAndBindsToAdditionalData(t *testing.T) {
	b, err := NewBox(RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal([]byte("JBSWY3DPEHPK3PXP"), []byte("phone:DP1"))
	if bytes.Contains(sealed, []byte("JBSWY3DPEHPK3PXP")) {
		t.Fatal("plaintext visible in the sealed value")
	}
	got, err := b.Open(sealed, []byte("phone:DP1"))
	if err != nil || string(got) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(sealed, []byte("phone:DP2")); err != ErrDecrypt {
		t.Fatalf("opened with another row's additional data: %v", err)
	}
	other, _ := NewBox(RandomKey())
	if _, err := other.Open(sealed, []byte("phone:DP1")); err != ErrDecrypt {
		t.Fatalf("opened with another key: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := b.Open(sealed, []byte("phone:DP1")); err != ErrDecrypt {
		t.Fatalf("opened a tampered value: %v", err)
	}
	if _, err := NewBox([]byte("short")); err == nil {
		t.Fatal("accepted a short key")
	}
}

func TestKeyFileIsCreatedPrivateAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %v %v %d", created, err, len(k1))
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", info.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", created, err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("a world-readable key file was used")
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("not hex"), 0o600)
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("a malformed key file was used")
	}
}

func TestTokensAreLongRandomAndHashed(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || len(a) < 43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if bytes.Equal(HashToken(a), HashToken(b)) || len(HashToken(a)) != 32 {
		t.Fatal("hashes collide or are not SHA-256")
	}
	salt := NewSalt()
	// Two separate calls: a keyed function gives the same token each time.
	first, again := DeriveToken([]byte("k"), salt), DeriveToken([]byte("k"), salt)
	if first != again || first == DeriveToken([]byte("j"), salt) {
		t.Fatal("DeriveToken is not a keyed function of the salt")
	}
	id := NewID("DU", 20)
	if len(id) != 20 || id[:2] != "DU" {
		t.Fatalf("id %q", id)
	}
	if len(NewKey(40)) != 40 || len(NewTOTPSecret()) != 32 {
		t.Fatal("wrong lengths")
	}
	if !Equal("abc", "abc") || Equal("abc", "abd") || Equal("abc", "ab") {
		t.Fatal("Equal is wrong")
	}
}
