package importer

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"enrollportal/internal/audit"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// PlanTTL is how long a checked file's plan waits for an admin's "apply";
// older plans are removed by the next check.
const PlanTTL = time.Hour

// ErrPlanGone means the plan was already applied, or waited longer than
// PlanTTL.
var ErrPlanGone = errors.New("importer: the checked file's plan is no longer waiting")

// CheckPlan checks the file like Check and, when no line has an error,
// keeps the plan of its changes under a new id for ApplyPlanID (the id is
// empty when there are errors). Plans older than PlanTTL are removed first.
func (s *Service) CheckPlan(ctx context.Context, src io.Reader, mode Mode) (id string, sum Summary, err error) {
	s.sweepPlans()
	id = secret.NewToken()
	path, _ := s.planPath(id)
	if sum, err = s.Check(ctx, src, mode, path); err != nil || sum.ErrorCount > 0 {
		return "", sum, err
	}
	return id, sum, nil
}

// ApplyPlanID applies the plan CheckPlan kept under id, like ApplyPlan.
// ErrPlanGone, changing nothing, when there is no such plan.
func (s *Service) ApplyPlanID(ctx context.Context, id string, who audit.Who) (Summary, error) {
	path, ok := s.planPath(id)
	if _, err := os.Stat(path); !ok || err != nil {
		return Summary{}, ErrPlanGone
	}
	sum, err := s.ApplyPlan(ctx, path, who)
	RemovePlan(path)
	return sum, err
}

// BeginApplyID starts applying the plan CheckPlan kept under id, like
// BeginApply. ErrPlanGone, changing nothing, when there is no such plan.
func (s *Service) BeginApplyID(ctx context.Context, id, fileName string, who audit.Who, wait time.Duration) (store.Job, error) {
	path, ok := s.planPath(id)
	if _, err := os.Stat(path); !ok || err != nil {
		return store.Job{}, ErrPlanGone
	}
	return s.BeginApply(ctx, path, fileName, who, wait)
}

// DropPlan removes the plan kept under id, if there is one (an admin
// checked another file instead).
func (s *Service) DropPlan(id string) {
	if path, ok := s.planPath(id); ok {
		RemovePlan(path)
	}
}

// planPath is where the plan of id is kept. The id is ours (a random
// token), but it comes back from a cookie: take no chances with the path.
func (s *Service) planPath(id string) (string, bool) {
	if len(id) != 43 || strings.ContainsAny(id, "/\\.") {
		return "", false
	}
	return filepath.Join(s.planDir(), "plan-"+id), true
}

func (s *Service) planDir() string {
	if s.tempDir == "" {
		return os.TempDir()
	}
	return s.tempDir
}

// sweepPlans removes plans nobody applied.
func (s *Service) sweepPlans() {
	dir := s.planDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && strings.HasPrefix(e.Name(), "plan-") && time.Since(info.ModTime()) > PlanTTL {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
