package sqlstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"enrollportal/internal/store"
)

// A checked import's plan waits under its token's hash until one job takes
// it; its chunks read back exactly; the sweep removes the plans nobody
// applied and those of ended jobs, never one a running job reads, and the
// chunks go with their plan.
func TestImportPlansAreTakenOnceAndSweptWithTheirChunks(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	newPlan := func(hash string, at time.Time, chunks ...string) store.ImportPlan {
		t.Helper()
		p := store.ImportPlan{Summary: []byte(`{}`), CreatedAt: at}
		if err := db.CreateImportPlan(ctx, &p); err != nil {
			t.Fatal(err)
		}
		for i, c := range chunks {
			if err := db.AddImportPlanChunk(ctx, p.ID, i, []byte(c)); err != nil {
				t.Fatal(err)
			}
		}
		// Not waiting under its hash until it is complete.
		if _, err := db.TakeImportPlan(ctx, []byte(hash), 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an incomplete plan was taken: %v", err)
		}
		if err := db.CompleteImportPlan(ctx, p.ID, []byte(hash), []byte(`{"Mode":"upsert"}`)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	chunkGone := func(planID int64, seq int) bool {
		t.Helper()
		_, err := db.ImportPlanChunk(ctx, planID, seq)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return errors.Is(err, store.ErrNotFound)
	}
	newJob := func() store.Job {
		t.Helper()
		j := store.Job{Kind: "import_apply", Title: "Import", Payload: []byte(`{}`), CreatedBy: "owner", CreatedAt: t0}
		if err := db.CreateJob(ctx, &j); err != nil {
			t.Fatal(err)
		}
		return j
	}

	applied := newPlan("applied", t0, "first\x00chunk", "second")
	newPlan("waiting", t0)
	fresh := newPlan("fresh", t0.Add(50*time.Minute), "x")
	dropped := newPlan("dropped", t0, "y")

	running := newJob()
	p, err := db.TakeImportPlan(ctx, []byte("applied"), running.ID)
	if err != nil || p.ID != applied.ID || p.JobID != running.ID || string(p.Summary) != `{"Mode":"upsert"}` || !p.CreatedAt.Equal(t0) {
		t.Fatalf("take: %+v %v", p, err)
	}
	if _, err := db.TakeImportPlan(ctx, []byte("applied"), newJob().ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a plan taken twice: %v", err)
	}
	for seq, want := range []string{"first\x00chunk", "second"} {
		if got, err := db.ImportPlanChunk(ctx, applied.ID, seq); err != nil || !bytes.Equal(got, []byte(want)) {
			t.Fatalf("chunk %d: %q %v", seq, got, err)
		}
	}
	if !chunkGone(applied.ID, 2) {
		t.Fatal("a chunk past the last")
	}

	if err := db.DeleteWaitingImportPlan(ctx, []byte("dropped")); err != nil || !chunkGone(dropped.ID, 0) {
		t.Fatalf("dropped plan kept its chunk: %v", err)
	}
	if err := db.DeleteWaitingImportPlan(ctx, []byte("applied")); err != nil || chunkGone(applied.ID, 0) {
		t.Fatalf("dropping by hash removed a plan a job took: %v", err)
	}

	n, err := db.DeleteStaleImportPlans(ctx, t0.Add(30*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("sweep removed %d plans (%v), want only the waiting one", n, err)
	}
	if _, err := db.TakeImportPlan(ctx, []byte("waiting"), running.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired plan was taken: %v", err)
	}
	if chunkGone(applied.ID, 1) || chunkGone(fresh.ID, 0) {
		t.Fatal("the sweep removed the plan of a running job or a plan within its hour")
	}

	// Once the job ended (here without removing its plan), the plan goes.
	j, err := db.ClaimJob(ctx, running.ID, "A", t0, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(time.Minute)
	j.Status, j.FinishedAt, j.LeaseUntil = store.JobDone, &end, nil
	if held, err := db.SaveJob(ctx, j); err != nil || !held {
		t.Fatalf("end job: %v %v", held, err)
	}
	if n, err := db.DeleteStaleImportPlans(ctx, t0.Add(30*time.Minute)); err != nil || n != 1 || !chunkGone(applied.ID, 0) {
		t.Fatalf("sweep after the job ended: %d %v", n, err)
	}
	if err := db.DeleteImportPlan(ctx, fresh.ID); err != nil || !chunkGone(fresh.ID, 0) {
		t.Fatalf("delete plan: %v", err)
	}
}
