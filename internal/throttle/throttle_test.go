package throttle

import (
	"testing"
	"time"

	"enrollportal/internal/clock"
)

func TestLimiterAllowsBurstThenRefillsWithTheClock(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := New(c, 3, time.Minute)
	for i := 0; i < 3; i++ {
		if !l.Allow("10.0.0.1") {
			t.Fatalf("try %d refused within the burst", i+1)
		}
	}
	if l.Allow("10.0.0.1") {
		t.Fatal("fourth try allowed beyond the burst")
	}
	if !l.Allow("10.0.0.2") {
		t.Fatal("another key was refused: keys must not share a bucket")
	}
	c.Advance(time.Minute)
	if !l.Allow("10.0.0.1") {
		t.Fatal("no try after one refill period")
	}
	if l.Allow("10.0.0.1") {
		t.Fatal("two tries after one refill period")
	}
}
