package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// testRedeliveries: of processes claiming the same failed attempt at once,
// one gets it; another attempt of the same delivery (a redelivery that failed
// in turn) is claimed anew; a released claim is claimable again, another
// holder's release leaves it; a claim older than its ttl (the forge lost the
// redelivery) is taken over; old claims are forgotten.
func testRedeliveries(t *testing.T, migrated func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := migrated(t)
	s := store.NewDeliveryService(db)
	d := patchgate.HookDelivery{HookID: 4, ID: 1001, GUID: "guid-1"}

	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ok, err := s.ClaimRedelivery(ctx, patchgate.SourceGitHub, d, fmt.Sprintf("proc-%d", i), time.Hour)
			if err != nil {
				t.Errorf("claim %d: %v", i, err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("8 processes claiming one attempt: %d got it, want 1", won.Load())
	}
	var holder string
	if err := db.SQL().QueryRowContext(ctx, `SELECT holder FROM redelivery_requests WHERE attempt_id = 1001`).Scan(&holder); err != nil {
		t.Fatal(err)
	}

	claim := func(d patchgate.HookDelivery, source patchgate.DeliverySource, holder string) bool {
		t.Helper()
		ok, err := s.ClaimRedelivery(ctx, source, d, holder, time.Hour)
		if err != nil {
			t.Fatalf("claim %+v: %v", d, err)
		}
		return ok
	}
	if !claim(patchgate.HookDelivery{HookID: 4, ID: 1002, GUID: "guid-1"}, patchgate.SourceGitHub, "proc-0") {
		t.Error("a new attempt of the same delivery: not claimed, want claimed")
	}
	if !claim(d, patchgate.SourceGitLab, "proc-0") {
		t.Error("the same ids on another forge: not claimed, want claimed")
	}
	if err := s.ReleaseRedelivery(ctx, patchgate.SourceGitHub, d, "someone-else"); err != nil {
		t.Fatal(err)
	}
	if claim(d, patchgate.SourceGitHub, "proc-x") {
		t.Error("after another holder's release: claimed, want still held")
	}
	if err := s.ReleaseRedelivery(ctx, patchgate.SourceGitHub, d, holder); err != nil {
		t.Fatal(err)
	}
	if !claim(d, patchgate.SourceGitHub, "proc-x") {
		t.Error("after its holder's release: not claimed, want claimable again")
	}
	if _, err := s.ClaimRedelivery(ctx, patchgate.SourceGitHub, d, "", time.Hour); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Errorf("claim without holder: got %v, want EINVALID", err)
	}
	// The test clock moves a second a reading: a claim a few readings old
	// is taken over once the ttl is shorter than its age.
	if ok, err := s.ClaimRedelivery(ctx, patchgate.SourceGitLab, d, "proc-y", time.Second); err != nil || !ok {
		t.Fatalf("claim older than its ttl: got %v, %v; want taken over", ok, err)
	}
	n, err := s.ForgetRedeliveriesBefore(ctx, clockStart.Add(time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("forget: got %d, %v; want the 3 claims", n, err)
	}
	if !claim(patchgate.HookDelivery{HookID: 4, ID: 1002, GUID: "guid-1"}, patchgate.SourceGitHub, "proc-0") {
		t.Error("after forgetting: not claimed, want claimable")
	}
}
