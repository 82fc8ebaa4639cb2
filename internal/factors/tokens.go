package factors

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
	"enrollportal/internal/users"
	"enrollportal/internal/verify"
)

// Audit actions of hardware tokens.
const (
	actionTokensImported = "hardware_tokens.imported"
	actionTokenAssigned  = "hardware_token.assigned"
	actionTokenResynced  = "hardware_token.resynced"
	actionTokenCreated   = "hardware_token.created"
	actionTokenDeleted   = "hardware_token.deleted"
	actionTokenUnassign  = "hardware_token.unassigned"
)

// Errors of the hardware-token rules.
var (
	ErrTokenImportInvalid = errors.New("factors: the token import has invalid lines")
	ErrTokenNotFound      = errors.New("factors: no token with that serial")
	ErrTokenAssigned      = errors.New("factors: the token belongs to another user")
	ErrUserNotFound       = errors.New("factors: no such user")
	ErrResyncFailed       = errors.New("factors: the codes are not three consecutive codes of the token")
	ErrResyncTOTP         = errors.New("factors: a time-based token needs no resync")
	ErrTokenKeyNotFound   = errors.New("factors: no token with that id")
)

// TokenProblemError is a token that cannot be added, with the sentence
// that says why (the same sentences as the import's); nothing was changed.
type TokenProblemError struct{ Problem string }

func (e *TokenProblemError) Error() string { return e.Problem }

// TokenSealer seals a token's secret at rest (enroll.Service).
type TokenSealer interface {
	SealTokenSecret(key string, secret []byte) []byte
	OpenTokenSecret(t store.OATHToken) ([]byte, error)
}

// TokenLine is one line of a token import, checked.
type TokenLine struct {
	Line    int
	Serial  string
	Type    string // store.Token*
	Step    int
	Counter int64 // the counter of the token's next code (HOTP)
	Secret  []byte
	Problem string // empty when the line is good
}

// TypeLabel is how the type is written in the import and shown.
func (l TokenLine) TypeLabel() string { return TokenTypeLabel(l.Type, l.Step) }

// TokenTypeLabel writes a token type as the import takes it.
func TokenTypeLabel(typ string, step int) string {
	switch typ {
	case store.TokenHOTP8:
		return "hotp-8"
	case store.TokenTOTP6, store.TokenTOTP8:
		return fmt.Sprintf("totp-%d/%d", verify.TokenDigits(typ), step)
	}
	return "hotp-6"
}

func parseTokenType(s string) (typ string, step int, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	step = 30
	if kind, st, found := strings.Cut(s, "/"); found {
		n, err := strconv.Atoi(st)
		if err != nil || (n != 30 && n != 60) || !strings.HasPrefix(kind, "totp") {
			return "", 0, false
		}
		s, step = kind, n
	}
	switch s {
	case "", "hotp-6", "hotp6":
		return store.TokenHOTP6, 0, true
	case "hotp-8", "hotp8":
		return store.TokenHOTP8, 0, true
	case "totp-6", "totp6":
		return store.TokenTOTP6, step, true
	case "totp-8", "totp8":
		return store.TokenTOTP8, step, true
	}
	return "", 0, false
}

// ParseTokens checks a token import, `serial,secret_hex[,type][,counter]`
// a line (type hotp-6, hotp-8, totp-6 or totp-8, with /30 or /60 for a
// TOTP step; hotp-6 when empty), and says by line what is wrong. It changes
// nothing.
func (s *Service) ParseTokens(ctx context.Context, r io.Reader) ([]TokenLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var out []TokenLine
	seen := map[string]int{}
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out = append(out, TokenLine{Line: n, Problem: "not a CSV line"})
			continue
		}
		if n == 1 && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "serial") {
			continue // a header line
		}
		l := TokenLine{Line: n}
		out = append(out, s.checkTokenLine(ctx, l, rec, seen))
	}
	return out, nil
}

func (s *Service) checkTokenLine(ctx context.Context, l TokenLine, rec []string, seen map[string]int) TokenLine {
	if len(rec) < 2 || len(rec) > 4 {
		l.Problem = "needs serial,secret_hex and optionally type and counter"
		return l
	}
	l.Serial = strings.TrimSpace(rec[0])
	if l.Serial == "" || len(l.Serial) > 64 || strings.ContainsAny(l.Serial, "\x00\r\n") {
		l.Problem = "the serial is empty or too long"
		return l
	}
	secretHex := strings.TrimSpace(rec[1])
	sec, err := hex.DecodeString(secretHex)
	if err != nil || len(sec) < 10 || len(sec) > 64 {
		l.Problem = "the secret must be 20 to 128 hexadecimal digits"
		return l
	}
	l.Secret = sec
	typ := ""
	if len(rec) > 2 {
		typ = rec[2]
	}
	var ok bool
	if l.Type, l.Step, ok = parseTokenType(typ); !ok {
		l.Problem = "the type must be hotp-6, hotp-8, totp-6 or totp-8 (with /30 or /60)"
		return l
	}
	if len(rec) > 3 && strings.TrimSpace(rec[3]) != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(rec[3]), 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			l.Problem = "the counter must be a whole number from 0"
			return l
		}
		l.Counter = n
	}
	if first, dup := seen[l.Serial]; dup {
		l.Problem = fmt.Sprintf("serial %s is also on line %d", l.Serial, first)
		return l
	}
	seen[l.Serial] = l.Line
	if _, err := s.store.OATHTokenBySerial(ctx, l.Serial); err == nil {
		l.Problem = "a token with this serial exists already"
	}
	return l
}

// ImportTokens adds the tokens of a checked import, all in one
// transaction with one audit record: ErrTokenImportInvalid, changing
// nothing, when any line has a problem. Secrets are sealed at rest.
func (s *Service) ImportTokens(ctx context.Context, lines []TokenLine, sealer TokenSealer, who audit.Who) (int, error) {
	for _, l := range lines {
		if l.Problem != "" {
			return 0, ErrTokenImportInvalid
		}
	}
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(q store.Queries) error {
		for _, l := range lines {
			if _, err := insertToken(ctx, q, l, sealer, now); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return ErrTokenImportInvalid
				}
				return err
			}
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, actionTokensImported, "hardware_tokens", "",
			map[string]any{"tokens": len(lines)}))
	})
	if err != nil {
		return 0, fmt.Errorf("factors: import tokens: %w", err)
	}
	return len(lines), nil
}

// insertToken stores the token of a checked line, its secret sealed.
func insertToken(ctx context.Context, q store.Queries, l TokenLine, sealer TokenSealer, now time.Time) (store.OATHToken, error) {
	t := store.OATHToken{Key: secret.NewID("DH", 20), Serial: l.Serial, Type: l.Type, Step: l.Step,
		Counter: l.Counter - 1, CreatedAt: now}
	if verify.IsTOTPToken(t.Type) {
		t.Counter = 0
	} else {
		t.Step = 30
	}
	t.Secret = sealer.SealTokenSecret(t.Key, l.Secret)
	err := q.CreateOATHToken(ctx, &t)
	return t, err
}

// NewToken is one hardware token as the Admin API adds it: Duo's type
// (h6, h8, t6, t8), the serial, the secret in hex, the counter of its next
// code (HOTP) and the step in seconds (TOTP: 30 or 60).
type NewToken struct {
	Type, Serial, SecretHex string
	Counter                 int64
	Step                    int
}

// CreateToken adds one token, checked by the import's rules, with its
// audit record: a *TokenProblemError saying what is wrong, changing
// nothing, when it cannot be added (a token with that serial exists
// already, among others).
func (s *Service) CreateToken(ctx context.Context, n NewToken, sealer TokenSealer, who audit.Who) (store.OATHToken, error) {
	label := ""
	switch n.Type {
	case store.TokenHOTP6, store.TokenHOTP8, store.TokenTOTP6, store.TokenTOTP8:
		label = TokenTypeLabel(n.Type, n.Step)
	default:
		return store.OATHToken{}, &TokenProblemError{"type must be h6, h8, t6 or t8"}
	}
	if verify.IsTOTPToken(n.Type) && n.Step != 30 && n.Step != 60 {
		return store.OATHToken{}, &TokenProblemError{"totp_step must be 30 or 60"}
	}
	l := s.checkTokenLine(ctx, TokenLine{Line: 1}, []string{n.Serial, n.SecretHex, label, strconv.FormatInt(n.Counter, 10)}, map[string]int{})
	if l.Problem != "" {
		return store.OATHToken{}, &TokenProblemError{l.Problem}
	}
	now := s.clock.Now()
	var t store.OATHToken
	err := s.store.InTx(ctx, func(q store.Queries) error {
		var err error
		if t, err = insertToken(ctx, q, l, sealer, now); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &TokenProblemError{"a token with this serial exists already"}
			}
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, actionTokenCreated, "hardware_token", t.Serial,
			map[string]any{"token_id": t.Key, "type": t.Type}))
	})
	var pe *TokenProblemError
	if err != nil && !errors.As(err, &pe) {
		return t, fmt.Errorf("factors: create token: %w", err)
	}
	return t, err
}

// TokenPage lists a page of the tokens f selects, with their users.
func (s *Service) TokenPage(ctx context.Context, f store.TokenFilter) ([]store.ListedToken, int, error) {
	list, total, err := s.store.TokenPage(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("factors: tokens: %w", err)
	}
	return list, total, nil
}

// Token returns the token with the public id key; ErrTokenKeyNotFound when
// there is none.
func (s *Service) Token(ctx context.Context, key string) (store.ListedToken, error) {
	l, err := s.store.TokenByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return l, ErrTokenKeyNotFound
	}
	if err != nil {
		return l, fmt.Errorf("factors: token: %w", err)
	}
	return l, nil
}

// DeleteToken removes the token with the public id key, with its audit
// record (on its user, when it had one, since it was their factor):
// ErrTokenKeyNotFound when there is none.
func (s *Service) DeleteToken(ctx context.Context, key string, who audit.Who) error {
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(q store.Queries) error {
		l, err := q.TokenByKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return ErrTokenKeyNotFound
		}
		if err != nil {
			return err
		}
		if err := q.DeleteOATHToken(ctx, l.ID); err != nil {
			return err
		}
		targetType, target := "hardware_token", l.Serial
		if l.User != nil {
			targetType, target = audit.TargetUser, l.User.Username
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, actionTokenDeleted, targetType, target,
			map[string]any{"token_id": l.Key, "serial": l.Serial}))
	})
	if err != nil && !errors.Is(err, ErrTokenKeyNotFound) {
		return fmt.Errorf("factors: delete token: %w", err)
	}
	return err
}

// AssignTokenByKey gives the token with the public id key to u, as
// AssignToken does by serial: ErrTokenKeyNotFound, or ErrTokenAssigned
// when it is another user's. Audited.
func (s *Service) AssignTokenByKey(ctx context.Context, key string, u store.User, who audit.Who) error {
	return s.store.InTx(ctx, func(q store.Queries) error {
		l, err := q.TokenByKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return ErrTokenKeyNotFound
		}
		if err != nil {
			return err
		}
		return s.assignTx(ctx, q, l.OATHToken, u, who)
	})
}

// assignTx gives t to u within a transaction, audited on u.
func (s *Service) assignTx(ctx context.Context, q store.Queries, t store.OATHToken, u store.User, who audit.Who) error {
	if t.UserID != 0 && t.UserID != u.ID {
		return ErrTokenAssigned
	}
	if err := q.AssignHardwareToken(ctx, t.ID, u.ID); err != nil {
		return err
	}
	return q.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, actionTokenAssigned, audit.TargetUser, u.Username,
		map[string]any{"token_id": t.Key, "serial": t.Serial}))
}

// UnassignToken takes the token with the public id key from u, audited;
// the token stays, free to be given to someone else. A token that is not
// u's is left as it is (ErrTokenKeyNotFound when there is none).
func (s *Service) UnassignToken(ctx context.Context, key string, u store.User, who audit.Who) error {
	return s.store.InTx(ctx, func(q store.Queries) error {
		l, err := q.TokenByKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return ErrTokenKeyNotFound
		}
		if err != nil || l.UserID != u.ID {
			return err
		}
		if err := q.UnassignOATHToken(ctx, l.ID); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(s.clock.Now(), who, actionTokenUnassign, audit.TargetUser, u.Username,
			map[string]any{"token_id": l.Key, "serial": l.Serial}))
	})
}

// Tokens lists the hardware tokens (at most limit), by serial.
func (s *Service) Tokens(ctx context.Context, limit int) ([]store.OATHToken, error) {
	return s.store.OATHTokens(ctx, limit)
}

// AssignToken gives the token with serial to username: a token belongs to
// one user at most (ErrTokenAssigned when it is another's). Audited.
func (s *Service) AssignToken(ctx context.Context, serial, username string, who audit.Who) error {
	return s.store.InTx(ctx, func(q store.Queries) error {
		t, err := q.OATHTokenBySerial(ctx, strings.TrimSpace(serial))
		if errors.Is(err, store.ErrNotFound) {
			return ErrTokenNotFound
		}
		if err != nil {
			return err
		}
		u, err := q.UserByUsername(ctx, users.Normalize(username))
		if errors.Is(err, store.ErrNotFound) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		return s.assignTx(ctx, q, t, u, who)
	})
}

// ResyncToken sets a HOTP token's counter from three consecutive codes it
// shows, looked for among the next 1,000 counters past the last used, so
// that a token pressed many times away from a login works again. Audited.
func (s *Service) ResyncToken(ctx context.Context, serial string, codes [3]string, sealer TokenSealer, who audit.Who) error {
	t, err := s.store.OATHTokenBySerial(ctx, strings.TrimSpace(serial))
	if errors.Is(err, store.ErrNotFound) {
		return ErrTokenNotFound
	}
	if err != nil {
		return err
	}
	return s.resync(ctx, t, codes, sealer, who)
}

// ResyncTokenByKey is ResyncToken for the token with the public id key
// (ErrTokenKeyNotFound when there is none).
func (s *Service) ResyncTokenByKey(ctx context.Context, key string, codes [3]string, sealer TokenSealer, who audit.Who) error {
	l, err := s.store.TokenByKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return ErrTokenKeyNotFound
	}
	if err != nil {
		return err
	}
	return s.resync(ctx, l.OATHToken, codes, sealer, who)
}

func (s *Service) resync(ctx context.Context, t store.OATHToken, codes [3]string, sealer TokenSealer, who audit.Who) error {
	if verify.IsTOTPToken(t.Type) {
		return ErrResyncTOTP
	}
	sec, err := sealer.OpenTokenSecret(t)
	if err != nil {
		return fmt.Errorf("factors: resync: %w", err)
	}
	digits := verify.TokenDigits(t.Type)
	for i := range codes {
		codes[i] = verify.NormalizeCode(codes[i])
	}
	for c := t.Counter + 1; c <= t.Counter+1000; c++ {
		if c < 0 {
			continue
		}
		if verify.OATHCode(sec, uint64(c), digits) == codes[0] && verify.OATHCode(sec, uint64(c+1), digits) == codes[1] &&
			verify.OATHCode(sec, uint64(c+2), digits) == codes[2] {
			now := s.clock.Now()
			return s.store.InTx(ctx, func(q store.Queries) error {
				if err := q.SetTokenCounter(ctx, t.ID, c+2); err != nil {
					return err
				}
				return q.InsertAudit(ctx, audit.Entry(now, who, actionTokenResynced, "hardware_token", t.Serial,
					map[string]any{"token_id": t.Key}))
			})
		}
	}
	return ErrResyncFailed
}
