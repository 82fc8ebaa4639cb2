package policy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/oschwald/geoip2-golang"

	"enrollportal/internal/clock"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
)

// Store is what the policy service uses of the database: users with their
// factors and groups, applications, policies, and transactions for an
// admin's change of them.
type Store interface {
	store.Transactor
	store.UserQueries
	store.GroupQueries
	store.PhoneQueries
	store.SecurityKeyQueries
	store.HardwareTokenQueries
	store.ApplicationQueries
	store.PolicyQueries
	store.AccessQueries
}

// Service loads what Evaluate needs and calls it.
type Service struct {
	Store Store
	Clock clock.Clock
	// GeoIP looks up the country of client addresses; nil when no GeoIP
	// file is configured, and then location rules deny nobody.
	GeoIP *geoip2.Reader
}

// OpenGeoIP opens a MaxMind-format country or city database.
func OpenGeoIP(path string) (*geoip2.Reader, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: open GeoIP database %s: %w", path, err)
	}
	return r, nil
}

// NormalizeUsername applies the application's username normalization.
func NormalizeUsername(app store.Application, raw string) string {
	if app.UsernameNormalization == store.NormalizeNone {
		return users.Normalize(raw)
	}
	return users.NormalizeSimple(raw)
}

// Country returns the ISO country code of ip, or "" when unknown (no GeoIP
// file, a private address, an address the file does not cover).
func (s *Service) Country(ip net.IP) string {
	if s.GeoIP == nil || ip == nil {
		return ""
	}
	rec, err := s.GeoIP.Country(ip)
	if err != nil {
		return ""
	}
	return strings.ToUpper(rec.Country.IsoCode)
}

// Decide evaluates an authentication request of rawUsername (normalized as
// the application says) from ip for app. It returns the user (nil when
// unknown) so the caller need not load it again.
func (s *Service) Decide(ctx context.Context, app store.Application, rawUsername string, ip net.IP) (Decision, *store.User, error) {
	l, err := s.DecideLogin(ctx, app, rawUsername, ip)
	return l.Decision, l.User, err
}

// Login is a decision with what was loaded to reach it.
type Login struct {
	Decision
	User *store.User // nil when unknown
	// Phones are the user's phones when the policy accepts authenticator
	// apps (loaded to tell whether the user is enrolled).
	Phones []store.Phone
	Groups []int64 // the user's groups
}

// DecideLogin is Decide that also hands back the phones it loaded, for a
// caller that lists the user's devices (preauth) without a second query.
func (s *Service) DecideLogin(ctx context.Context, app store.Application, rawUsername string, ip net.IP) (Login, error) {
	return s.decide(ctx, app, rawUsername, s.Country(ip))
}

// decide is a login's decision for rawUsername coming from country ("":
// unknown), as logins and Check access both reach it.
func (s *Service) decide(ctx context.Context, app store.Application, rawUsername, country string) (Login, error) {
	var subject *store.LoginSubject
	username := NormalizeUsername(app, rawUsername)
	if users.ValidateUsername(username) == nil {
		// One statement for the user, their groups and their phones: every
		// login pays for this read (bench/duo).
		ls, err := s.Store.LoginSubjectByUsername(ctx, username)
		switch {
		case err == nil:
			subject = &ls
		case !errors.Is(err, store.ErrNotFound):
			return Login{}, fmt.Errorf("policy: load user: %w", err)
		}
	}
	req := Request{Country: country}
	if subject != nil {
		req.User, req.UserGroups = &subject.User, subject.GroupIDs
	}
	eff, err := s.EffectiveFor(ctx, app, req.UserGroups)
	if err != nil {
		return Login{}, err
	}
	var f Factors
	if subject != nil {
		if req.Enrolled, f, err = EnrolledGivenPhones(ctx, s.Store, subject.User.ID, eff.AuthMethods, subject.Phones); err != nil {
			return Login{}, err
		}
	}
	return Login{Decision: Evaluate(app, eff, req), User: req.User, Groups: req.UserGroups, Phones: f.Phones}, nil
}

// EffectiveFor merges the policies that apply to a member of groups in app.
// Of several group overrides the one of lowest priority wins.
func (s *Service) EffectiveFor(ctx context.Context, app store.Application, groups []int64) (Effective, error) {
	global, err := s.Store.GlobalPolicy(ctx)
	if err != nil {
		return Effective{}, fmt.Errorf("policy: global policy: %w", err)
	}
	var appPolicy, groupPolicy *store.Policy
	if app.PolicyID != nil {
		p, err := s.Store.PolicyByID(ctx, *app.PolicyID)
		if err != nil {
			return Effective{}, fmt.Errorf("policy: application policy: %w", err)
		}
		appPolicy = &p
	}
	if len(groups) > 0 && app.ID != 0 {
		overrides, err := s.Store.GroupPolicies(ctx, app.ID)
		if err != nil {
			return Effective{}, fmt.Errorf("policy: group policies: %w", err)
		}
		// GroupPolicies come ordered by priority.
		if gp, ok := OverrideFor(overrides, groups); ok {
			p, err := s.Store.PolicyByID(ctx, gp.PolicyID)
			if err != nil {
				return Effective{}, fmt.Errorf("policy: group policy: %w", err)
			}
			groupPolicy = &p
		}
	}
	return Resolve(global, appPolicy, groupPolicy), nil
}
