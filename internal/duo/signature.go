package duo

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// MaxClockSkew is how far a signed request's date may be from the portal's
// clock, either way.
const MaxClockSkew = 300 * time.Second

// Signature versions.
const (
	SigV1 = 1 // HMAC-SHA1, no date: duo_unix 1.x (Debian's login_duo)
	SigV2 = 2 // HMAC-SHA512 over date, method, host, path, form params
	SigV5 = 5 // HMAC-SHA512 that also covers the body and x-duo-* headers
)

// SignedRequest is what a signature covers, taken from an HTTP request.
type SignedRequest struct {
	Method string
	Host   string // the Host header, possibly with :port
	Path   string
	// Params are the form parameters (the body of a form POST, else the
	// query); QueryParams the query string alone (v5 signs it apart from a
	// JSON body).
	Params      url.Values
	QueryParams url.Values
	// RawParams is the wire form of Params (body or raw query): duo_unix 1.x
	// signs exactly the string it sends.
	RawParams string
	Body      []byte
	// JSON marks a JSON body, which only v5 signs.
	JSON   bool
	Date   string      // X-Duo-Date, else Date; "" when absent
	Header http.Header // for v5's x-duo-* headers
}

// ParseAuthorization splits "Basic base64(ikey:hexsig)".
func ParseAuthorization(h string) (ikey, sig string, ok bool) {
	scheme, enc, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Basic") || len(enc) > 1024 {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	ikey, sig, found = strings.Cut(string(raw), ":")
	if !found || ikey == "" || (len(sig) != 40 && len(sig) != 128) {
		return "", "", false
	}
	if _, err := hex.DecodeString(sig); err != nil {
		return "", "", false
	}
	return ikey, strings.ToLower(sig), true
}

// CanonParams encodes params as duo_api_golang and the Python client do:
// keys sorted, each key's values sorted, RFC 3986 percent-encoding (only
// A-Za-z0-9 and -._~ kept), space as %20.
func CanonParams(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(k))
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String()
}

// CanonParamsV1 encodes params as duo_unix 1.x does: each k=v encoded, the
// pairs sorted as strings.
func CanonParamsV1(params url.Values) string {
	var pairs []string
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// escape is url.QueryEscape with %20 for space: the two agree on the
// unreserved characters RFC 3986 keeps.
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// CanonV1 is the string a v1 signature covers.
func CanonV1(method, host, path, params string) string {
	return strings.ToUpper(method) + "\n" + strings.ToLower(host) + "\n" + path + "\n" + params
}

// CanonV2 is the string a v2 signature covers.
func CanonV2(date, method, host, path, params string) string {
	return date + "\n" + strings.ToUpper(method) + "\n" + strings.ToLower(host) + "\n" + path + "\n" + params
}

// CanonV5 is the string a v5 signature covers.
func CanonV5(date, method, host, path, queryParams string, body []byte, duoHeaders string) string {
	return date + "\n" + strings.ToUpper(method) + "\n" + strings.ToLower(host) + "\n" + path + "\n" + queryParams +
		"\n" + sha512Hex(body) + "\n" + sha512Hex([]byte(duoHeaders))
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// canonDuoHeaders is the x-duo-* headers as duo_client_python signs them:
// lower-case names sorted, name and value joined by NUL bytes.
func canonDuoHeaders(h http.Header) string {
	var names []string
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-duo-") {
			names = append(names, lk)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, n, h.Get(n))
	}
	return strings.Join(parts, "\x00")
}

// Sign returns the hex HMAC of canon with skey: SHA-1 for v1, SHA-512
// otherwise.
func Sign(version int, skey, canon string) string {
	var h func() hash.Hash = sha512.New
	if version == SigV1 {
		h = sha1.New
	}
	m := hmac.New(h, []byte(skey))
	m.Write([]byte(canon))
	return hex.EncodeToString(m.Sum(nil))
}

// hostVariants: duo_api_golang signs the host with its :port, duo_unix
// without; accept either, as Duo does.
func hostVariants(host string) []string {
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		return []string{host, strings.Trim(h, "[]")}
	}
	return []string{host}
}

// VerifySignature checks sig (lower-case hex) over r with skey and returns
// the version that matched. Every candidate is compared in constant time.
// The date of v2 and v5 must be within MaxClockSkew of now; v1 carries no
// date, so a v1 request could be replayed: the REST v1 calls it signs only
// ask and answer, and a passcode in one is single-use anyway.
func VerifySignature(r SignedRequest, skey, sig string, now time.Time) (version int, ok bool) {
	match := func(v int, canon string) bool {
		return hmac.Equal([]byte(Sign(v, skey, canon)), []byte(sig))
	}
	hosts := hostVariants(r.Host)
	if len(sig) == 40 {
		// v1: HMAC-SHA1 without a date, over the params as sent or
		// re-encoded.
		for _, h := range hosts {
			for _, p := range []string{r.RawParams, CanonParamsV1(r.Params), CanonParams(r.Params)} {
				if match(SigV1, CanonV1(r.Method, h, r.Path, p)) {
					return SigV1, true
				}
			}
		}
		return 0, false
	}
	if len(sig) != 128 || !dateWithin(r.Date, now) {
		return 0, false
	}
	for _, h := range hosts {
		if !r.JSON && match(SigV2, CanonV2(r.Date, r.Method, h, r.Path, CanonParams(r.Params))) {
			return SigV2, true
		}
		for _, dh := range []string{"", canonDuoHeaders(r.Header)} {
			if match(SigV5, CanonV5(r.Date, r.Method, h, r.Path, CanonParams(r.QueryParams), r.Body, dh)) {
				return SigV5, true
			}
		}
	}
	return 0, false
}

// dateWithin parses an RFC 1123 date (numeric zone, or GMT) and checks it
// against now.
func dateWithin(date string, now time.Time) bool {
	if date == "" {
		return false
	}
	t, err := time.Parse(time.RFC1123Z, date)
	if err != nil {
		if t, err = time.Parse(time.RFC1123, date); err != nil {
			return false
		}
	}
	d := now.Sub(t)
	return d <= MaxClockSkew && d >= -MaxClockSkew
}
