package adminapi

import (
	"encoding/json"
	"errors"
	"strconv"

	"enrollportal/internal/text"
)

// textProblem is the sentence of a text.Error (a control character in a
// field), which names the field.
func textProblem(err error) (string, bool) {
	var te *text.Error
	if errors.As(err, &te) {
		return te.Error(), true
	}
	return "", false
}

// page is the offset and limit of a list call.
type page struct{ offset, limit int }

// page reads limit (default DefaultLimit) and offset. A limit above
// MaxLimit is served as MaxLimit, as Duo serves its own maximum, so that a
// client written for Duo's 500 users a page pages correctly here too.
func (k *call) page() page {
	pg := page{limit: DefaultLimit}
	if v, ok := k.params["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 {
			k.bad("limit must be a whole number of 1 or more (at most " + strconv.Itoa(MaxLimit) + " are answered)")
			return pg
		}
		pg.limit = min(n, MaxLimit)
	}
	if v, ok := k.params["offset"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			k.bad("offset must be a whole number, 0 or more")
			return pg
		}
		pg.offset = n
	}
	return pg
}

// has tells whether the call carries name.
func (k *call) has(name string) bool {
	_, ok := k.params[name]
	return ok
}

// str is parameter name, "" when absent.
func (k *call) str(name string) string { return k.params.Get(name) }

// required is a parameter that must be present and not empty.
func (k *call) required(name string) string {
	v := k.params.Get(name)
	if v == "" {
		k.bad("missing required parameter " + strconv.Quote(name))
	}
	return v
}

// integer reads a whole-number parameter within [min, max], def when absent.
func (k *call) integer(name string, def, min, max int) int {
	v, ok := k.params[name]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < min || n > max {
		k.bad(name + " must be a whole number from " + strconv.Itoa(min) + " to " + strconv.Itoa(max))
		return def
	}
	return n
}

// stringList reads a JSON-encoded array of strings (username_list,
// user_id_list), as Duo's clients send it in a form or a JSON body.
func (k *call) stringList(name string) []string {
	v, ok := k.params[name]
	if !ok {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v[0]), &out); err != nil {
		k.bad(name + " must be a JSON array of strings")
		return nil
	}
	if len(out) > MaxLimit {
		k.bad(name + " may hold at most " + strconv.Itoa(MaxLimit) + " values")
		return nil
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// flag reads a flag as form clients (1/0) and JSON clients (true/false)
// send it.
func (k *call) flag(name string) bool {
	switch k.params.Get(name) {
	case "", "0", "false":
		return false
	case "1", "true":
		return true
	}
	k.bad(name + " must be true, false, 1 or 0")
	return false
}
