package policy

import (
	"context"
	"fmt"
	"slices"

	"enrollportal/internal/store"
)

// Factors is what a user holds: their phones (activated or not), security
// keys and hardware tokens.
type Factors struct {
	Phones         []store.Phone
	SecurityKeys   []store.SecurityKey
	HardwareTokens []store.HardwareToken
}

// The one definition of "enrolled": a user is enrolled under a list of
// accepted methods when they hold a factor of one of them. A phone counts
// for authenticator apps once activated with its TOTP secret, and for SMS
// when it takes SMS passcodes (store.Phone.TakesSMS); a security
// key and a hardware token count as soon as they are registered or
// assigned. The SQL of the admin figures (store/sqlite enrolledExpr) says
// the same, and TestEnrolledAgreesEverywhere holds them together.
//
// A nil list of methods means every method: "holds any factor", the guard
// of inline enrollment, which never lets a device be added without proof
// to an account that already has one, accepted here or not.

// Any reports whether the user holds any factor at all.
func (f Factors) Any() bool { return f.EnrolledUnder(nil) }

// EnrolledUnder reports whether the user holds a factor of one of methods
// (nil: of any method).
func (f Factors) EnrolledUnder(methods []string) bool {
	if Counts(methods, store.MethodAuthenticatorApp) {
		for _, p := range f.Phones {
			if p.Activated && len(p.TOTPSecret) > 0 {
				return true
			}
		}
	}
	if Counts(methods, store.MethodSMS) {
		for _, p := range f.Phones {
			if p.TakesSMS() {
				return true
			}
		}
	}
	if Counts(methods, store.MethodSecurityKey) && len(f.SecurityKeys) > 0 {
		return true
	}
	return Counts(methods, store.MethodHardwareToken) && len(f.HardwareTokens) > 0
}

// Counts reports whether method is among methods (nil: every method).
func Counts(methods []string, method string) bool {
	return methods == nil || slices.Contains(methods, method)
}

// FactorReader reads the factors a user holds.
type FactorReader interface {
	PhonesByUser(ctx context.Context, userID int64) ([]store.Phone, error)
	SecurityKeysByUser(ctx context.Context, userID int64) ([]store.SecurityKey, error)
	HardwareTokensByUser(ctx context.Context, userID int64) ([]store.HardwareToken, error)
}

// LoadFactors reads every factor the user holds.
func LoadFactors(ctx context.Context, r FactorReader, userID int64) (Factors, error) {
	_, f, err := loadUntilEnrolled(ctx, r, userID, nil, false, nil)
	return f, err
}

// EnrolledUnder reports whether the user is enrolled under methods, reading
// only the kinds of factor that count and stopping at the first that makes
// them enrolled (a login asks this on every attempt). The factors it read
// come back with the answer; the phones are read first, whenever
// authenticator apps count.
func EnrolledUnder(ctx context.Context, r FactorReader, userID int64, methods []string) (bool, Factors, error) {
	return loadUntilEnrolled(ctx, r, userID, methods, true, nil)
}

// EnrolledGivenPhones is EnrolledUnder for a caller that has read the
// user's phones already, together with the user (a login: see
// store.LoginSubject); the phones are not read again.
func EnrolledGivenPhones(ctx context.Context, r FactorReader, userID int64, methods []string, phones []store.Phone) (bool, Factors, error) {
	return loadUntilEnrolled(ctx, r, userID, methods, true, &phones)
}

// loadUntilEnrolled reads the factors that count under methods; phones,
// when not nil, are the user's phones as the caller read them.
func loadUntilEnrolled(ctx context.Context, r FactorReader, userID int64, methods []string, stop bool, phones *[]store.Phone) (bool, Factors, error) {
	var f Factors
	read := false
	loadPhones := func() (err error) {
		switch {
		case read:
		case phones != nil:
			f.Phones = *phones
		default:
			f.Phones, err = r.PhonesByUser(ctx, userID)
		}
		read = true
		return err
	}
	steps := []struct {
		method string
		load   func() error
	}{
		{store.MethodAuthenticatorApp, loadPhones},
		{store.MethodSMS, loadPhones},
		{store.MethodSecurityKey, func() (err error) { f.SecurityKeys, err = r.SecurityKeysByUser(ctx, userID); return err }},
		{store.MethodHardwareToken, func() (err error) { f.HardwareTokens, err = r.HardwareTokensByUser(ctx, userID); return err }},
	}
	for _, st := range steps {
		if !Counts(methods, st.method) {
			continue
		}
		if err := st.load(); err != nil {
			return false, f, fmt.Errorf("policy: factors of user %d: %w", userID, err)
		}
		if stop && f.EnrolledUnder(methods) {
			return true, f, nil
		}
	}
	return f.EnrolledUnder(methods), f, nil
}

// GlobalPolicyReader reads the global policy.
type GlobalPolicyReader interface {
	GlobalPolicy(ctx context.Context) (store.Policy, error)
}

// OrganisationMethods are the authentication methods the global policy
// accepts: what "enrolled" means where no application is in question (the
// dashboard's figures, the users list, a user's page, bulk enrollment).
func OrganisationMethods(ctx context.Context, r GlobalPolicyReader) ([]string, error) {
	global, err := r.GlobalPolicy(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: global policy: %w", err)
	}
	return Resolve(global, nil, nil).AuthMethods, nil
}

// Enrolled reports whether the user is enrolled under the organisation's
// methods (OrganisationMethods).
func (s *Service) Enrolled(ctx context.Context, userID int64) (bool, error) {
	methods, err := OrganisationMethods(ctx, s.Store)
	if err != nil {
		return false, err
	}
	enrolled, _, err := EnrolledUnder(ctx, s.Store, userID, methods)
	return enrolled, err
}
