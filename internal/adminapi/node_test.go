package adminapi_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"enrollportal/internal/testkit"
)

// nodeAnswer is Duo's envelope as the Node client hands it over.
type nodeAnswer struct {
	Stat          string          `json:"stat"`
	Code          int             `json:"code"`
	MessageDetail string          `json:"message_detail"`
	Response      json.RawMessage `json:"response"`
	Metadata      struct {
		TotalObjects int  `json:"total_objects"`
		NextOffset   *int `json:"next_offset"`
	} `json:"metadata"`
}

// TestAdminAPINodeClientCreatesUsersAndPhonesPagesAndReadsBypassCodes
// drives Duo's own Node.js client (@duosecurity/duo_api) against the
// portal, signing both ways it can: v5 with JSON bodies of typed values,
// and v2 with form and query parameters. It creates a user and a phone,
// attaches them, pages through the users until next_offset is missing, and
// issues and reads back bypass codes.
func TestAdminAPINodeClientCreatesUsersAndPhonesPagesAndReadsBypassCodes(t *testing.T) {
	a := newAdminPortal(t)
	node := testkit.NewDuoNodeAPIClient(t, a.app.ClientID, a.app.ClientSecret, a.host, a.tls.CAFile)
	call := func(sig int, method, path string, params map[string]any) nodeAnswer {
		t.Helper()
		var out nodeAnswer
		node.Call(&out, sig, method, path, params)
		if out.Stat != "OK" {
			t.Fatalf("v%d %s %s %v = %+v", sig, method, path, params, out)
		}
		return out
	}

	var user struct {
		UserID     string `json:"user_id"`
		Username   string `json:"username"`
		IsEnrolled bool   `json:"is_enrolled"`
	}
	must(t, json.Unmarshal(call(5, "POST", "/admin/v1/users",
		map[string]any{"username": "Nadia", "email": "nadia@example.org", "aliases": map[string]string{"alias1": "n.b"}}).Response, &user))
	if user.Username != "nadia" || user.IsEnrolled {
		t.Fatalf("created user = %+v", user)
	}
	var phone struct {
		PhoneID  string `json:"phone_id"`
		Number   string `json:"number"`
		Predelay *string
	}
	must(t, json.Unmarshal(call(2, "POST", "/admin/v1/phones",
		map[string]any{"number": "+14155550123", "type": "mobile", "platform": "Apple iOS"}).Response, &phone))
	if phone.Number != "+14155550123" {
		t.Fatalf("created phone = %+v", phone)
	}
	call(5, "POST", "/admin/v1/users/"+user.UserID+"/phones", map[string]any{"phone_id": phone.PhoneID})

	// 24 more users, then every user paged 10 at a time, both signatures.
	var bulk []map[string]string
	for i := range 24 {
		bulk = append(bulk, map[string]string{"username": fmt.Sprintf("node%02d", i)})
	}
	users, _ := json.Marshal(bulk)
	call(5, "POST", "/admin/v1/users/bulk_create", map[string]any{"users": string(users)})
	for _, sig := range []int{2, 5} {
		seen := map[string]bool{}
		pages := 0
		for offset := 0; ; pages++ {
			page := call(sig, "GET", "/admin/v1/users", map[string]any{"limit": "10", "offset": strconv.Itoa(offset)})
			var list []struct {
				UserID string `json:"user_id"`
				Phones []struct {
					PhoneID string `json:"phone_id"`
				} `json:"phones"`
			}
			must(t, json.Unmarshal(page.Response, &list))
			for _, u := range list {
				seen[u.UserID] = true
				if u.UserID == user.UserID && (len(u.Phones) != 1 || u.Phones[0].PhoneID != phone.PhoneID) {
					t.Fatalf("nadia's phones = %+v", u.Phones)
				}
			}
			if page.Metadata.TotalObjects != 25 {
				t.Fatalf("total_objects = %d", page.Metadata.TotalObjects)
			}
			if page.Metadata.NextOffset == nil {
				break
			}
			offset = *page.Metadata.NextOffset
		}
		if len(seen) != 25 || pages != 2 {
			t.Fatalf("v%d paging saw %d users in %d pages after the first", sig, len(seen), pages)
		}
	}

	// Bypass codes: issued with typed values, read back without the codes.
	var codes []string
	must(t, json.Unmarshal(call(5, "POST", "/admin/v1/users/"+user.UserID+"/bypass_codes",
		map[string]any{"count": 2, "reuse_count": 3, "preserve_existing": false}).Response, &codes))
	if len(codes) != 2 || len(codes[0]) != 9 {
		t.Fatalf("codes = %q", codes)
	}
	var listed []struct {
		BypassCodeID string `json:"bypass_code_id"`
		ReuseCount   int    `json:"reuse_count"`
		User         struct {
			UserID string `json:"user_id"`
		} `json:"user"`
	}
	must(t, json.Unmarshal(call(2, "GET", "/admin/v1/users/"+user.UserID+"/bypass_codes", nil).Response, &listed))
	if len(listed) != 2 || listed[0].ReuseCount != 3 || listed[0].User.UserID != user.UserID {
		t.Fatalf("listed codes = %+v", listed)
	}

	// A refusal reaches the client as Duo's error.
	var refused nodeAnswer
	node.Call(&refused, 5, "POST", "/admin/v1/phones", map[string]any{"number": "not a number"})
	if refused.Stat != "FAIL" || refused.Code != 40002 {
		t.Fatalf("a bad number = %+v", refused)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
