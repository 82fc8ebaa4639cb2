package adminapi

import (
	"net/http"

	"enrollportal/internal/store"
)

// paging are the parameters of every list.
var paging = []string{"limit", "offset"}

func with(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// routes is every Admin API endpoint with the grant it needs and the
// parameters it takes; one table, so that the grant test walks them all.
func routeTable() []route {
	const (
		get, post, del = http.MethodGet, http.MethodPost, http.MethodDelete
		read, write    = store.GrantReadResource, store.GrantWriteResource
		logs, settings = store.GrantReadLog, store.GrantSettings
	)
	return []route{
		{get, "/admin/v1/users", read, with(paging, []string{"username", "email", "username_list", "user_id_list"}), (*call).UsersGET},
		{post, "/admin/v1/users", write, profileParams, (*call).UsersPOST},
		{post, "/admin/v1/users/bulk_create", write, []string{"users"}, (*call).BulkCreatePOST},
		{post, "/admin/v1/users/enroll", write, []string{"username", "email", "valid_secs"}, (*call).EnrollPOST},
		{get, "/admin/v1/users/:user_id", read, nil, (*call).UserGET},
		{post, "/admin/v1/users/:user_id", write, profileParams, (*call).UserPOST},
		{del, "/admin/v1/users/:user_id", write, nil, (*call).UserDELETE},
		{get, "/admin/v1/users/:user_id/groups", read, paging, (*call).UserGroupsGET},
		{post, "/admin/v1/users/:user_id/groups", write, []string{"group_id"}, (*call).UserGroupsPOST},
		{del, "/admin/v1/users/:user_id/groups/:group_id", write, nil, (*call).UserGroupDELETE},
		{get, "/admin/v1/users/:user_id/phones", read, paging, (*call).UserPhonesGET},
		{post, "/admin/v1/users/:user_id/phones", write, []string{"phone_id"}, (*call).UserPhonesPOST},
		{del, "/admin/v1/users/:user_id/phones/:phone_id", write, nil, (*call).UserPhoneDELETE},
		{post, "/admin/v1/users/:user_id/bypass_codes", write,
			[]string{"count", "valid_secs", "reuse_count", "codes", "preserve_existing"}, (*call).UserBypassCodesPOST},
		{get, "/admin/v1/users/:user_id/bypass_codes", read, paging, (*call).UserBypassCodesGET},
		{get, "/admin/v1/users/:user_id/tokens", read, paging, (*call).UserTokensGET},
		{post, "/admin/v1/users/:user_id/tokens", write, []string{"token_id"}, (*call).UserTokensPOST},
		{del, "/admin/v1/users/:user_id/tokens/:token_id", write, nil, (*call).UserTokenDELETE},
		{get, "/admin/v1/users/:user_id/webauthncredentials", read, paging, (*call).UserWebAuthnGET},
		{get, "/admin/v1/users/:user_id/u2ftokens", read, paging, (*call).UserU2FTokensGET},

		{get, "/admin/v1/phones", read, with(paging, []string{"number", "extension"}), (*call).PhonesGET},
		{post, "/admin/v1/phones", write, phoneParams, (*call).PhonesPOST},
		{get, "/admin/v1/phones/:phone_id", read, nil, (*call).PhoneGET},
		{post, "/admin/v1/phones/:phone_id", write, phoneParams, (*call).PhonePOST},
		{del, "/admin/v1/phones/:phone_id", write, nil, (*call).PhoneDELETE},
		{post, "/admin/v1/phones/:phone_id/activation_url", write, []string{"valid_secs", "install"}, (*call).PhoneActivationURLPOST},
		{post, "/admin/v1/phones/:phone_id/send_sms_activation", write,
			[]string{"valid_secs", "install", "installation_msg", "activation_msg"}, (*call).PhoneSendSMSActivationPOST},
		{post, "/admin/v1/phones/:phone_id/send_sms_installation", write, []string{"installation_msg"}, (*call).PhoneSendSMSInstallationPOST},

		{get, "/admin/v1/tokens", read, with(paging, []string{"type", "serial"}), (*call).TokensGET},
		{post, "/admin/v1/tokens", write, []string{"type", "serial", "secret", "counter", "totp_step"}, (*call).TokensPOST},
		{get, "/admin/v1/tokens/:token_id", read, nil, (*call).TokenGET},
		{del, "/admin/v1/tokens/:token_id", write, nil, (*call).TokenDELETE},
		{post, "/admin/v1/tokens/:token_id/resync", write, []string{"code1", "code2", "code3"}, (*call).TokenResyncPOST},

		{get, "/admin/v1/bypass_codes", read, paging, (*call).BypassCodesGET},
		{get, "/admin/v1/bypass_codes/:bypass_code_id", read, nil, (*call).BypassCodeGET},
		{del, "/admin/v1/bypass_codes/:bypass_code_id", write, nil, (*call).BypassCodeDELETE},

		{get, "/admin/v1/groups", read, paging, (*call).GroupsGET},
		{post, "/admin/v1/groups", write, groupParams, (*call).GroupsPOST},
		{get, "/admin/v1/groups/:group_id", read, nil, (*call).GroupGET},
		{get, "/admin/v2/groups/:group_id", read, nil, (*call).GroupGET},
		{get, "/admin/v2/groups/:group_id/users", read, paging, (*call).GroupUsersGET},
		{post, "/admin/v1/groups/:group_id", write, groupParams, (*call).GroupPOST},
		{del, "/admin/v1/groups/:group_id", write, nil, (*call).GroupDELETE},

		{get, "/admin/v2/logs/authentication", logs, []string{"mintime", "maxtime", "limit", "next_offset", "sort"}, (*call).AuthLogsGET},
		{get, "/admin/v1/logs/administrator", logs, []string{"mintime"}, (*call).AdminLogsGET},
		{get, "/admin/v1/info/summary", settings, nil, (*call).SummaryGET},
	}
}

// Endpoint is an Admin API route: its method, its path (with :name
// segments) and the grant it needs.
type Endpoint struct{ Method, Path, Grant string }

// Endpoints lists every Admin API route.
func Endpoints() []Endpoint {
	var out []Endpoint
	for _, rt := range routeTable() {
		out = append(out, Endpoint{rt.method, rt.path, rt.grant})
	}
	return out
}
