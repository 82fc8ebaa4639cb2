package adminapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/store"
)

// Logs: the audit records of logins (v2 authentication log) and of admin
// actions (v1 administrator log), in the shapes Duo's clients read.

// maxAdminLogPage is the v1 administrator log's page: Duo's 1,000, which
// duo_api_golang's paging expects of every full page.
const maxAdminLogPage = 1000

// AuthLogsGET answers /admin/v2/logs/authentication between mintime and
// maxtime (unix milliseconds), newest first unless sort=ts:asc, with
// next_offset to continue.
func (k *call) AuthLogsGET() {
	minMS := k.msParam("mintime")
	maxMS := k.msParam("maxtime")
	// Duo takes up to 1,000 here; more than MaxLimit are served as MaxLimit.
	limit := min(k.integer("limit", DefaultLimit, 1, 1000), MaxLimit)
	desc := true
	switch k.str("sort") {
	case "", "ts:desc":
	case "ts:asc":
		desc = false
	default:
		k.bad("sort must be ts:asc or ts:desc")
	}
	offset := 0
	if next := k.str("next_offset"); next != "" {
		// next_offset is what the previous page answered: the timestamp
		// of its last record and the offset of the next one.
		_, after, found := strings.Cut(next, ",")
		n, err := strconv.Atoi(after)
		if !found || err != nil || n < 0 {
			k.bad("next_offset must be as the previous page's metadata gave it")
		}
		offset = n
	}
	if !k.failed && minMS >= maxMS {
		k.bad("mintime must be before maxtime")
	}
	if k.failed {
		return
	}
	entries, total, err := k.a.store.AuditPage(k.ctx(), store.AuditPageFilter{
		ActionPrefix: "auth.", FromMS: minMS, ToMS: maxMS, Desc: desc, Offset: offset, Limit: limit})
	if err != nil {
		k.fail(err)
		return
	}
	logs := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		logs = append(logs, authLogOf(e))
	}
	meta := map[string]any{"total_objects": total}
	if offset+len(entries) < total && len(entries) > 0 {
		last := entries[len(entries)-1]
		meta["next_offset"] = []string{strconv.FormatInt(last.At.UnixMilli(), 10), strconv.Itoa(offset + len(entries))}
	}
	k.ok(map[string]any{"authlogs": logs, "metadata": meta})
}

// msParam reads a required time in unix milliseconds.
func (k *call) msParam(name string) int64 {
	v := k.str(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		k.bad(name + " is required, in unix milliseconds")
	}
	return n
}

// details decodes an audit record's details.
func details(e store.AuditEntry) map[string]any {
	d := map[string]any{}
	if e.Details != "" {
		_ = json.Unmarshal([]byte(e.Details), &d)
	}
	return d
}

func detail(d map[string]any, key string) string {
	s, _ := d[key].(string)
	return s
}

// authLogOf is one login record in the v2 shape.
func authLogOf(e store.AuditEntry) map[string]any {
	d := details(e)
	result, reason, eventType := "denied", detail(d, "reason"), "authentication"
	switch e.Action {
	case audit.AuthAllowed:
		result = "success"
		if reason == "" {
			reason = "valid_passcode"
		}
	case audit.AuthPasscodeFailed:
		reason = "invalid_passcode"
	case audit.AuthEnrollRequired:
		reason = "user_not_enrolled"
	case audit.AuthAPIEnrollment:
		result, eventType = "success", "enrollment"
	}
	factor := "not_available"
	if detail(d, "factor") == "passcode" {
		factor = "duo_mobile_passcode"
	}
	return map[string]any{
		"txid":          strconv.FormatInt(e.ID, 10),
		"timestamp":     e.At.Unix(),
		"isotimestamp":  e.At.UTC().Format(time.RFC3339),
		"event_type":    eventType,
		"result":        result,
		"reason":        reason,
		"factor":        factor,
		"user":          map[string]any{"name": e.Target, "key": ""},
		"application":   map[string]any{"key": detail(d, "application"), "name": e.Actor},
		"access_device": map[string]any{"ip": detail(d, "ip"), "hostname": detail(d, "hostname")},
		"auth_device":   map[string]any{"name": detail(d, "device")},
		"count":         e.Count,
	}
}

// AdminLogsGET answers /admin/v1/logs/administrator: the actions of admins,
// of the command line and of Admin API applications, from mintime (unix
// seconds), oldest first, at most 1,000.
func (k *call) AdminLogsGET() {
	var minS int64
	if k.has("mintime") {
		n, err := strconv.ParseInt(k.str("mintime"), 10, 64)
		if err != nil || n < 0 {
			k.bad("mintime must be unix seconds")
		}
		minS = n
	}
	if k.failed {
		return
	}
	entries, _, err := k.a.store.AuditPage(k.ctx(), store.AuditPageFilter{
		ActorTypes: []string{audit.ActorAdmin, audit.ActorCLI, audit.ActorApplication},
		FromMS:     minS * 1000, ToMS: k.a.clock.Now().Add(time.Second).UnixMilli(), Limit: maxAdminLogPage})
	if err != nil {
		k.fail(err)
		return
	}
	out := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		out = append(out, map[string]any{
			"action": e.Action, "description": e.Details, "object": e.Target, "username": e.Actor,
			"timestamp": e.At.Unix(), "isotimestamp": e.At.UTC().Format(time.RFC3339),
		})
	}
	k.ok(out)
}

// SummaryGET answers /admin/v1/info/summary: how many admins,
// applications and users there are.
func (k *call) SummaryGET() {
	ctx := k.ctx()
	admins, err := k.a.store.CountAdmins(ctx)
	if err != nil {
		k.fail(err)
		return
	}
	applications, err := k.a.store.Applications(ctx)
	if err != nil {
		k.fail(err)
		return
	}
	users, err := k.a.store.CountUsers(ctx)
	if err != nil {
		k.fail(err)
		return
	}
	// The portal sends texts through the organisation's own gateway and
	// makes no calls, so there are no telephony credits to count down.
	k.ok(map[string]any{"admin_count": admins, "integration_count": len(applications), "user_count": users,
		"telephony_credits_remaining": 0})
}
