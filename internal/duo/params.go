package duo

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
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
// the body, a GET's from the query; a JSON body must be an object of
// strings, as duo_api_golang's JSON calls send.
func ReadSignedRequest(r *http.Request, body []byte) (SignedRequest, error) {
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
		return sr, checkParams(sr.Params)
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
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return sr, badParams("the JSON body must be an object")
		}
		sr.Params = url.Values{}
		for k, v := range obj {
			s, ok := v.(string)
			if !ok {
				return sr, badParams("parameter %q must be a string", k)
			}
			sr.Params.Set(k, s)
		}
		for k, vs := range query {
			sr.Params[k] = append(sr.Params[k], vs...)
		}
	default:
		return sr, errContentType
	}
	return sr, checkParams(sr.Params)
}

// checkParams refuses oversized, repeated or non-UTF-8 parameters before any
// of them is used.
func checkParams(p url.Values) error {
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
			if len(v) > MaxParamLength {
				return badParams("parameter %q is too long", k)
			}
			if !utf8.ValidString(v) {
				return badParams("parameter %q is not valid UTF-8", k)
			}
		}
	}
	return nil
}
