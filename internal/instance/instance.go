package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

// Timing of the heartbeat.
const (
	// HeartbeatEvery is how often a running process says it is alive, and
	// looks for dead ones.
	HeartbeatEvery = 10 * time.Second
	// StaleAfter is how old the heartbeat of a process on another host may
	// be before its claims are taken back.
	StaleAfter = 60 * time.Second
)

// Store is what an instance uses of the database: its own row, the claims
// it takes back from dead processes, and the leases on scheduled work.
type Store interface {
	store.Transactor
	store.InstanceQueries
	store.LeaseQueries
}

// Instance is this process, registered in the database.
type Instance struct {
	id    string
	host  string
	dir   string
	store Store
	clock clock.Clock
	log   *slog.Logger
	lock  *os.File
}

// Options configure Start.
type Options struct {
	Store Store
	Clock clock.Clock
	Log   *slog.Logger
	// Dir holds the lock files, one per live process; beside the database,
	// so that every process using the database shares it.
	Dir string
}

// Start registers this process under a fresh start id, holding its lock
// file, and takes back at once what dead processes held.
func Start(ctx context.Context, o Options) (*Instance, error) {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	in := &Instance{id: secret.NewID("PS", 20), host: host, dir: o.Dir, store: o.Store, clock: o.Clock, log: o.Log}
	if in.clock == nil {
		in.clock = clock.Real{}
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("instance: lock directory: %w", err)
	}
	in.lock, err = os.OpenFile(in.lockPath(in.id), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("instance: lock file: %w", err)
	}
	if err := syscall.Flock(int(in.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		in.lock.Close()
		return nil, fmt.Errorf("instance: lock %s: %w", in.lock.Name(), err)
	}
	now := in.clock.Now()
	if err := o.Store.RegisterInstance(ctx, store.Instance{ID: in.id, Host: host, PID: os.Getpid(), StartedAt: now, HeartbeatAt: now}); err != nil {
		in.unlock()
		return nil, fmt.Errorf("instance: %w", err)
	}
	if _, err := in.Reap(ctx); err != nil {
		in.log.Error("instance: could not take back the claims of dead processes", "err", err)
	}
	return in, nil
}

// ID is this process's start id, written on every claim it takes.
func (in *Instance) ID() string { return in.id }

func (in *Instance) lockPath(id string) string { return filepath.Join(in.dir, id+".lock") }

// Run keeps the heartbeat and looks for dead processes until ctx ends.
func (in *Instance) Run(ctx context.Context) {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := in.store.Heartbeat(ctx, in.id, in.clock.Now()); err != nil && ctx.Err() == nil {
				in.log.Error("instance: heartbeat", "err", err)
			}
			if _, err := in.Reap(ctx); err != nil && ctx.Err() == nil {
				in.log.Error("instance: could not take back the claims of dead processes", "err", err)
			}
		}
	}
}

// Reap finds the processes that are dead and hands back what they held. It
// returns their start ids.
func (in *Instance) Reap(ctx context.Context) ([]string, error) {
	all, err := in.store.Instances(ctx)
	if err != nil {
		return nil, err
	}
	var dead []string
	var locks []*os.File
	defer func() {
		for _, f := range locks {
			f.Close()
		}
	}()
	now := in.clock.Now()
	for _, other := range all {
		if other.ID == in.id {
			continue
		}
		if other.Host == in.host {
			f, gone, err := in.tryLock(other.ID)
			if err != nil {
				return nil, err
			}
			if f != nil {
				// Held until the claims are handed back, so that the dead
				// process's id is not reaped twice at once.
				locks = append(locks, f)
				dead = append(dead, other.ID)
				continue
			}
			if !gone {
				continue // alive: its lock is held
			}
		}
		if now.Sub(other.HeartbeatAt) > StaleAfter {
			dead = append(dead, other.ID)
		}
	}
	if len(dead) == 0 {
		return nil, nil
	}
	var messages, jobs int
	err = in.store.InTx(ctx, func(q store.Queries) error {
		var err error
		messages, jobs, err = q.ReleaseInstances(ctx, dead, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, id := range dead {
		os.Remove(in.lockPath(id))
	}
	in.log.Info("instance: took back the claims of stopped processes", "instances", strings.Join(dead, ","),
		"messages", messages, "jobs", jobs)
	return dead, nil
}

// tryLock locks the lock file of another process: f is set when it could
// (the process is dead), gone when there is no such file.
func (in *Instance) tryLock(id string) (f *os.File, gone bool, err error) {
	f, err = os.OpenFile(in.lockPath(id), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("instance: open lock of %s: %w", id, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("instance: lock of %s: %w", id, err)
	}
	return f, false, nil
}

// Lead takes or renews the lease name for this process for ttl and reports
// whether this process holds it: scheduled work that must run on one
// instance at a time (the sweeps) runs only where Lead said true. The
// holder renews the lease at every tick well within ttl; when it stops or
// dies its lease is handed back (Stop, Reap), or ends after ttl at the
// latest, and another instance takes the work over.
func (in *Instance) Lead(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	now := in.clock.Now()
	held, err := in.store.TakeLease(ctx, name, in.id, now, now.Add(ttl))
	if err != nil {
		return false, fmt.Errorf("instance: lease %s: %w", name, err)
	}
	return held, nil
}

// Stop hands back whatever this process still holds and forgets it. The
// workers release their own claims when they stop; this is for the rest
// (a worker cut off by the shutdown grace period).
func (in *Instance) Stop(ctx context.Context) error {
	err := in.store.InTx(ctx, func(q store.Queries) error {
		_, _, err := q.ReleaseInstances(ctx, []string{in.id}, in.clock.Now())
		return err
	})
	in.unlock()
	return err
}

func (in *Instance) unlock() {
	os.Remove(in.lock.Name())
	in.lock.Close()
}
