package audit

import (
	"encoding/json"
	"time"

	"enrollportal/internal/store"
)

// Actor types.
const (
	ActorUser        = "user"
	ActorAdmin       = "admin"
	ActorSystem      = "system"
	ActorCLI         = "cli"
	ActorApplication = "application"
)

// Actions. Every change to a user's factors and every admin action has one.
const (
	UserCreated             = "user.created"
	UserLockedOut           = "user.locked_out"
	EnrollmentLinkCreated   = "enrollment_link.created"
	EnrollmentLinkRevoked   = "enrollment_link.revoked"
	EnrollmentLinkUsed      = "enrollment_link.used"
	EnrollmentStarted       = "enrollment.started"
	EnrollmentCodeFailed    = "enrollment.code_failed"
	PhoneActivated          = "phone.activated"
	SecurityKeyRegistered   = "security_key.registered"
	SecurityKeyRegisterFail = "security_key.register_failed"
)

// Who is the actor of an event and where it came from.
type Who struct {
	Type string
	Name string
	IP   string
}

// CLI is the actor for portal subcommands run on the server.
func CLI() Who { return Who{Type: ActorCLI, Name: "portal"} }

// Entry builds an audit entry about a target. details may be nil; it is
// stored as JSON.
func Entry(at time.Time, who Who, action, targetType, target string, details map[string]any) store.AuditEntry {
	e := store.AuditEntry{
		At: at, ActorType: who.Type, Actor: who.Name, IP: who.IP,
		Action: action, TargetType: targetType, Target: target,
	}
	if len(details) > 0 {
		if b, err := json.Marshal(details); err == nil {
			e.Details = string(b)
		}
	}
	return e
}

// Target types.
const (
	TargetUser = "user"
)
