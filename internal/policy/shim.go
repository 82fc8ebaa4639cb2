// Package policy is a temporary stand-in with the API of the real package
// (branch duo-api), deleted when that lands.
package policy

import (
	"context"
	"errors"
	"net"

	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

type Effective struct {
	NewUserPolicy                              string
	DeniedCountries, EnrollMethods, AuthMethods []string
}

type Decision struct {
	Result, Reason, Message string
	Effective               Effective
}

type Service struct{ Store store.Store }

func (s *Service) Decide(ctx context.Context, app store.Application, rawUsername string, ip net.IP) (Decision, *store.User, error) {
	g, err := s.Store.GlobalPolicy(ctx)
	if err != nil {
		return Decision{}, nil, err
	}
	eff := Effective{NewUserPolicy: g.NewUserPolicy, EnrollMethods: g.EnrollMethods, AuthMethods: g.AuthMethods}
	d := Decision{Effective: eff}
	name := users.NormalizeSimple(rawUsername)
	u, err := s.Store.UserByUsername(ctx, name)
	var up *store.User
	if err == nil {
		up = &u
		switch u.Status {
		case store.StatusDisabled, store.StatusLockedOut:
			d.Result, d.Reason, d.Message = "deny", "user_disabled", "Your account is disabled."
			return d, up, nil
		case store.StatusBypass:
			d.Result, d.Reason = "allow", "bypass_user"
			return d, up, nil
		}
		ph, _ := s.Store.PhonesByUser(ctx, u.ID)
		ks, _ := s.Store.SecurityKeysByUser(ctx, u.ID)
		for _, p := range ph {
			if p.Activated {
				d.Result, d.Reason = "auth", ""
				return d, up, nil
			}
		}
		if len(ks) > 0 {
			d.Result = "auth"
			return d, up, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return Decision{}, nil, err
	}
	switch eff.NewUserPolicy {
	case store.NewUserAllow:
		d.Result, d.Reason = "allow", "allow_unenrolled_user"
	case store.NewUserDeny:
		d.Result, d.Reason, d.Message = "deny", "deny_unenrolled_user", "Your account is not set up for two-factor sign-in."
	default:
		d.Result, d.Reason = "enroll", "enroll_unenrolled_user"
	}
	return d, up, nil
}
