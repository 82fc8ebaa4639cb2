package notify

import (
	"fmt"
	"time"

	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Device changes named in DeviceChangeEmail.
const (
	DeviceAdded   = "added"
	DeviceRemoved = "removed"
)

// DeviceChangeEmail composes the email telling u that device (a phone, a
// tablet or a security key, as the device page names it) was added to or
// removed from their account, with where to look (devicesURL). A change the
// user did not make is how a stolen enrollment link or session would show
// itself, so the email says what to do then. Its IntentKey is unique per
// change.
func DeviceChangeEmail(org Org, u store.User, change, device string, at time.Time, devicesURL string) store.Message {
	vars := userVars(org, u)
	subject := "A device was " + change + " on your account"
	body := fmt.Sprintf("Hello %s,\n\n%s was %s on your two-factor sign-in account on %s.\n\n"+
		"If you did this, there is nothing to do. You can see your devices at %s\n\n"+
		"If you did not, contact your IT help desk right away.\n",
		vars[PUsername], cleanValue(device), change, FormatExpiry(at), cleanValue(devicesURL))
	m := composeEmail(org, u.Email, Text{Subject: subject, Body: body}, Vars{}, false)
	m.IntentKey = "device-change:" + secret.NewKey(20)
	return m
}
