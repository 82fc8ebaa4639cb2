// Package verify checks second factors: TOTP passcodes from authenticator
// apps (one 30-second step either side, never the same code twice), OATH
// hardware tokens, bypass and recovery codes and texted SMS passcodes, and
// the failure counting that locks a user out after MaxFailures wrong
// passcodes.
// Every path that checks a user's code (REST v1, Auth API v2, the Universal
// Prompt, enrollment, activation links) goes through CheckCode, which
// reserves the attempt before the code is looked at, so that concurrent
// guesses never check more than MaxFailures codes. Enrollment and login
// share these rules, so that enrollment never checks a code more strictly
// than login does. It knows nothing of HTTP; it imports
// store, audit and clock.
package verify
