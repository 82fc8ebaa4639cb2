package notify

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"
)

// What a failed delivery leaves behind (the outbox's last error, shown to
// every admin role, and the log) must not carry the message it failed to
// deliver: gateways and mail servers may echo the request in their answer,
// and the request holds enrollment and activation links and codes, which
// are bearer secrets. So an answer is never kept verbatim: only its status
// and a short reason with every URL, path, long digit run and long opaque
// token taken out.

// maxReasonLen bounds a recorded reason, in bytes.
const maxReasonLen = 200

var (
	// A URL with a scheme, also in its JSON-escaped form (https:\/\/...).
	reasonURL = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*:(?:\\?/){2}\S*`)
	// A word with a slash in it: a host and path without a scheme
	// (portal.example/activate/...), or a path alone.
	reasonPath = regexp.MustCompile(`\S*/\S*`)
	// Six or more digits, optionally split by spaces or dashes as codes and
	// phone numbers are written: passcodes, activation codes, numbers.
	reasonDigits = regexp.MustCompile(`\d(?:[ -]?\d){5,}`)
	// A long run of token characters that mixes letters and digits, as
	// random tokens do and words do not.
	reasonToken = regexp.MustCompile(`[A-Za-z0-9_\-=+]{16,}`)
)

// redactReason returns what may be recorded of a failed delivery: one short
// line without links, paths, digit runs of six or more, or opaque tokens.
func redactReason(err error) string {
	return redactText(err.Error())
}

func redactText(s string) string {
	s = oneLine(s)
	s = reasonURL.ReplaceAllString(s, "[link removed]")
	s = reasonPath.ReplaceAllStringFunc(s, func(w string) string {
		if w == "[link removed]" {
			return w
		}
		return "[removed]"
	})
	s = reasonDigits.ReplaceAllString(s, "[number removed]")
	s = reasonToken.ReplaceAllStringFunc(s, func(w string) string {
		if strings.ContainsAny(w, "0123456789") {
			return "[removed]"
		}
		return w
	})
	return truncate(s, maxReasonLen)
}

// gatewayReason picks a short human reason out of an SMS gateway's error
// answer: the message field of a JSON error when there is one (Twilio's
// "message", or "error"/"detail" of other gateways), else the start of the
// text. It is redacted like any reason; the body itself is never kept.
func gatewayReason(body []byte) string {
	var fields map[string]any
	if json.Unmarshal(body, &fields) == nil {
		for _, k := range []string{"message", "error_message", "error", "detail", "description"} {
			if v, ok := fields[k].(string); ok && strings.TrimSpace(v) != "" {
				return truncate(redactText(v), 120)
			}
		}
		return "(no reason given)"
	}
	return truncate(redactText(string(body)), 120)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
