package notify

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"enrollportal/internal/store"
)

// Delivery guarantees, and where they stop.
//
// A message is written to the outbox in the transaction of the change that
// caused it, keyed by its intent, so it exists exactly when the change does
// and at most once per intent. The worker then:
//
//  1. claims a batch in one UPDATE (status sending, claimed_until = now +
//     lease, claimed_by = this process's start id, one attempt counted) and
//     commits;
//  2. hands each message to the SMTP server or SMS gateway;
//  3. right after each message is accepted, marks that one message sent in
//     its own tiny transaction, fenced by the claim (id + claimed_until), so
//     a worker whose claim was taken back cannot overwrite a newer one. A
//     message whose lease could end before its send would is handed back
//     unsent, so two workers never send the same message at the same time.
//
// Nothing is lost: a message is pending, claimed or finished at every
// instant. The claims of a process that died (crash, kill -9, power cut) are
// taken back as soon as another process or the next start sees it is dead
// (package instance: at once on the same host, by its lock file; after a
// stale heartbeat elsewhere), and at the latest when the lease ends. A
// failed attempt is retried with exponential backoff until MaxAttempts,
// then marked failed for an admin to see and retry; a refusal that retrying
// cannot change (a 5xx to RCPT TO, to DATA or to its end) fails at once.
//
// Exactly once is not possible across two systems that do not share a
// transaction: if the process dies after the server accepted a message (the
// 250 after DATA, or the gateway's 2xx) and before step 3 commits, the
// message is delivered again after the restart. That window is taken by one
// sender of each channel at a time (see deliver), so a crash repeats at most
// one email and one SMS; a clean stop (context cancelled) finishes the message in
// flight, records its result even though the context is done, and hands the
// untried rest back. To make the rare duplicate harmless, the email keeps
// the same Message-ID (derived from the row) and the SMS webhook gets the
// intent key as Idempotency-Key.

// Defaults of the worker.
const (
	DefaultBatchSize   = 64
	DefaultSenders     = 4
	DefaultLease       = 5 * time.Minute
	DefaultPollEvery   = 2 * time.Second
	DefaultMaxAttempts = 10

	// sendTimeout bounds one message's delivery, and so how long a stopping
	// worker can take; it is far below the lease.
	sendTimeout = 30 * time.Second
)

// Backoff is how long to wait after the given number of failed attempts:
// 30 s, 1 min, 2 min, 4 min ... capped at one hour.
func Backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Summary counts what one pass of the worker did.
type Summary struct {
	Claimed  int
	Sent     int
	Retrying int
	Failed   int
	Released int // handed back untried because the worker was stopping
}

// Wake asks a running worker to look at the outbox now rather than at its
// next poll; callers may use it after committing messages.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers the outbox until ctx is cancelled. It returns at once when no
// channel is configured (the messages wait in the outbox). It finishes the
// messages in flight before it returns.
func (s *Service) Run(ctx context.Context) {
	s.LogConfiguration()
	if len(s.transports) == 0 {
		return
	}
	for {
		sum, err := s.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("outbox: delivery pass failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil && sum.Claimed == s.batchSize {
			continue // there is more due right now
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-time.After(s.pollEvery):
		}
	}
}

// LogConfiguration says where messages go, and says plainly when a channel
// is not configured and its messages stay in the outbox.
func (s *Service) LogConfiguration() {
	for _, ch := range []string{store.ChannelEmail, store.ChannelSMS} {
		t, ok := s.transports[ch]
		switch {
		case ok:
			s.log.Info("outbox: delivering "+ch+" messages", "to", t.describe())
		case ch == store.ChannelEmail:
			s.log.Warn("outbox: no SMTP server configured (PORTAL_SMTP_URL); emails stay in the outbox, visible in the admin section")
		default:
			s.log.Warn("outbox: no SMS gateway configured (PORTAL_SMS_URL); SMS stay in the outbox, visible in the admin section")
		}
	}
}

// DeliverDue claims one batch of due messages and delivers it with a few
// concurrent senders, each reusing one connection for its share. A
// recipient's messages all go to the same sender, oldest first, so the two
// SMS of an activation arrive in order.
func (s *Service) DeliverDue(ctx context.Context) (Summary, error) {
	var sum Summary
	channels := make([]string, 0, len(s.transports))
	for ch := range s.transports {
		channels = append(channels, ch)
	}
	now := s.clock.Now()
	claimed, err := s.store.ClaimMessages(ctx, s.instance, channels, now, now.Add(s.lease), s.batchSize)
	if err != nil || len(claimed) == 0 {
		return sum, err
	}
	sum.Claimed = len(claimed)

	// Group by recipient, keeping the claim's order inside each group.
	var groups [][]store.Message
	index := map[string]int{}
	for _, m := range claimed {
		k := m.Channel + "\x00" + m.Recipient
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], m)
	}
	n := min(s.senders, len(groups))
	shares := make([][][]store.Message, n)
	for i, g := range groups {
		shares[i%n] = append(shares[i%n], g)
	}
	results := make([]Summary, n)
	var wg sync.WaitGroup
	for i := range shares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.deliverShare(ctx, shares[i])
		}()
	}
	wg.Wait()
	for _, r := range results {
		sum.Sent += r.Sent
		sum.Retrying += r.Retrying
		sum.Failed += r.Failed
		sum.Released += r.Released
	}
	return sum, nil
}

// deliverShare sends one sender's groups over sessions it opens on first use.
func (s *Service) deliverShare(ctx context.Context, groups [][]store.Message) Summary {
	var sum Summary
	sessions := map[string]session{}
	openErrs := map[string]error{}
	defer func() {
		for _, ss := range sessions {
			ss.close()
		}
	}()
	for _, g := range groups {
		var heldUntil *time.Time // an earlier message to this recipient is waiting
		for _, m := range g {
			switch {
			case ctx.Err() != nil:
				s.release(m, m.NextAttemptAt)
				sum.Released++
				continue
			case heldUntil != nil:
				// Keep the order: wait for the earlier message's retry.
				s.release(m, *heldUntil)
				sum.Released++
				continue
			case s.clock.Now().Add(sendTimeout).After(*m.ClaimedUntil):
				// A slow server ate the lease: another worker may claim this
				// message before a send started now could finish, so hand it
				// back rather than risk sending it twice.
				s.release(m, m.NextAttemptAt)
				sum.Released++
				continue
			}
			err := openErrs[m.Channel]
			ss := sessions[m.Channel]
			if err == nil && ss == nil {
				ss, err = s.transports[m.Channel].open(ctx)
				if err != nil && ctx.Err() != nil {
					s.release(m, m.NextAttemptAt) // stopping, not a failure
					sum.Released++
					continue
				}
				if err != nil {
					// The server is down: every message of this channel in
					// the share waits for its retry rather than redialling.
					openErrs[m.Channel] = err
				} else {
					sessions[m.Channel] = ss
				}
			}
			if err == nil {
				// Once started, a send finishes even when the worker is told
				// to stop, so that its outcome is known and recorded.
				sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
				err = s.deliver(sendCtx, ss, m)
				cancel()
				if ss.broken() {
					ss.close()
					delete(sessions, m.Channel)
				}
			}
			if err == nil {
				sum.Sent++
				continue
			}
			next, failed := s.markFailure(m, err)
			if failed {
				sum.Failed++
				continue
			}
			sum.Retrying++
			heldUntil = &next
		}
	}
	return sum
}

// deliver sends m on ss and records its delivery.
//
// The record is written as soon as the message is handed over, before the
// other side answers: for email, right after the "." that ends DATA is
// written to the socket, and before the relay's 250. A crash before the
// "." leaves the relay half a message, which it discards, and the message
// is sent again; a crash after the record finds the message sent. Only a
// crash in the few microseconds from the "." to the record's write
// reaching the database sends a message twice (same Message-ID): a plain
// SMTP relay takes no idempotency key, so the two events cannot be one.
// The order needs the record to survive the process: on PostgreSQL the
// record is one write to the server's socket, which the server carries out
// even when the process dies right after (store.WithDeliveryRecord); on
// SQLite the commit is in the database file before the call returns.
//
// When the relay then refuses the message (an answer other than 250), the
// record is undone (reopened, refusedAfterRecord): a crash between the
// record and that refusal is the one way a message could be lost, and it
// needs a relay that takes the whole message and then refuses it in the
// same moments as the process dies.
//
// The step from give to the record is taken by one sender of the channel
// at a time (acceptMu): a crash then finds at most one message of each
// channel given and not yet recorded. For SMS, give is the whole request
// (a gateway may take the text before it answers), so texts go out one
// after another: a gateway answers in a few hundred milliseconds at most,
// far more than activation texts need, and a webhook gateway also drops
// the rare second copy by its Idempotency-Key.
func (s *Service) deliver(ctx context.Context, ss session, m store.Message) error {
	h, err := ss.prepare(ctx, m)
	if err != nil {
		return err
	}
	// Everything the record writes is computed before the hand-over.
	sent := sentRecord{text: redactDelivered(m, m.BodyText), html: RedactLinks(m.BodyHTML)}
	mu := s.acceptMu[m.Channel]
	if mu != nil {
		mu.Lock()
	}
	err = h.give()
	recorded := err == nil && s.markSent(m, sent)
	if mu != nil {
		mu.Unlock()
	}
	if err != nil {
		return err
	}
	if err := h.answer(); err != nil {
		if recorded {
			return refusedAfterRecord{err}
		}
		return err
	}
	s.log.Debug("outbox: sent", "id", m.ID, "channel", m.Channel, "intent", m.IntentKey, "attempt", m.Attempts)
	return nil
}

// refusedAfterRecord is the relay's refusal of a message whose delivery
// was already recorded (see deliver): markFailure reopens the message
// rather than ending its claim, which the record ended.
type refusedAfterRecord struct{ err error }

func (e refusedAfterRecord) Error() string { return e.err.Error() }
func (e refusedAfterRecord) Unwrap() error { return e.err }

// sentRecord is what the outbox keeps of a delivered message's bodies.
type sentRecord struct{ text, html string }

// linkPattern finds URLs in a message body, in text or in an href.
var linkPattern = regexp.MustCompile(`https?://[^\s<>"'/]+[^\s<>"']*`)

// RedactLinks keeps only the scheme and host of every URL in a body. Once a
// message is delivered the outbox no longer needs its text, and its links
// (enrollment and activation URLs) are bearer secrets that must not outlive
// the delivery in the database; the admin's outbox page still shows what
// kind of message went where. Pending and failed messages keep their text,
// since it is still to be sent.
func RedactLinks(body string) string {
	return linkPattern.ReplaceAllStringFunc(body, func(u string) string {
		rest := u[strings.Index(u, "://")+3:]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			return u[:len(u)-len(rest)+i] + "/[link removed after delivery]"
		}
		return u
	})
}

// redactDelivered is what the outbox keeps of a delivered body: no links
// (RedactLinks), and no passcode of an SMS passcode text, which is stored
// nowhere else but as a keyed hash.
func redactDelivered(m store.Message, body string) string {
	body = RedactLinks(body)
	if strings.HasPrefix(m.IntentKey, smsPasscodeIntentPrefix) {
		body = reasonDigits.ReplaceAllString(body, "[code removed after delivery]")
	}
	return body
}

// recordCtx is for writing a result after the worker's context was cancelled:
// an outcome already known must be recorded, or the message is sent again.
func recordCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}

// markSent records m as delivered and reports whether it did (the claim
// was still held and the write went through).
func (s *Service) markSent(m store.Message, sent sentRecord) bool {
	ctx, cancel := recordCtx()
	defer cancel()
	ctx = store.WithDeliveryRecord(ctx)
	var err error
	var held bool
	// A busy database is worth a few tries here: failing to record a
	// delivery means delivering it again after the lease.
	for try := 0; try < 3; try++ {
		if held, err = s.store.MarkMessageSent(ctx, m.ID, *m.ClaimedUntil, s.clock.Now(), sent.text, sent.html); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	switch {
	case err != nil:
		s.log.Error("outbox: could not record a delivery; once the server accepts the message, it is sent again after its lease", "id", m.ID, "intent", m.IntentKey, "err", err)
	case !held:
		s.log.Warn("outbox: delivered after the claim's lease ended", "id", m.ID, "intent", m.IntentKey)
	}
	return err == nil && held
}

// markFailure schedules the retry of m, or gives up, and returns when the
// retry is due.
func (s *Service) markFailure(m store.Message, cause error) (time.Time, bool) {
	ctx, cancel := recordCtx()
	defer cancel()
	failed := isPermanent(cause) || m.Attempts >= s.maxAttempts
	next := s.clock.Now().Add(Backoff(m.Attempts))
	// Admins of every role read last_error, and the log is read widely:
	// record only a redacted reason, never what the other side echoed.
	msg := redactReason(cause)
	var err error
	if errors.As(cause, new(refusedAfterRecord)) {
		// The record of the delivery came first: undo it, with the bodies
		// as queued, since the record kept them without their links.
		_, err = s.store.ReopenMessage(ctx, m.ID, next, m.BodyText, m.BodyHTML, msg, failed)
	} else {
		_, err = s.store.MarkMessageRetry(ctx, m.ID, *m.ClaimedUntil, next, msg, failed)
	}
	if err != nil {
		s.log.Error("outbox: could not record a failed attempt", "id", m.ID, "err", err)
	}
	if failed {
		s.log.Error("outbox: message failed for good", "id", m.ID, "channel", m.Channel, "intent", m.IntentKey, "attempts", m.Attempts, "err", msg)
	} else {
		s.log.Warn("outbox: delivery failed, will retry", "id", m.ID, "channel", m.Channel, "attempt", m.Attempts, "next", next, "err", msg)
	}
	return next, failed
}

func (s *Service) release(m store.Message, due time.Time) {
	ctx, cancel := recordCtx()
	defer cancel()
	if _, err := s.store.ReleaseMessage(ctx, m.ID, *m.ClaimedUntil, due); err != nil {
		s.log.Error("outbox: could not hand back a claimed message; it is retried after its lease", "id", m.ID, "err", err)
	}
}
