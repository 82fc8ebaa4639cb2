package importer

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/jobs"
	"enrollportal/internal/store"
)

// Mode says what an import does with its rows.
type Mode string

// Modes of an import.
const (
	// ModeUpsert creates the users that do not exist and updates the ones
	// that do (found by username or alias).
	ModeUpsert Mode = "upsert"
	// ModeDelete deletes the listed users.
	ModeDelete Mode = "delete"
)

// ValidMode reports whether m is a mode.
func ValidMode(m Mode) bool { return m == ModeUpsert || m == ModeDelete }

// MaxShownErrors bounds how many line errors a summary lists (all are
// counted).
const MaxShownErrors = 200

// ErrHasErrors means the file has lines with errors, so nothing was applied.
var ErrHasErrors = errors.New("importer: the file has errors; nothing was applied")

// LineError is what is wrong with one line of the file.
type LineError struct {
	Line   int
	Reason string
}

// Summary is what an import would do (Preview) or did (Apply).
type Summary struct {
	Mode       Mode
	Rows       int // data rows read
	Create     int
	Update     int
	Delete     int
	Phones     int      // phone cells on valid rows
	NewPhones  int      // phones created (Apply only)
	NewGroups  []string // groups that the import creates, sorted
	Errors     []LineError
	ErrorCount int
	// Skipped are the lines the database refused when they were applied
	// (Apply only): they changed since the check; the rest was applied.
	Skipped []store.SkippedRow
}

func (s *Summary) addError(line int, reason string) {
	s.ErrorCount++
	if len(s.Errors) < MaxShownErrors {
		s.Errors = append(s.Errors, LineError{Line: line, Reason: reason})
	}
}

// Store is what an import uses of the database outside its job's steps:
// the indexes its check pass reads, the phone region setting, the plans of
// checked files, and the job (created in one transaction with the taking
// of its plan).
type Store interface {
	store.JobQueries
	store.ImportQueries
	store.ImportPlanQueries
	store.GroupQueries
	store.SettingQueries
	store.Transactor
}

// Service runs imports.
type Service struct {
	store Store
	clock clock.Clock
	jobs  *jobs.Runner
}

// New returns a Service that keeps the plans of checked files in st and
// applies imports as jobs of r, with which it registers its kind.
func New(st Store, c clock.Clock, r *jobs.Runner) *Service {
	s := &Service{store: st, clock: c, jobs: r}
	r.Register(JobKind, jobs.Kind{Open: s.openApply, Finished: s.applyFinished, Describe: describe})
	return s
}

// planRow is one checked row, as the first pass writes it for the second.
type planRow struct {
	Line                                       int
	UserID                                     int64 // 0: create
	Delete                                     bool
	Username                                   string
	RealName, Email, Notes, Status             string
	HasRealName, HasEmail, HasNotes, HasStatus bool
	Aliases                                    [store.MaxAliases]string
	HasAlias                                   [store.MaxAliases]bool
	Phones                                     []planPhone
	Groups                                     []string
	Tokens                                     []int64
}

// planPhone is a checked phone. Its fields are flat and exported because
// the plan's chunks are gob-encoded, which skips unexported fields.
type planPhone struct {
	Number, Extension, Type, Platform string
	TypeGiven, PlatformGiven          bool
}

// Preview checks the file and tells what an Apply would do, changing
// nothing.
func (s *Service) Preview(ctx context.Context, src io.Reader, mode Mode) (Summary, error) {
	return s.check(ctx, src, mode, nil)
}

// Apply checks the file and, when no line has an error, applies it (as a
// job, in the caller's goroutine). With errors it returns the summary and
// ErrHasErrors, and nothing changes.
func (s *Service) Apply(ctx context.Context, src io.Reader, mode Mode, who audit.Who) (Summary, error) {
	id, sum, err := s.Check(ctx, src, mode)
	if err != nil || sum.ErrorCount > 0 {
		if err == nil {
			err = ErrHasErrors
		}
		return sum, err
	}
	return s.ApplyPlan(ctx, id, who)
}

// check is the first pass: read every line, check it against the database
// and what earlier lines do, and write the plan of the valid ones to plan
// (when not nil) until a line has an error (then no plan will be kept).
func (s *Service) check(ctx context.Context, src io.Reader, mode Mode, plan *planWriter) (Summary, error) {
	sum := Summary{Mode: mode}
	if !ValidMode(mode) {
		return sum, fmt.Errorf("importer: unknown mode %q", mode)
	}
	r := csv.NewReader(bufio.NewReaderSize(src, 256<<10))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		sum.addError(1, "the file is empty; the first line must name the columns")
		return sum, nil
	}
	if err != nil {
		sum.addError(1, "the first line is not valid CSV (check the quotes)")
		return sum, nil
	}
	l, err := parseHeader(header)
	if err != nil {
		sum.addError(1, err.Error())
		return sum, nil
	}
	c, err := s.newChecker(ctx, mode)
	if err != nil {
		return sum, err
	}
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			sum.Rows++
			sum.addError(pe.StartLine, "the line is not valid CSV (check the quotes)")
			if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
				// An unclosed quote swallows the rest of the file; say so
				// once rather than guess where rows begin.
				if errors.Is(pe.Err, csv.ErrQuote) {
					break
				}
			}
			continue
		}
		if err != nil {
			return sum, fmt.Errorf("importer: read: %w", err)
		}
		line, _ := r.FieldPos(0)
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // a blank line
		}
		sum.Rows++
		if len(fields) > len(l.cols) {
			sum.addError(line, fmt.Sprintf("%d values but the header names %d columns", len(fields), len(l.cols)))
			continue
		}
		row, problems := c.checkRow(ctx, line, l.read(fields))
		if len(problems) > 0 {
			sum.addError(line, strings.Join(problems, "; "))
			continue
		}
		switch {
		case row.Delete:
			sum.Delete++
		case row.UserID == 0:
			sum.Create++
		default:
			sum.Update++
		}
		sum.Phones += len(row.Phones)
		if plan != nil && sum.ErrorCount == 0 {
			if err := plan.add(ctx, &row); err != nil {
				return sum, fmt.Errorf("importer: plan: %w", err)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	for g := range c.newGroups {
		sum.NewGroups = append(sum.NewGroups, g)
	}
	sort.Strings(sum.NewGroups)
	return sum, nil
}
