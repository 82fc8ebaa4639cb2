package audit

// Actions of logins through the Duo-compatible APIs (Auth API v2, REST v1).
// Every authentication attempt, allowed or denied, leaves one of these.
const (
	AuthAllowed        = "auth.allowed"         // let in: a correct passcode, bypass, or a new user under allow
	AuthDenied         = "auth.denied"          // refused by policy, status or lockout
	AuthEnrollRequired = "auth.enroll_required" // told to enroll first
	AuthPasscodeFailed = "auth.passcode_failed" // a wrong passcode (counts towards lockout)
	AuthAPIEnrollment  = "auth.enrollment"      // /auth/v2/enroll created a user and a link
)
