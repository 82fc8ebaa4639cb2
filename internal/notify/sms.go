package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"enrollportal/internal/store"
)

// newSMSTransport reads PORTAL_SMS_URL. Two forms:
//
//	https://[user:pass@]gateway.example/path   a generic JSON webhook (http:// too):
//	    POST {"to": "+15551234567", "body": "..."} with Content-Type
//	    application/json, basic auth from the userinfo when present, and an
//	    Idempotency-Key header carrying the message's intent key so a gateway
//	    that honours it drops the rare second delivery (see worker.go).
//	twilio://ACCOUNT_SID:AUTH_TOKEN@FROM        Twilio's Messages API. FROM is the
//	    sender number in E.164, with or without "+" (twilio://AC...:tok@15551234567),
//	    or a Messaging Service SID (MG...). It posts To, From (or
//	    MessagingServiceSid) and Body as a form to
//	    https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json with
//	    basic auth.
//
// twilioBase overrides https://api.twilio.com (for tests); client may be nil.
func newSMSTransport(rawURL, twilioBase string, client *http.Client) (transport, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("notify: PORTAL_SMS_URL is not a URL")
	}
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, errors.New("notify: PORTAL_SMS_URL has no host")
		}
		w := &webhookTransport{client: client}
		if u.User != nil {
			w.user = u.User.Username()
			w.pass, _ = u.User.Password()
			w.hasAuth = true
			u.User = nil
		}
		w.url = u.String()
		return w, nil
	case "twilio":
		sid := ""
		token := ""
		if u.User != nil {
			sid = u.User.Username()
			token, _ = u.User.Password()
		}
		if !strings.HasPrefix(sid, "AC") || token == "" {
			return nil, errors.New("notify: PORTAL_SMS_URL must be twilio://ACCOUNT_SID:AUTH_TOKEN@FROM_NUMBER")
		}
		from := u.Host
		if from == "" {
			return nil, errors.New("notify: PORTAL_SMS_URL has no sender number (twilio://SID:TOKEN@15551234567)")
		}
		if !strings.HasPrefix(from, "MG") && !strings.HasPrefix(from, "+") {
			from = "+" + from
		}
		if twilioBase == "" {
			twilioBase = "https://api.twilio.com"
		}
		return &twilioTransport{client: client, base: strings.TrimRight(twilioBase, "/"), sid: sid, token: token, from: from}, nil
	default:
		return nil, fmt.Errorf("notify: PORTAL_SMS_URL must start with https://, http:// or twilio://, not %q", u.Scheme+"://")
	}
}

// httpSession adapts a one-request-per-message sender to session: HTTP
// keep-alive already reuses the connection.
type httpSession struct {
	sendFunc func(ctx context.Context, m store.Message) error
}

// prepare has nothing to do before the request itself, which is the whole
// delivery: a gateway may take the text before it answers, so give sends
// the request and reads the answer, and the worker records the delivery
// only after it.
func (s httpSession) prepare(ctx context.Context, m store.Message) (handOff, error) {
	return handOff{
		give:   func() error { return s.sendFunc(ctx, m) },
		answer: func() error { return nil },
	}, nil
}
func (s httpSession) broken() bool { return false }
func (s httpSession) close() error { return nil }

type webhookTransport struct {
	client     *http.Client
	url        string
	user, pass string
	hasAuth    bool
}

func (w *webhookTransport) channel() string { return store.ChannelSMS }

func (w *webhookTransport) describe() string {
	u, _ := url.Parse(w.url)
	return u.Scheme + "://" + u.Host + u.Path
}

func (w *webhookTransport) open(context.Context) (session, error) {
	return httpSession{w.send}, nil
}

func (w *webhookTransport) send(ctx context.Context, m store.Message) error {
	body, err := json.Marshal(struct {
		To   string `json:"to"`
		Body string `json:"body"`
	}{m.Recipient, m.BodyText})
	if err != nil {
		return permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.IntentKey)
	if w.hasAuth {
		req.SetBasicAuth(w.user, w.pass)
	}
	return doSMSRequest(w.client, req, "SMS webhook")
}

type twilioTransport struct {
	client     *http.Client
	base       string
	sid, token string
	from       string
}

func (t *twilioTransport) channel() string { return store.ChannelSMS }

func (t *twilioTransport) describe() string { return "twilio account " + t.sid + " via " + t.base }

func (t *twilioTransport) open(context.Context) (session, error) {
	return httpSession{t.send}, nil
}

func (t *twilioTransport) send(ctx context.Context, m store.Message) error {
	form := url.Values{"To": {m.Recipient}, "Body": {m.BodyText}}
	if strings.HasPrefix(t.from, "MG") {
		form.Set("MessagingServiceSid", t.from)
	} else {
		form.Set("From", t.from)
	}
	endpoint := t.base + "/2010-04-01/Accounts/" + url.PathEscape(t.sid) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return permanent(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(t.sid, t.token)
	return doSMSRequest(t.client, req, "Twilio")
}

// doSMSRequest posts and classifies the answer: 2xx is delivered to the
// gateway; 4xx means the gateway refuses this message for good (a bad
// number), except timeouts, rate limits and the answers of a misconfigured
// gateway (401, 403, 404), which an admin can fix while the message waits.
func doSMSRequest(client *http.Client, req *http.Request, who string) error {
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	// Never the body itself: a gateway may echo the request, link and all.
	err = fmt.Errorf("%s answered %s: %s", who, resp.Status, gatewayReason(snippet))
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return err
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return permanent(err)
	}
	return err
}
