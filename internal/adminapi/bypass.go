package adminapi

import (
	"errors"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/factors"
	"enrollportal/internal/store"
)

// Bypass codes through the Admin API: Duo's defaults are 10 codes, each
// good once, never expiring, replacing the user's earlier codes.
const defaultBypassCount = 10

// UserBypassCodesPOST issues bypass codes to a user and answers them: the
// only time they are shown. The portal makes the codes itself, so a list
// of chosen codes is refused.
func (k *call) UserBypassCodesPOST() {
	if k.has("codes") {
		k.bad("codes is not accepted: the portal generates bypass codes; give count instead")
	}
	o := factors.BypassOptions{
		Count:   k.integer("count", defaultBypassCount, 1, factors.MaxBypassCodes),
		Uses:    k.integer("reuse_count", 1, 1, factors.MaxBypassUses),
		TTL:     time.Duration(k.integer("valid_secs", 0, 0, 10*365*86400)) * time.Second,
		Replace: !k.flag("preserve_existing"),
	}
	if k.failed {
		return
	}
	u, ok := k.loadUser()
	if !ok {
		return
	}
	codes, err := k.a.factors.IssueBypassCodes(k.ctx(), u.User, o, k.who())
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(codes)
}

// bypassCodeObject is a bypass code as Duo lists it: never the code.
type bypassCodeObject struct {
	BypassCodeID string `json:"bypass_code_id"`
	// AdminEmail is the email of the admin who issued the code, "" when
	// an application or the user (recovery codes) made it; CreatedBy says
	// which.
	AdminEmail string    `json:"admin_email"`
	CreatedBy  string    `json:"created_by"`
	Created    int64     `json:"created"`
	Expiration *int64    `json:"expiration"`
	ReuseCount int       `json:"reuse_count"`
	User       briefUser `json:"user"`
}

func bypassCodeOf(l store.ListedBypassCode) bypassCodeObject {
	o := bypassCodeObject{BypassCodeID: l.Key, CreatedBy: l.CreatedBy, Created: l.CreatedAt.Unix(),
		ReuseCount: l.UsesLeft, User: briefOf(l.User)}
	if email, ok := strings.CutPrefix(l.CreatedBy, audit.ActorAdmin+":"); ok {
		o.AdminEmail = email
	}
	if l.ExpiresAt != nil {
		e := l.ExpiresAt.Unix()
		o.Expiration = &e
	}
	return o
}

// answerBypassCodes answers a page of the live codes of userID (0: of
// every user).
func (k *call) answerBypassCodes(userID int64, pg page) {
	list, total, err := k.a.factors.BypassCodes(k.ctx(), userID, pg.offset, pg.limit)
	if err != nil {
		k.fail(err)
		return
	}
	out := make([]bypassCodeObject, 0, len(list))
	for _, l := range list {
		out = append(out, bypassCodeOf(l))
	}
	k.okPage(out, pg, total)
}

// UserBypassCodesGET lists the codes of a user that still work.
func (k *call) UserBypassCodesGET() {
	pg := k.page()
	if k.failed {
		return
	}
	if u, ok := k.loadUser(); ok {
		k.answerBypassCodes(u.ID, pg)
	}
}

// BypassCodesGET lists every user's codes that still work.
func (k *call) BypassCodesGET() {
	pg := k.page()
	if !k.failed {
		k.answerBypassCodes(0, pg)
	}
}

// BypassCodeGET answers one code that still works.
func (k *call) BypassCodeGET() {
	l, err := k.a.factors.BypassCode(k.ctx(), k.c.Param("bypass_code_id"))
	if errors.Is(err, factors.ErrBypassCodeNotFound) {
		k.notFound("bypass code")
		return
	}
	if err != nil {
		k.fail(err)
		return
	}
	k.ok(bypassCodeOf(l))
}

// BypassCodeDELETE ends one code; the user's others keep working.
func (k *call) BypassCodeDELETE() {
	k.answerChange(k.a.factors.DeleteBypassCode(k.ctx(), k.c.Param("bypass_code_id"), k.who()),
		factors.ErrBypassCodeNotFound, "bypass code")
}
