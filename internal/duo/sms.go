package duo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"enrollportal/internal/factors"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// smsSentMsg is what Duo answers after texting passcodes; login_duo prints
// it, counts the round as failed and shows its menu again, where the user
// types the code that arrived.
const smsSentMsg = "New SMS passcodes sent"

// smsChoice reads a factor name of the menu: "sms" (the first phone) or
// "smsN" (the Nth phone of the menu, from 1). ok is false for anything
// else, such as a typed passcode.
func smsChoice(s string) (nth int, ok bool) {
	rest, found := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "sms")
	if !found {
		return 0, false
	}
	if rest == "" {
		return 1, true
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > 100 {
		return 0, false
	}
	return n, true
}

// smsPhones are the phones of a login that policy lets take SMS passcodes.
func smsPhones(d policy.Decision, phones []store.Phone) []store.Phone {
	if !policy.Counts(d.Effective.AuthMethods, store.MethodSMS) {
		return nil
	}
	var out []store.Phone
	for _, ph := range phones {
		if ph.TakesSMS() {
			out = append(out, ph)
		}
	}
	return out
}

// maskedNumber shows a number as Duo's menus do: only its last four digits.
func maskedNumber(number string) string {
	if n := len(number); n >= 4 {
		return "XXX-XXX-" + number[n-4:]
	}
	return "your phone"
}

// menu is the prompt of terminal clients and its factors: a passcode is
// always typed; each phone that takes SMS passcodes is an option.
func menu(username string, sms []store.Phone) (string, map[string]string) {
	factors := map[string]string{"default": "passcode"}
	if len(sms) == 0 {
		return passcodePrompt(username), factors
	}
	var b strings.Builder
	b.WriteString("Two-factor login for " + username + "\n\nEnter a passcode or select one of the following options:\n\n")
	for i, ph := range sms {
		fmt.Fprintf(&b, " %d. SMS passcodes to %s\n", i+1, maskedNumber(ph.Number))
		factors[strconv.Itoa(i+1)] = "sms" + strconv.Itoa(i+1)
	}
	fmt.Fprintf(&b, "\nPasscode or option (1-%d): ", len(sms))
	return b.String(), factors
}

// sendSMS texts a passcode to a phone of the user of l, as an auth call
// with factor sms (or a menu's smsN) asks: the phone whose public id is
// device, else the nth phone of the menu (from 1). Sent, the answer is
// Duo's: a deny with status "sent", since the login itself goes on with
// the code typed in a next call. retry is set when the phone has had its
// texts for now (factors.SMSSendLimit); the outcome then says so too.
func (a *API) sendSMS(c *gin.Context, l login, device string, nth int) (out authOutcome, retry time.Duration, err error) {
	ctx := ctxOf(c)
	d, u, settled, err := a.decideAuth(c, l)
	if err != nil || settled != nil {
		return deref(settled), 0, err
	}
	username := policy.NormalizeUsername(l.app, l.username)
	if device == "" || device == "auto" {
		phones, err := a.store.PhonesByUser(ctx, u.ID)
		if err != nil {
			return authOutcome{}, 0, err
		}
		if sms := smsPhones(d, phones); nth >= 1 && nth <= len(sms) {
			device = sms[nth-1].Key
		} else {
			device = "none"
		}
	}
	_, err = a.factors.SendSMSPasscode(ctx, *u, d.Effective.AuthMethods, device, l.who)
	var limit *factors.SMSLimitError
	switch {
	case err == nil:
		return authOutcome{Result: "deny", Status: "sent", StatusMsg: smsSentMsg}, 0, nil
	case errors.As(err, &limit):
		d.Reason = "sms_send_limit"
		msg := fmt.Sprintf("%d passcodes were texted to this phone in the last %d minutes, the most there can be. Type one of them, wait %s, or use another device.",
			factors.SMSSendLimit, int(factors.SMSSendWindow/time.Minute), waitWords(limit.RetryAfter))
		return denied(msg), limit.RetryAfter, a.auditAttempt(c, l, username, "auth", d)
	case errors.Is(err, factors.ErrSMSNotAccepted), errors.Is(err, factors.ErrNoSMSPhone), errors.Is(err, factors.ErrSMSUserBlocked):
		d.Reason = "no_sms_phone"
		return denied("No phone of yours can get passcodes by SMS here. Type a passcode from your authenticator app, your token or your help desk instead."),
			0, a.auditAttempt(c, l, username, "auth", d)
	}
	return authOutcome{}, 0, err
}

// waitWords says a wait in whole minutes, rounded up.
func waitWords(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// retryAfterSeconds is a wait as a Retry-After header: whole seconds,
// rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
