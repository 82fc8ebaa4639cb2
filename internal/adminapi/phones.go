package adminapi

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"enrollportal/internal/enroll"
	"enrollportal/internal/store"
)

// phoneParams are the fields a phone create or modify takes.
var phoneParams = []string{"number", "extension", "name", "type", "platform", "predelay", "postdelay"}

// Activation links through the Admin API: Duo's default of a day.
const defaultActivationValidSecs = 86400

// duoPlatforms maps Duo's platform names (matched case-insensitively) to
// the platforms an authenticator app is set up on here.
var duoPlatforms = map[string]string{
	"google android":     store.PlatformAndroid,
	"android":            store.PlatformAndroid,
	"apple ios":          store.PlatformIOS,
	"ios":                store.PlatformIOS,
	"generic smartphone": store.PlatformGeneric,
	"unknown":            store.PlatformUnknown,
}

// loadPhone finds the phone keyed key with its users, answering 40401 when
// there is none.
func (k *call) loadPhone(key string) (store.APIPhone, bool) {
	found, _, err := k.a.store.APIPhones(k.ctx(), store.APIPhoneFilter{Key: key, Limit: 1})
	if err != nil {
		k.fail(err)
		return store.APIPhone{}, false
	}
	if len(found) == 0 {
		k.notFound("phone")
		return store.APIPhone{}, false
	}
	return found[0], true
}

// phoneFields reads the phone fields the call carries over those of p.
func (k *call) phoneFields(p store.APIPhone) enroll.APIPhoneFields {
	f := enroll.APIPhoneFields{
		NewPhone:  enroll.NewPhone{Type: p.Type, Number: p.Number, Platform: p.Platform, Name: p.Name},
		Extension: p.Extension, Predelay: p.Predelay, Postdelay: p.Postdelay,
	}
	if f.Type == "" {
		f.Type = store.PhoneMobile
	}
	if k.has("number") {
		f.Number = k.str("number")
	}
	if k.has("extension") {
		f.Extension = k.str("extension")
	}
	if k.has("name") {
		f.Name = k.str("name")
	}
	if k.has("type") {
		f.Type = strings.ToLower(strings.TrimSpace(k.str("type")))
	}
	if k.has("platform") {
		platform, ok := duoPlatforms[strings.ToLower(strings.TrimSpace(k.str("platform")))]
		if !ok {
			k.bad("platform must be one of google android, apple ios, generic smartphone and unknown")
		}
		f.Platform = platform
	}
	for name, dst := range map[string]**string{"predelay": &f.Predelay, "postdelay": &f.Postdelay} {
		if k.has(name) {
			v := k.str(name)
			*dst = &v
		}
	}
	return f
}

// PhonesGET lists phones, by number and extension when given.
func (k *call) PhonesGET() {
	pg := k.page()
	f := store.APIPhoneFilter{Offset: pg.offset, Limit: pg.limit}
	if k.has("number") {
		n, err := enroll.E164(k.str("number"))
		if err != nil {
			k.bad("number is not a valid phone number; give it with its +country code")
		}
		f.Number = n
		if k.has("extension") {
			ext := k.str("extension")
			f.Extension = &ext
		}
	} else if k.has("extension") {
		k.bad("extension filters only with number")
	}
	if k.failed {
		return
	}
	found, total, err := k.a.store.APIPhones(k.ctx(), f)
	if err != nil {
		k.fail(err)
		return
	}
	out := make([]phoneObject, 0, len(found))
	for _, p := range found {
		out = append(out, phoneWithUsers(p))
	}
	k.okPage(out, pg, total)
}

// answerPhone answers phone key as it is now, with its users.
func (k *call) answerPhone(key string) {
	p, ok := k.loadPhone(key)
	if !ok {
		return
	}
	k.ok(phoneWithUsers(p))
}

// PhonesPOST creates a phone that belongs to no one yet.
func (k *call) PhonesPOST() {
	f := k.phoneFields(store.APIPhone{})
	if k.failed {
		return
	}
	p, err := k.a.enroll.CreateAPIPhone(k.ctx(), f, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.answerPhone(p.Key)
}

// PhoneGET answers one phone.
func (k *call) PhoneGET() { k.answerPhone(k.c.Param("phone_id")) }

// PhonePOST modifies a phone: the fields given change.
func (k *call) PhonePOST() {
	p, ok := k.loadPhone(k.c.Param("phone_id"))
	if !ok {
		return
	}
	f := k.phoneFields(p)
	if k.failed {
		return
	}
	if err := k.a.enroll.UpdateAPIPhone(k.ctx(), p, f, k.who()); err != nil {
		k.fail(err)
		return
	}
	k.answerPhone(p.Key)
}

// PhoneDELETE deletes a phone; one already gone answers OK.
func (k *call) PhoneDELETE() {
	found, _, err := k.a.store.APIPhones(k.ctx(), store.APIPhoneFilter{Key: k.c.Param("phone_id"), Limit: 1})
	if err != nil {
		k.fail(err)
		return
	}
	if len(found) > 0 {
		if err := k.a.enroll.DeleteAPIPhone(k.ctx(), found[0], k.who()); err != nil && !errors.Is(err, store.ErrNotFound) {
			k.fail(err)
			return
		}
	}
	k.ok("")
}

// validity reads valid_secs for an activation link.
func (k *call) validity() time.Duration {
	secs := k.integer("valid_secs", defaultActivationValidSecs, 60, int(enroll.MaxActivationTTL/time.Second))
	return time.Duration(secs) * time.Second
}

// activationTarget reads valid_secs and install and loads the phone of
// an activation call.
func (k *call) activationTarget() (ttl time.Duration, install bool, p store.APIPhone, ok bool) {
	ttl = k.validity()
	install = k.flag("install")
	if k.failed {
		return ttl, install, p, false
	}
	p, ok = k.loadPhone(k.c.Param("phone_id"))
	return ttl, install, p, ok
}

// activationAnswer is what activation_url and send_sms_activation answer.
func (k *call) activationAnswer(issued enroll.IssuedActivation, ttl time.Duration, install bool) map[string]any {
	out := map[string]any{
		"activation_url":     issued.URL,
		"activation_barcode": k.a.baseURL + "/activate/" + url.PathEscape(issued.Token) + "/barcode.png",
		"valid_secs":         int(ttl / time.Second),
	}
	if install {
		out["installation_url"] = issued.InstallURL
	}
	return out
}

// PhoneActivationURLPOST creates an activation link for the phone (for
// its first user) and answers it with a QR code of it.
func (k *call) PhoneActivationURLPOST() {
	ttl, install, p, ok := k.activationTarget()
	if !ok {
		return
	}
	issued, err := k.a.enroll.IssueAPIActivation(k.ctx(), p, ttl, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(k.activationAnswer(issued, ttl, install))
}

// PhoneSendSMSActivationPOST texts the phone its install and activation
// messages through the outbox.
func (k *call) PhoneSendSMSActivationPOST() {
	ttl, install, p, ok := k.activationTarget()
	if !ok {
		return
	}
	issued, err := k.a.enroll.SendAPIActivationSMS(k.ctx(), p, ttl, k.str("installation_msg"), k.str("activation_msg"), k.who())
	if err != nil {
		k.fail(err)
		return
	}
	out := k.activationAnswer(issued, ttl, install)
	out["activation_msg"] = k.str("activation_msg")
	out["installation_msg"] = k.str("installation_msg")
	k.ok(out)
}

// PhoneSendSMSInstallationPOST texts the phone the install message alone.
func (k *call) PhoneSendSMSInstallationPOST() {
	p, ok := k.loadPhone(k.c.Param("phone_id"))
	if !ok {
		return
	}
	text, err := k.a.enroll.SendAPIInstallSMS(k.ctx(), p, k.str("installation_msg"), k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(map[string]any{"installation_msg": text})
}

// UserPhonesPOST attaches a phone to a user.
func (k *call) UserPhonesPOST() {
	pid := k.required("phone_id")
	if k.failed {
		return
	}
	u, ok := k.loadUser()
	if !ok {
		return
	}
	p, ok := k.loadPhone(pid)
	if !ok {
		return
	}
	if err := k.a.enroll.AttachAPIPhone(k.ctx(), u.User, p.Phone, k.who()); err != nil {
		k.fail(err)
		return
	}
	k.ok("")
}

// UserPhoneDELETE detaches a phone from a user.
func (k *call) UserPhoneDELETE() {
	u, ok := k.loadUser()
	if !ok {
		return
	}
	p, ok := k.loadPhone(k.c.Param("phone_id"))
	if !ok {
		return
	}
	if err := k.a.enroll.DetachAPIPhone(k.ctx(), u.User, p.Phone, k.who()); err != nil {
		k.fail(err)
		return
	}
	k.ok("")
}
