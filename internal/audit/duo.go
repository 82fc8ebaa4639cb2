package audit

import (
	"context"
	"time"

	"enrollportal/internal/store"
)

// Actions of logins through the Duo-compatible APIs (Auth API v2, REST v1).
// Every authentication attempt, allowed or denied, leaves one of these.
const (
	AuthAllowed        = "auth.allowed"         // let in: a correct passcode, bypass, or a new user under allow
	AuthDenied         = "auth.denied"          // refused by policy, status or lockout
	AuthEnrollRequired = "auth.enroll_required" // told to enroll first
	AuthPasscodeFailed = "auth.passcode_failed" // a wrong passcode (counts towards lockout)
	AuthAPIEnrollment  = "auth.enrollment"      // /auth/v2/enroll created a user and a link
)

// RepeatWindow is how long the repeats of one login decision (the same
// action and reason, for the same username and application) count on its
// first record instead of adding records: a host looping on preauth for
// unknown users leaves one row per name and application each window.
const RepeatWindow = 15 * time.Minute

// RepeatKey names a login decision for RecordLogin.
func RepeatKey(action, reason, application, username string) string {
	return action + "\x1f" + reason + "\x1f" + application + "\x1f" + username
}

// RecordLogin writes e; when e.RepeatKey names a decision already recorded
// within RepeatWindow before e.At, it counts e on that record instead.
func RecordLogin(ctx context.Context, q store.AuditQueries, e store.AuditEntry) error {
	if e.RepeatKey != "" {
		counted, err := q.CountAuditRepeat(ctx, e.RepeatKey, e.At.Add(-RepeatWindow), e.At)
		if err != nil || counted {
			return err
		}
	}
	return q.InsertAudit(ctx, e)
}
