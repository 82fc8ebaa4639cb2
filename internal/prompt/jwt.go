package prompt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"enrollportal/internal/store"
)

// parse verifies a client's HS512 JWT into claims: the algorithm is pinned
// (none, RS*, ES* and the other HS sizes are refused), exp is required and
// checked against the service clock with Leeway, and exp may not lie more
// than MaxJWTLifetime ahead.
func (s *Service) parse(raw, secret string, claims jwt.Claims) error {
	if raw == "" || len(raw) > MaxJWTLength {
		return errors.New("missing or too long")
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS512.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(s.clock.Now),
		jwt.WithIssuedAt(),
	)
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodHS512 {
			return nil, fmt.Errorf("algorithm %v", t.Header["alg"])
		}
		return []byte(secret), nil
	})
	if err != nil {
		return err
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return errors.New("no exp")
	}
	if exp.Time.After(s.clock.Now().Add(MaxJWTLifetime + Leeway)) {
		return errors.New("exp too far in the future")
	}
	return nil
}

// assertionClaims are the claims of a client assertion.
type assertionClaims struct {
	jwt.RegisteredClaims
}

// Authenticate checks the client assertion that clientID sent to path
// (PathToken or PathHealthCheck): signed with the client secret, iss and
// sub the client_id, aud the endpoint's URL, not expired, and its jti never
// seen before. It returns the application.
func (s *Service) Authenticate(ctx context.Context, clientID, assertion, path string) (store.Application, error) {
	a, sec, err := s.Client(ctx, clientID)
	if err != nil {
		return a, err
	}
	var c assertionClaims
	if err := s.parse(assertion, sec, &c); err != nil {
		return a, refuse(CodeInvalidClient, "The client assertion is not valid: "+describe(err))
	}
	if c.Issuer != clientID || c.Subject != clientID {
		return a, refuse(CodeInvalidClient, "The client assertion's iss and sub must be the client_id.")
	}
	if !audienceMatches(c.Audience, s.audiences(path)) {
		return a, refuse(CodeInvalidClient, "The client assertion's aud must be this endpoint's URL.")
	}
	if c.ID == "" || len(c.ID) > MaxJTILength {
		return a, refuse(CodeInvalidClient, "The client assertion needs a jti.")
	}
	// Remember the jti until the assertion could no longer be accepted.
	err = s.store.RecordAssertion(ctx, a.ID, c.ID, c.ExpiresAt.Time.Add(Leeway))
	if errors.Is(err, store.ErrConflict) {
		return a, refuse(CodeInvalidClient, "The client assertion was already used.")
	}
	if err != nil {
		return a, fmt.Errorf("prompt: record assertion: %w", err)
	}
	return a, nil
}

func audienceMatches(aud jwt.ClaimStrings, accepted []string) bool {
	// One audience only: an assertion made for several servers is not
	// meant for this one alone.
	return len(aud) == 1 && slices.Contains(accepted, aud[0])
}

// describe turns a JWT library error into a short phrase for the client.
func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "it has expired."
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "it is not valid yet (check the server's clock)."
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the signature or algorithm is wrong (HS512 with the client secret is required)."
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "it is malformed."
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "exp is missing."
	}
	return "it is malformed or expires too far ahead."
}

// now is the service clock, truncated to seconds as JWT times are.
func (s *Service) now() time.Time { return s.clock.Now().Truncate(time.Second) }
