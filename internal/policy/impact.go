package policy

import (
	"slices"
	"strconv"
	"strings"

	"enrollportal/internal/store"
)

// ImpactNames is how many names of each move an Impact keeps; the CSV has
// all of them.
const ImpactNames = 50

// Impact is what a proposed change does to the users of each application.
type Impact struct {
	Users int         // users evaluated
	Apps  []AppImpact // applications where someone's outcome changes, by name
	// NewUsers are the changes for people the portal has never heard of,
	// per application: they have no names.
	NewUsers []NewUserMove
	// Version is the configuration's version the impact was computed on.
	Version string
}

// Moved is the number of users whose outcome changes in some application.
func (im Impact) Moved() int {
	n := 0
	for _, a := range im.Apps {
		for _, m := range a.Moves {
			n += m.Count
		}
	}
	return n
}

// AppImpact is the moves within one application.
type AppImpact struct {
	App   store.Application
	Moves []Move // most users first
}

// Move is users whose outcome goes From one result To another, for Reason
// (the reason of the new outcome).
type Move struct {
	From, To, Reason string
	Count            int
	Names            []string // the first ImpactNames usernames
}

// Summary is the move as a sentence: "412 users of VPN: auth -> deny (not
// in permitted groups)".
func (m Move) Summary(app string) string {
	noun := "users"
	if m.Count == 1 {
		noun = "user"
	}
	return strconv.Itoa(m.Count) + " " + noun + " of " + app + ": " + m.From + " -> " + m.To + " (" + ReasonLabel(m.Reason) + ")"
}

// NewUserMove is how the outcome of someone not yet in the portal changes
// in an application.
type NewUserMove struct {
	App              string
	From, To, Reason string
}

// ReasonLabel is a reason as people read it.
func ReasonLabel(reason string) string {
	switch reason {
	case ReasonUserDisabled:
		return "user disabled"
	case ReasonLockedOut:
		return "locked out"
	case ReasonBypass:
		return "bypass"
	case ReasonNotPermittedGroups:
		return "not in permitted groups"
	case ReasonDeniedLocation:
		return "denied location"
	case ReasonNewUserDenied:
		return "not enrolled, new user policy deny"
	case ReasonNewUserAllowed:
		return "new user policy allow"
	case ReasonEnrollmentRequired:
		return "enrollment required"
	case ReasonEnrolled:
		return "enrolled"
	}
	return reason
}

// subjectDecision evaluates one user in one application under c, with the
// same Evaluate logins run. Location is unknown: a preview has no address.
func subjectDecision(c Config, app store.Application, s store.AccessSubject) Decision {
	eff, _, _ := c.Effective(app, s.Groups)
	u := store.User{ID: s.ID, Username: s.Username, Status: s.Status}
	enrolled := subjectFactors(s).EnrolledUnder(eff.AuthMethods)
	return Evaluate(app, eff, Request{User: &u, Enrolled: enrolled, UserGroups: s.Groups})
}

// subjectFactors stands for the factors a subject holds, one of each kind
// they have, so that the one definition of enrolled (Factors.EnrolledUnder)
// decides for previews as it does for logins.
func subjectFactors(s store.AccessSubject) Factors {
	var f Factors
	if s.HasAuthenticatorApp {
		f.Phones = []store.Phone{{Activated: true, TOTPSecret: []byte{1}}}
	}
	if s.HasSMSPhone {
		f.Phones = append(f.Phones, store.Phone{Type: store.PhoneMobile, Number: "+1", Activated: true})
	}
	if s.HasSecurityKey {
		f.SecurityKeys = []store.SecurityKey{{}}
	}
	if s.HasHardwareToken {
		f.HardwareTokens = []store.HardwareToken{{}}
	}
	return f
}

// change is one application's outcome changing for a class of users.
type change struct {
	app      int // index in plan.apps
	from, to Decision
	move     int // index in plan.moves
}

// plan is an impact worked out per class of users: users with the same
// status, groups and kinds of factor get the same decision in every
// application, so Evaluate runs once per class and application rather
// than once per user.
type plan struct {
	apps     []store.Application
	subjects []store.AccessSubject
	classOf  []int      // per subject
	changes  [][]change // per class
	// moves are the distinct (application, from, to, reason) of the
	// changes, which Impact counts.
	moves []moveKey
}

type moveKey struct {
	app              int
	from, to, reason string
}

func classKey(s store.AccessSubject, buf []byte) []byte {
	buf = append(buf[:0], s.Status...)
	buf = append(buf, '|')
	if s.HasAuthenticatorApp {
		buf = append(buf, 'a')
	}
	if s.HasSMSPhone {
		buf = append(buf, 's')
	}
	if s.HasSecurityKey {
		buf = append(buf, 'k')
	}
	if s.HasHardwareToken {
		buf = append(buf, 't')
	}
	for _, g := range s.Groups {
		buf = append(buf, '|')
		buf = strconv.AppendInt(buf, g, 10)
	}
	return buf
}

// newPlan evaluates every class of subjects in every application of after
// under before and after.
func newPlan(before, after Config, subjects []store.AccessSubject) plan {
	p := plan{apps: after.Apps, subjects: subjects, classOf: make([]int, len(subjects))}
	classes := map[string]int{}
	var reps []int
	var buf []byte
	for i, s := range subjects {
		buf = classKey(s, buf)
		c, ok := classes[string(buf)]
		if !ok {
			c = len(reps)
			classes[string(buf)] = c
			reps = append(reps, i)
		}
		p.classOf[i] = c
	}
	p.changes = make([][]change, len(reps))
	for ai, app := range after.Apps {
		old, existed := before.App(app.ID)
		if !existed {
			continue
		}
		for c, rep := range reps {
			from := subjectDecision(before, old, subjects[rep])
			to := subjectDecision(after, app, subjects[rep])
			if from.Result != to.Result {
				k := moveKey{ai, from.Result, to.Result, to.Reason}
				m := slices.Index(p.moves, k)
				if m < 0 {
					m = len(p.moves)
					p.moves = append(p.moves, k)
				}
				p.changes[c] = append(p.changes[c], change{app: ai, from: from, to: to, move: m})
			}
		}
	}
	return p
}

// each calls fn for every user whose outcome changes in an application, in
// username order.
func (p plan) each(fn func(s store.AccessSubject, app store.Application, ch change)) {
	for i, s := range p.subjects {
		for _, ch := range p.changes[p.classOf[i]] {
			fn(s, p.apps[ch.app], ch)
		}
	}
}

// ComputeImpact is the impact of going from before to after for subjects
// (in username order).
func ComputeImpact(before, after Config, subjects []store.AccessSubject) Impact {
	p := newPlan(before, after, subjects)
	moves := make([]Move, len(p.moves))
	for i, k := range p.moves {
		moves[i] = Move{From: k.from, To: k.to, Reason: k.reason}
	}
	p.each(func(s store.AccessSubject, _ store.Application, ch change) {
		m := &moves[ch.move]
		m.Count++
		if len(m.Names) < ImpactNames {
			m.Names = append(m.Names, s.Username)
		}
	})
	im := Impact{Users: len(subjects), Version: before.Version()}
	for ai, app := range p.apps {
		var ms []Move
		for i, k := range p.moves {
			if k.app == ai {
				ms = append(ms, moves[i])
			}
		}
		if len(ms) > 0 {
			slices.SortFunc(ms, func(a, b Move) int {
				if a.Count != b.Count {
					return b.Count - a.Count
				}
				return strings.Compare(a.From+a.To+a.Reason, b.From+b.To+b.Reason)
			})
			im.Apps = append(im.Apps, AppImpact{App: app, Moves: ms})
		}
		// Someone the portal has never heard of, in no group.
		if old, ok := before.App(app.ID); ok {
			effOld, _, _ := before.Effective(old, nil)
			effNew, _, _ := after.Effective(app, nil)
			from, to := Evaluate(old, effOld, Request{}), Evaluate(app, effNew, Request{})
			if from.Result != to.Result {
				im.NewUsers = append(im.NewUsers, NewUserMove{App: app.Name, From: from.Result, To: to.Result, Reason: to.Reason})
			}
		}
	}
	return im
}

// ImpactRow is one user whose outcome changes in one application.
type ImpactRow struct {
	Application, Username, From, To, Reason string
}

// ImpactRows calls fn for every user whose outcome changes, once per
// application, in username order, and stops at fn's first error.
func ImpactRows(before, after Config, subjects []store.AccessSubject, fn func(ImpactRow) error) error {
	var err error
	newPlan(before, after, subjects).each(func(s store.AccessSubject, app store.Application, ch change) {
		if err == nil {
			err = fn(ImpactRow{app.Name, s.Username, ch.from.Result, ch.to.Result, ReasonLabel(ch.to.Reason)})
		}
	})
	return err
}
