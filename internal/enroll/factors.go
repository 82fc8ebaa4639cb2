package enroll

import (
	"context"
	"fmt"

	"enrollportal/internal/store"
)

// Factors is what a user has enrolled.
type Factors struct {
	Phones       []store.Phone
	SecurityKeys []store.SecurityKey
}

// Enrolled reports whether the user has at least one activated factor.
func (f Factors) Enrolled() bool {
	for _, p := range f.Phones {
		if p.Activated {
			return true
		}
	}
	return len(f.SecurityKeys) > 0
}

// FactorsOf lists u's phones and security keys.
func (s *Service) FactorsOf(ctx context.Context, userID int64) (Factors, error) {
	phones, err := s.store.PhonesByUser(ctx, userID)
	if err != nil {
		return Factors{}, fmt.Errorf("enroll: factors: %w", err)
	}
	keys, err := s.store.SecurityKeysByUser(ctx, userID)
	if err != nil {
		return Factors{}, fmt.Errorf("enroll: factors: %w", err)
	}
	return Factors{Phones: phones, SecurityKeys: keys}, nil
}

// PhoneLabel names a phone in messages and on the device page: its name,
// else its kind and the last digits of its number, else its platform.
func PhoneLabel(p store.Phone) string {
	if p.Name != "" {
		return p.Name
	}
	kind := "Mobile phone"
	if p.Type == store.PhoneTablet {
		kind = "Tablet"
	}
	if n := len(p.Number); n >= 4 {
		return kind + " ending in " + p.Number[n-4:]
	}
	return kind + " (" + p.Platform + ")"
}
