package duo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"
)

// Limits on what a client may send. No Duo client comes near them.
const (
	MaxBodyBytes   = 16 << 10
	MaxParamLength = 2048 // pushinfo is the longest a client sends
	MaxParams      = 32
)

// errBadParams is a request whose parameters cannot be read.
type errBadParams struct{ detail string }

func (e *errBadParams) Error() string { return e.detail }

func badParams(format string, a ...any) error {
	return &errBadParams{detail: fmt.Sprintf(format, a...)}
}

// problemDetail is the message_detail for a request ReadSignedRequest
// refused: the sentence written for the client, never a raw error.
func problemDetail(err error) string {
	var bad *errBadParams
	switch {
	case errors.As(err, &bad):
		return bad.detail
	case errors.Is(err, errContentType):
		return contentTypeDetail
	}
	return "the request could not be read"
}

const contentTypeDetail = "the body must be application/x-www-form-urlencoded or application/json"

// errContentType is a body of a type the APIs do not take.
var errContentType = errors.New("duo: unsupported content type")

// ReadSignedRequest takes what a signature covers from r and its body
// (already read, at most MaxBodyBytes). A form POST's parameters come from
// the body, a GET's from the query; a JSON body must be an object, whose
// values jsonParams turns into the strings a form would carry.
func ReadSignedRequest(r *http.Request, body []byte) (SignedRequest, error) {
	return readSignedRequest(r, body, nil)
}

// readSignedRequest is ReadSignedRequest where the parameters named in long
// may be as long as the body (the Admin API's bulk_create users list).
func readSignedRequest(r *http.Request, body []byte, long []string) (SignedRequest, error) {
	sr := SignedRequest{
		Method: r.Method, Host: r.Host, Path: r.URL.Path, Body: body,
		Date: r.Header.Get("X-Duo-Date"), Header: r.Header,
	}
	if sr.Date == "" {
		sr.Date = r.Header.Get("Date")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return sr, badParams("the query string is malformed")
	}
	sr.QueryParams = query
	if r.Method == http.MethodGet || r.Method == http.MethodDelete || len(body) == 0 && r.Header.Get("Content-Type") == "" {
		sr.Params, sr.RawParams = query, r.URL.RawQuery
		return sr, checkParams(sr.Params, long)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return sr, errContentType
	}
	switch ct {
	case "application/x-www-form-urlencoded", "":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return sr, badParams("the form body is malformed")
		}
		sr.Params, sr.RawParams = form, string(body)
		// A query string beside a form body would be unsigned by v2.
		if len(query) > 0 {
			return sr, badParams("send parameters in the body or the query string, not both")
		}
	case "application/json":
		sr.JSON = true
		if sr.Params, err = jsonParams(body); err != nil {
			return sr, err
		}
		for k, vs := range query {
			sr.Params[k] = append(sr.Params[k], vs...)
		}
	default:
		return sr, errContentType
	}
	return sr, checkParams(sr.Params, long)
}

// checkParams refuses oversized, repeated or non-UTF-8 parameters before any
// of them is used.
func checkParams(p url.Values, long []string) error {
	if len(p) > MaxParams {
		return badParams("too many parameters")
	}
	for k, vs := range p {
		if len(vs) > 1 {
			return badParams("parameter %q is repeated", k)
		}
		if len(k) > 64 || !utf8.ValidString(k) {
			return badParams("a parameter name is malformed")
		}
		for _, v := range vs {
			if len(v) > MaxParamLength && !slices.Contains(long, k) {
				return badParams("parameter %q is too long", k)
			}
			if !utf8.ValidString(v) {
				return badParams("parameter %q is not valid UTF-8", k)
			}
		}
	}
	return nil
}

// jsonParams reads a JSON object body into parameters. v5 clients send typed
// values (duo_client_python's `"aliases": {...}`, `"predelay": 5`,
// `"client_supports_verified_push": true`); v5 signs the raw body, so any of
// them is as trusted as a string. Each becomes the string a form would
// carry: a string as is, true/false, a number as written, null as absent,
// and an array or object as its JSON text, which is how form clients send
// the list parameters (username_list, users) anyway.
func jsonParams(body []byte) (url.Values, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, badParams("the JSON body must be an object")
	}
	params := url.Values{}
	for k, raw := range obj {
		raw = bytes.TrimSpace(raw)
		switch {
		case bytes.Equal(raw, []byte("null")):
			continue
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, badParams("parameter %q is malformed", k)
			}
			params.Set(k, s)
		case raw[0] == '[' || raw[0] == '{':
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				return nil, badParams("parameter %q is malformed", k)
			}
			params.Set(k, compact.String())
		default: // true, false or a number, already in its written form
			params.Set(k, string(raw))
		}
	}
	return params, nil
}
