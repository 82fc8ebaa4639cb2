package enroll

import (
	"context"

	"enrollportal/internal/policy"
)

// FactorsOf lists every factor the user holds (policy.Factors says
// whether that makes them enrolled).
func (s *Service) FactorsOf(ctx context.Context, userID int64) (policy.Factors, error) {
	return policy.LoadFactors(ctx, s.store, userID)
}
