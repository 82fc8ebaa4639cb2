package notify

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"enrollportal/internal/org"
	"enrollportal/internal/store"
)

// Intent keys name why a message exists, so that writing the same intent twice
// keeps one message and nothing is ever sent twice for it. The caller chooses
// the key; it must be unique for one "send" the admin or the portal decided
// on, and the same when that decision is replayed. Examples:
//
//	enroll-link:<linkID>:send:<n>        the n-th send of enrollment link linkID
//	                                     (n = 1 on issue, 2 on the first resend...)
//	activation:<codeID>:sms-install      first SMS of an activation (install the app)
//	activation:<codeID>:sms-activate     second SMS (open the activation link)
//	activation:<codeID>:email            an activation link sent by email
//
// EnrollLinkIntent and ActivationIntent build the first and the others.

// EnrollLinkIntent is the intent key of the n-th send of enrollment link linkID.
func EnrollLinkIntent(linkID int64, n int) string {
	return fmt.Sprintf("enroll-link:%d:send:%d", linkID, n)
}

// ActivationIntent is the intent key of one activation message for the
// activation code codeID; part is "sms-install", "sms-activate" or "email".
func ActivationIntent(codeID int64, part string) string {
	return fmt.Sprintf("activation:%d:%s", codeID, part)
}

// Org is what a message says about the organisation that sends it.
type Org struct {
	Name string
	// Header is the non-editable first line of every message: that it is
	// automated, from this organisation's portal, and whom to ask.
	Header string
	// LogoURL is an absolute URL of the organisation's logo, shown at the top
	// of HTML emails that ask for it; empty for none.
	LogoURL string
}

// DefaultHeader is the header line used until an admin sets one.
func DefaultHeader(orgName string) string {
	return "This is an automated message from the " + orgName +
		" enrollment portal. If you did not expect it or have questions, ask the " +
		orgName + " IT help desk; never share your codes with anyone."
}

// LoadOrg reads the header line setting (org.MessageHeader: admins may
// change it in the portal's settings; the people who write a bulk or
// activation message cannot remove it), defaulting it from orgName, and the
// logo setting (org.MessageLogoURL, used when logoURL is empty: emails load
// it from there, so it must be reachable by recipients; PNG or JPEG, since
// many mail clients do not show SVG), and returns the Org that messages are
// composed for.
func LoadOrg(ctx context.Context, q org.Reader, orgName, logoURL string) (Org, error) {
	header, err := org.MessageHeader(ctx, q)
	if err != nil {
		return Org{}, fmt.Errorf("notify: load header line: %w", err)
	}
	if header == "" {
		header = DefaultHeader(orgName)
	}
	if logoURL == "" {
		if logoURL, err = org.MessageLogoURL(ctx, q); err != nil {
			return Org{}, fmt.Errorf("notify: load logo setting: %w", err)
		}
	}
	if logoURL = strings.TrimSpace(logoURL); !isWebURL(logoURL) {
		logoURL = ""
	}
	return Org{Name: orgName, Header: oneLine(header), LogoURL: logoURL}, nil
}

// Text is an editable message: a subject (emails only) and a body, plain
// text with placeholders such as {username}.
type Text struct {
	Subject string
	Body    string
}

// ActivationSMSText is the pair of texts of an activation by SMS: first how to
// install the authenticator app ({insturl}), then the activation link
// ({acturl}). Two messages because many phones only make the first URL of an
// SMS tappable.
type ActivationSMSText struct {
	Install    string
	Activation string
}

// Kind names an editable message, which decides its placeholders.
type Kind string

// The editable messages.
const (
	KindEnrollment      Kind = "enrollment"       // enrollment link email
	KindActivationEmail Kind = "activation-email" // activation link email (tablets)
	KindSMSInstall      Kind = "sms-install"      // first activation SMS
	KindSMSActivation   Kind = "sms-activation"   // second activation SMS
)

// Placeholders every admin-edited text may use, substituted literally.
const (
	PUsername = "{username}"
	PRealName = "{realname}"
	PEmail    = "{email}"
	PLink     = "{link}"
	POrg      = "{org}"
	PExpires  = "{expires}"
	PInstURL  = "{insturl}"
	PActURL   = "{acturl}"
)

// kindRules says which placeholders a kind may use and which one it needs
// (the URL that makes the message useful).
var kindRules = map[Kind]struct {
	allowed  []string
	required string
	email    bool
}{
	KindEnrollment:      {[]string{PUsername, PRealName, PEmail, PLink, POrg, PExpires}, PLink, true},
	KindActivationEmail: {[]string{PUsername, PRealName, PEmail, POrg, PExpires, PInstURL, PActURL}, PActURL, true},
	KindSMSInstall:      {[]string{PUsername, PRealName, POrg, PInstURL}, PInstURL, false},
	KindSMSActivation:   {[]string{PUsername, PRealName, POrg, PExpires, PActURL}, PActURL, false},
}

// Placeholders returns the placeholders a kind of message may use, for forms
// that list them.
func Placeholders(k Kind) []string { return append([]string(nil), kindRules[k].allowed...) }

// Default texts, used when an admin has not written their own.
var (
	DefaultEnrollment = Text{
		Subject: "Set up two-factor sign-in for {org}",
		Body: "Hello {realname},\n\n" +
			"{org} asks you to set up two-factor sign-in for your account {username}.\n\n" +
			"Open this link to start; it takes a few minutes and you need your phone or security key:\n\n" +
			"{link}\n\n" +
			"The link is personal and works until {expires}. Do not forward it.",
	}
	DefaultActivationEmail = Text{
		Subject: "Activate {org} sign-in on your device",
		Body: "Hello {realname},\n\n" +
			"To use this device for {org} two-factor sign-in:\n\n" +
			"1. Install the authenticator app: {insturl}\n\n" +
			"2. Then open this activation link on the device itself: {acturl}\n\n" +
			"The activation link works until {expires}.",
	}
	DefaultActivationSMS = ActivationSMSText{
		Install:    "{org}: to sign in with this phone, first install the authenticator app: {insturl}",
		Activation: "{org}: then open this link on this phone to activate it (valid until {expires}): {acturl}",
	}
)

// Length limits of admin-edited texts. SMS longer than a few segments cost
// money and get split by carriers, so they are kept short.
const (
	maxSubject  = 200
	maxBody     = 10000
	maxSMSBody  = 480
	maxVarValue = 2000
)

// ValidateText checks an admin-edited text of kind k and returns what is wrong
// with it, as sentences to show next to the form; nil when it is fine. The
// subject is ignored for SMS kinds.
func ValidateText(k Kind, t Text) []string {
	rules, ok := kindRules[k]
	if !ok {
		return []string{"This kind of message cannot be edited."}
	}
	var problems []string
	if rules.email {
		switch {
		case strings.TrimSpace(t.Subject) == "":
			problems = append(problems, "Enter a subject.")
		case strings.ContainsAny(t.Subject, "\r\n"):
			problems = append(problems, "The subject must fit on one line.")
		case hasControl(t.Subject, false):
			problems = append(problems, "The subject contains invisible control characters; retype it.")
		case utf8.RuneCountInString(t.Subject) > maxSubject:
			problems = append(problems, fmt.Sprintf("The subject is too long: at most %d characters.", maxSubject))
		}
		problems = append(problems, placeholderProblems("subject", t.Subject, rules.allowed)...)
	}
	limit := maxBody
	if !rules.email {
		limit = maxSMSBody
	}
	switch {
	case strings.TrimSpace(t.Body) == "":
		problems = append(problems, "Enter the message text.")
	case hasControl(t.Body, true):
		problems = append(problems, "The message text contains invisible control characters; retype it.")
	case utf8.RuneCountInString(t.Body) > limit:
		problems = append(problems, fmt.Sprintf("The message text is too long: at most %d characters.", limit))
	}
	problems = append(problems, placeholderProblems("message text", t.Body, rules.allowed)...)
	if strings.TrimSpace(t.Body) != "" && !strings.Contains(t.Body, rules.required) {
		problems = append(problems, fmt.Sprintf("The message text must contain %s, or the recipient gets nothing to open.", rules.required))
	}
	return problems
}

// placeholderProblems reports every {word} in s that is not allowed.
func placeholderProblems(where, s string, allowed []string) []string {
	var problems []string
	seen := map[string]bool{}
	for rest := s; ; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			break
		}
		word := rest[open : open+end+1]
		rest = rest[open+end+1:]
		if !isPlaceholderShape(word) || seen[word] || contains(allowed, word) {
			continue
		}
		seen[word] = true
		problems = append(problems, fmt.Sprintf("The %s uses %s, which this message does not know. You can use %s.",
			where, word, strings.Join(allowed, ", ")))
	}
	return problems
}

// isPlaceholderShape tells "{word}" from braces that are just text ("{ }").
func isPlaceholderShape(w string) bool {
	inner := w[1 : len(w)-1]
	if inner == "" || len(inner) > 30 {
		return false
	}
	for _, r := range inner {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hasControl reports control characters other than the line breaks and tabs
// a body may hold.
func hasControl(s string, body bool) bool {
	for _, r := range s {
		if body && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// Vars are the values of the placeholders, keyed by the placeholder with its
// braces ("{username}").
type Vars map[string]string

// Render substitutes vars into text literally, in one pass: a value that
// itself looks like a placeholder is not substituted again, and nothing in
// the text can run code. Placeholders without a value stay as typed.
func Render(text string, vars Vars) string {
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, k, v)
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// oneLine makes s safe for a header: line breaks and other control characters
// become spaces, runs of spaces collapse, and the result is trimmed. User
// data (a real name with a newline) must never start a new mail header.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// cleanValue keeps user data from smuggling control characters or huge
// strings into a body; line breaks in a value become spaces too, so a value
// cannot fake a paragraph of the message.
func cleanValue(s string) string {
	s = oneLine(s)
	if utf8.RuneCountInString(s) > maxVarValue {
		s = string([]rune(s)[:maxVarValue])
	}
	return s
}

// FormatExpiry is how messages spell an expiry time.
func FormatExpiry(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }

// userVars are the placeholders every message knows.
func userVars(org Org, u store.User) Vars {
	name := u.RealName
	if strings.TrimSpace(name) == "" {
		name = u.Username
	}
	return Vars{
		PUsername: cleanValue(u.Username),
		PRealName: cleanValue(name),
		PEmail:    cleanValue(u.Email),
		POrg:      cleanValue(org.Name),
	}
}

// linkPlaceholders are the portal-made URLs that the HTML part turns into
// links. Nothing else is ever linkified: admin text and user data stay text,
// so a crafted real name cannot become a link in an email.
var linkPlaceholders = []string{PLink, PActURL, PInstURL}

// EnrollmentEmail composes the email that sends an enrollment link to u. The
// caller sets IntentKey (see EnrollLinkIntent) and writes it with Enqueue.
// custom replaces the default text when not nil; it should have passed
// ValidateText, and a subject that still carries a line break is flattened.
func EnrollmentEmail(org Org, u store.User, link string, expires time.Time, custom *Text) store.Message {
	t := DefaultEnrollment
	if custom != nil {
		t = *custom
	}
	vars := userVars(org, u)
	vars[PLink] = cleanValue(link)
	vars[PExpires] = FormatExpiry(expires)
	return composeEmail(org, u.Email, t, vars, false)
}

// ActivationEmail composes the email that sends a device's activation link
// (for tablets, which have no number): install the app from installURL, then
// open activationURL on the device. withLogo shows the organisation's logo at
// the top when it has one. The caller sets IntentKey (see ActivationIntent).
func ActivationEmail(org Org, u store.User, installURL, activationURL string, expires time.Time, custom *Text, withLogo bool) store.Message {
	t := DefaultActivationEmail
	if custom != nil {
		t = *custom
	}
	return composeEmail(org, u.Email, t, activationVars(org, u, installURL, activationURL, expires), withLogo)
}

// activationVars are the values of an activation message's placeholders,
// by email or by SMS.
func activationVars(org Org, u store.User, installURL, activationURL string, expires time.Time) Vars {
	vars := userVars(org, u)
	vars[PInstURL] = cleanValue(installURL)
	vars[PActURL] = cleanValue(activationURL)
	vars[PExpires] = FormatExpiry(expires)
	return vars
}

// ActivationSMS composes the two SMS of an activation to number (E.164): the
// install instructions, then the activation link. They are sent in this order
// (the worker sends one recipient's messages one after another, oldest
// first). The caller sets both IntentKeys, e.g. ActivationIntent(id,
// "sms-install") and ActivationIntent(id, "sms-activate"), and enqueues both
// in the same transaction.
func ActivationSMS(org Org, u store.User, number, installURL, activationURL string, expires time.Time, custom *ActivationSMSText) [2]store.Message {
	t := DefaultActivationSMS
	if custom != nil {
		t = *custom
	}
	vars := activationVars(org, u, installURL, activationURL, expires)
	return [2]store.Message{
		composeSMS(org, number, t.Install, vars),
		composeSMS(org, number, t.Activation, vars),
	}
}

func composeSMS(org Org, number, body string, vars Vars) store.Message {
	return store.Message{
		Channel:   store.ChannelSMS,
		Recipient: number,
		BodyText:  oneLine(org.Header) + "\n\n" + Render(normalizeNewlines(body), vars),
	}
}

func composeEmail(org Org, to string, t Text, vars Vars, withLogo bool) store.Message {
	body := normalizeNewlines(t.Body)
	header := oneLine(org.Header)
	return store.Message{
		Channel:   store.ChannelEmail,
		Recipient: strings.TrimSpace(to),
		Subject:   oneLine(Render(oneLine(t.Subject), vars)),
		BodyText:  header + "\n\n" + Render(body, vars) + "\n",
		BodyHTML:  renderHTML(org, header, body, vars, withLogo),
	}
}

func normalizeNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// emailHTML is the HTML part of every email. html/template escapes every
// piece of text, the admin's and the user data alike; only the portal-made
// URLs of a segment's Link become links, and the template allows only
// http(s) ones there.
var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Org}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a;">
{{if .LogoURL}}<p><img src="{{.LogoURL}}" alt="{{.Org}}" style="max-height: 64px;"></p>
{{end}}<p style="font-size: 0.9em; color: #555555; border-bottom: 1px solid #dddddd; padding-bottom: 0.5em;">{{.Header}}</p>
{{range .Paragraphs}}<p>{{range $i, $line := .}}{{if $i}}<br>
{{end}}{{range $line}}{{if .Link}}<a href="{{.Link}}">{{.Link}}</a>{{else}}{{.Text}}{{end}}{{end}}{{end}}</p>
{{end}}</body></html>
`))

// htmlSegment is a piece of a body line: text, or a link to a portal URL.
type htmlSegment struct {
	Text string
	Link string
}

// htmlEmail is what emailHTML shows.
type htmlEmail struct {
	Org     string
	LogoURL string
	Header  string
	// Paragraphs are split on blank lines; each holds its lines.
	Paragraphs [][][]htmlSegment
}

// renderHTML builds the HTML part. Paragraphs are split on blank lines, line
// breaks become <br>.
func renderHTML(org Org, header, body string, vars Vars, withLogo bool) string {
	e := htmlEmail{Org: vars[POrg], Header: header}
	if withLogo {
		e.LogoURL = org.LogoURL
	}
	for _, para := range strings.Split(body, "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		var lines [][]htmlSegment
		for _, line := range strings.Split(strings.Trim(para, "\n"), "\n") {
			lines = append(lines, htmlSegments(line, vars))
		}
		e.Paragraphs = append(e.Paragraphs, lines)
	}
	var b strings.Builder
	if err := emailHTML.Execute(&b, e); err != nil {
		// Only a failing writer could fail the template, and a
		// strings.Builder does not; an email without its HTML part is
		// still delivered, as text.
		return ""
	}
	return b.String()
}

// htmlSegments substitutes placeholders in one line of the body the same
// single-pass way as Render, keeping portal-made URLs apart as links.
func htmlSegments(line string, vars Vars) []htmlSegment {
	var out []htmlSegment
	var text strings.Builder
	for line != "" {
		i := strings.IndexByte(line, '{')
		if i < 0 {
			text.WriteString(line)
			break
		}
		text.WriteString(line[:i])
		line = line[i:]
		j := strings.IndexByte(line, '}')
		if j < 0 {
			text.WriteString(line)
			break
		}
		word := line[:j+1]
		v, ok := vars[word]
		switch {
		case !ok:
			text.WriteByte('{')
			line = line[1:]
			continue
		case contains(linkPlaceholders, word) && isWebURL(v):
			if text.Len() > 0 {
				out = append(out, htmlSegment{Text: text.String()})
				text.Reset()
			}
			out = append(out, htmlSegment{Link: v})
		default:
			text.WriteString(v)
		}
		line = line[j+1:]
	}
	if text.Len() > 0 {
		out = append(out, htmlSegment{Text: text.String()})
	}
	return out
}

// isWebURL accepts only http(s) URLs as link targets, so a value such as
// "javascript:..." can never become a link.
func isWebURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// Enqueue writes m to the outbox through q, which is normally the
// transaction of the change that caused the message, so that the change and
// its message are committed together or not at all. It reports false when a
// message with the same IntentKey already exists (nothing is written then).
func Enqueue(ctx context.Context, q store.Queries, m store.Message, now time.Time) (bool, error) {
	switch {
	case m.IntentKey == "":
		return false, errors.New("notify: message without an intent key")
	case m.Channel != store.ChannelEmail && m.Channel != store.ChannelSMS:
		return false, fmt.Errorf("notify: unknown channel %q", m.Channel)
	case strings.TrimSpace(m.Recipient) == "":
		return false, fmt.Errorf("notify: %s message %s has no recipient", m.Channel, m.IntentKey)
	case strings.ContainsAny(m.Subject, "\r\n") || strings.ContainsAny(m.Recipient, "\r\n"):
		// The builders never produce this; a hand-made message must not
		// carry a header injection into the outbox either.
		return false, fmt.Errorf("notify: message %s has a line break in a header", m.IntentKey)
	}
	m.Status = store.MessagePending
	m.CreatedAt, m.NextAttemptAt = now, now
	return q.EnqueueMessage(ctx, &m)
}

// SMSPasscodeIntent is the intent key of the SMS that carries passcode id.
func SMSPasscodeIntent(id int64) string { return fmt.Sprintf("%s%d", smsPasscodeIntentPrefix, id) }

const smsPasscodeIntentPrefix = "sms-passcode:"

// SMSPasscodeText composes the SMS of a one-time passcode to number
// (E.164), delivered ahead of bulk mail (store.PriorityLogin): someone is
// waiting for it at a login. The caller sets the IntentKey
// (SMSPasscodeIntent).
func SMSPasscodeText(org Org, number, code string, valid time.Duration) store.Message {
	m := composeSMS(org, number, fmt.Sprintf(
		"Your passcode is %s. It works once, for %d minutes. If you are not signing in right now, do not share it and tell your help desk.",
		code, int(valid/time.Minute)), Vars{})
	m.Priority = store.PriorityLogin
	return m
}
