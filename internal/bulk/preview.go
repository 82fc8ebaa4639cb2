package bulk

import (
	"context"
	"errors"
	"fmt"

	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// Outcome is what a send will do with one valid row.
type Outcome string

// Outcomes of a row.
const (
	// OutcomeCreate: no such user; the send creates it and sends a link.
	OutcomeCreate Outcome = "create"
	// OutcomeRelink: the user exists but is not enrolled (policy.Factors); the send
	// gives them a fresh link (any older pending link stops working).
	OutcomeRelink Outcome = "relink"
	// OutcomeSkip: the user is already enrolled; the send leaves them alone.
	OutcomeSkip Outcome = "skip"
)

// PreviewRow is a valid row and what the send would do with it.
type PreviewRow struct {
	Row
	Outcome Outcome
	// OldEmail is the address on file of an existing user when the paste
	// gives another one (the send replaces it); empty otherwise.
	OldEmail string
}

// Preview is what a send would do, by line.
type Preview struct {
	Create   []PreviewRow
	Relink   []PreviewRow
	Skip     []PreviewRow
	Problems []Problem
	TooMany  bool
}

// Sendable reports whether the send would do anything.
func (p Preview) Sendable() bool { return len(p.Create)+len(p.Relink) > 0 }

// Rows returns the rows the send acts on (create and relink), in line order.
func (p Preview) Rows() []Row {
	out := make([]Row, 0, len(p.Create)+len(p.Relink))
	i, j := 0, 0
	for i < len(p.Create) || j < len(p.Relink) {
		if j >= len(p.Relink) || (i < len(p.Create) && p.Create[i].Line < p.Relink[j].Line) {
			out = append(out, p.Create[i].Row)
			i++
		} else {
			out = append(out, p.Relink[j].Row)
			j++
		}
	}
	return out
}

// outcomeOf decides what happens to row, reading through q: a user enrolled
// under methods (the organisation's) is skipped.
func outcomeOf(ctx context.Context, q rowReader, methods []string, row Row) (PreviewRow, *store.User, error) {
	pr := PreviewRow{Row: row}
	u, err := q.UserByUsername(ctx, row.Username)
	if errors.Is(err, store.ErrNotFound) {
		pr.Outcome = OutcomeCreate
		return pr, nil, nil
	}
	if err != nil {
		return pr, nil, err
	}
	enrolled, _, err := policy.EnrolledUnder(ctx, q, u.ID, methods)
	if err != nil {
		return pr, nil, err
	}
	if enrolled {
		pr.Outcome = OutcomeSkip
		return pr, &u, nil
	}
	pr.Outcome = OutcomeRelink
	if u.Email != "" && u.Email != row.Email {
		pr.OldEmail = u.Email
	}
	return pr, &u, nil
}

// Preview tells, without changing anything, what sending parsed would do.
func (s *Service) Preview(ctx context.Context, parsed Parsed) (Preview, error) {
	p := Preview{Problems: parsed.Problems, TooMany: parsed.TooMany}
	methods, err := policy.OrganisationMethods(ctx, s.store)
	if err != nil {
		return Preview{}, fmt.Errorf("bulk: preview: %w", err)
	}
	for _, row := range parsed.Rows {
		pr, _, err := outcomeOf(ctx, s.store, methods, row)
		if err != nil {
			return Preview{}, fmt.Errorf("bulk: preview: %w", err)
		}
		switch pr.Outcome {
		case OutcomeCreate:
			p.Create = append(p.Create, pr)
		case OutcomeRelink:
			p.Relink = append(p.Relink, pr)
		default:
			p.Skip = append(p.Skip, pr)
		}
	}
	return p, nil
}
