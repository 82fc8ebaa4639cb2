package enroll

import (
	"context"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// FactorsOf lists every factor the user holds (policy.Factors says
// whether that makes them enrolled).
func (s *Service) FactorsOf(ctx context.Context, userID int64) (policy.Factors, error) {
	return policy.LoadFactors(ctx, s.store, userID)
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
