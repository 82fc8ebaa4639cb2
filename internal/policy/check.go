package policy

import (
	"context"
	"fmt"
	"strings"

	"enrollportal/internal/store"
)

// LevelUser: the decision came from the user's own account (its status, or
// the factors they hold).
const LevelUser = "user"

// Check is what "Check access" shows: the decision a sign-in would get and
// where it was decided.
type Check struct {
	App      store.Application
	Username string
	User     *store.User // nil: the portal has never heard of them
	Country  string
	Decision Decision
	// Level is the level that decided: user, application (its permitted
	// groups or policy), group (an override), global or default.
	Level   string
	Sources Sources
	// Override is the group override that applied, if any.
	Override *store.GroupPolicy
}

// CheckAccess decides a sign-in of username to application appID from
// country ("" unknown) exactly as a login does, and says which level
// decided it.
func (s *Service) CheckAccess(ctx context.Context, username string, appID int64, country string) (Check, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	errs := FieldErrors{}
	if strings.TrimSpace(username) == "" {
		errs["username"] = ErrNoUsername
	}
	if country != "" && !validCountry(country) {
		errs["country"] = ErrCountry
	}
	app, err := s.Store.ApplicationByID(ctx, appID)
	if err != nil {
		errs["application"] = ErrNoSuchApp
	}
	if len(errs) > 0 {
		return Check{}, errs
	}
	l, err := s.decide(ctx, app, username, country)
	if err != nil {
		return Check{}, err
	}
	c := Check{App: app, Username: NormalizeUsername(app, username), User: l.User, Country: country, Decision: l.Decision}
	cfg, err := s.LoadConfig(ctx)
	if err != nil {
		return Check{}, err
	}
	_, c.Sources, c.Override = cfg.Effective(app, l.Groups)
	c.Level = DecidedBy(l.Decision.Reason, c.Sources)
	return c, nil
}

// ErrNoUsername: Check access needs a username.
var ErrNoUsername = fmt.Errorf("type a username")

// DecidedBy is the level that decided a decision of reason, given where
// each effective setting came from.
func DecidedBy(reason string, src Sources) string {
	switch reason {
	case ReasonUserDisabled, ReasonLockedOut, ReasonBypass:
		return LevelUser
	case ReasonNotPermittedGroups:
		return LevelApplication
	case ReasonDeniedLocation:
		return src.DeniedCountries
	case ReasonEnrolled:
		return src.AuthMethods
	}
	return src.NewUserPolicy
}
