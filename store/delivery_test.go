package store_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func newDelivery(id string, at time.Time) *patchgate.Delivery {
	return &patchgate.Delivery{ID: id, Source: patchgate.SourceGitHub, Event: "pull_request", Action: "opened",
		Repo: "acme/payments", Payload: []byte(`{"action":"opened","n":"` + id + `"}`), ReceivedAt: at}
}

func testDeliveries(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

	t.Run("create and duplicate", func(t *testing.T) {
		s := store.NewDeliveryService(open(t))
		d := newDelivery("d-1", time.Time{})
		created, err := s.CreateDelivery(ctx, d)
		if err != nil || !created {
			t.Fatalf("CreateDelivery = %v, %v; want true, nil", created, err)
		}
		if d.Status != patchgate.DeliveryAccepted || d.Outcome != patchgate.OutcomePending || d.ReceivedAt.IsZero() {
			t.Errorf("defaults: %+v", d)
		}
		dup := newDelivery("d-1", t0)
		dup.Payload = []byte("other")
		created, err = s.CreateDelivery(ctx, dup)
		if err != nil || created {
			t.Fatalf("duplicate CreateDelivery = %v, %v; want false, nil", created, err)
		}
		got, err := s.FindDelivery(ctx, patchgate.SourceGitHub, "d-1")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Payload, d.Payload) || !got.ReceivedAt.Equal(d.ReceivedAt) || got.Event != "pull_request" ||
			got.Action != "opened" || got.Repo != "acme/payments" || got.Attempts != 0 || got.ProcessedAt != nil {
			t.Errorf("stored delivery = %+v, want the first one unchanged", got)
		}
		// The same id from the other forge is another delivery.
		gl := newDelivery("d-1", t0)
		gl.Source = patchgate.SourceGitLab
		if created, err := s.CreateDelivery(ctx, gl); err != nil || !created {
			t.Errorf("same id on GitLab = %v, %v; want created", created, err)
		}
		ignored := newDelivery("d-2", t0)
		ignored.Status = patchgate.DeliveryIgnored
		if _, err := s.CreateDelivery(ctx, ignored); err != nil || ignored.Outcome != patchgate.OutcomeIgnored {
			t.Errorf("ignored delivery outcome = %q, %v; want ignored", ignored.Outcome, err)
		}
		_, err = s.CreateDelivery(ctx, &patchgate.Delivery{Source: patchgate.SourceGitHub})
		wantCode(t, err, patchgate.EINVALID)
		_, err = s.CreateDelivery(ctx, &patchgate.Delivery{Source: "gitea", ID: "x"})
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("backlog", func(t *testing.T) {
		s := store.NewDeliveryService(open(t))
		if n, oldest, err := s.DeliveryBacklog(ctx); err != nil || n != 0 || !oldest.IsZero() {
			t.Fatalf("empty backlog = %d, %v, %v; want 0, zero time, nil", n, oldest, err)
		}
		for i, at := range []time.Time{t0.Add(2 * time.Second), t0, t0.Add(time.Second)} {
			if _, err := s.CreateDelivery(ctx, newDelivery(fmt.Sprintf("b-%d", i), at)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FinishDelivery(ctx, patchgate.SourceGitHub, "b-1", patchgate.OutcomeProcessed, ""); err != nil {
			t.Fatal(err)
		}
		n, oldest, err := s.DeliveryBacklog(ctx)
		if err != nil || n != 2 || !oldest.Equal(t0.Add(time.Second)) {
			t.Errorf("backlog = %d, %v, %v; want 2 pending, the oldest received at %v", n, oldest, err, t0.Add(time.Second))
		}
	})

	t.Run("time precision", func(t *testing.T) {
		s := store.NewDeliveryService(open(t))
		at := time.Date(2026, 4, 1, 14, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
		d := newDelivery("precise", at)
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		want := at.UTC().Truncate(time.Microsecond)
		got, err := s.FindDelivery(ctx, patchgate.SourceGitHub, "precise")
		if err != nil {
			t.Fatal(err)
		}
		if !got.ReceivedAt.Equal(want) || got.ReceivedAt.Location() != time.UTC || !d.ReceivedAt.Equal(want) {
			t.Errorf("ReceivedAt stored %v, returned %v; want %v in UTC", got.ReceivedAt, d.ReceivedAt, want)
		}
	})

	t.Run("concurrent duplicates", func(t *testing.T) {
		db := open(t)
		handles := []*store.DeliveryService{store.NewDeliveryService(db), store.NewDeliveryService(reopen(t, db))}
		for round := range 5 {
			id := fmt.Sprintf("race-%d", round)
			var wg sync.WaitGroup
			created := make([]bool, 8)
			errs := make([]error, 8)
			for i := range created {
				wg.Go(func() {
					created[i], errs[i] = handles[i%2].CreateDelivery(ctx, newDelivery(id, t0))
				})
			}
			wg.Wait()
			n := 0
			for i := range created {
				if errs[i] != nil {
					t.Fatalf("CreateDelivery #%d: %v", i, errs[i])
				}
				if created[i] {
					n++
				}
			}
			if n != 1 {
				t.Errorf("round %d: %d of 8 concurrent CreateDelivery calls created, want exactly 1", round, n)
			}
		}
	})

	t.Run("group commit", func(t *testing.T) {
		// Many concurrent deliveries: every one stored exactly once, none
		// answered before the transaction holding it commits, and those whose
		// commit fails answered with the error and not stored.
		db := open(t)
		s := store.NewDeliveryService(db)
		var (
			mu       sync.Mutex
			batches  [][]string
			release  = make(chan struct{})
			returned atomic.Int32
		)
		db.SetDeliveryCommitHook(func(ids []string) error {
			mu.Lock()
			first := len(batches) == 0
			batches = append(batches, ids)
			mu.Unlock()
			if first {
				<-release // the first commit waits until the test has looked
			}
			for _, id := range ids {
				if strings.HasSuffix(id, "-bad") {
					return fmt.Errorf("injected commit failure (%s)", id)
				}
			}
			return nil
		})
		const n = 120
		ids := make([]string, n)
		for i := range ids {
			switch {
			case i%10 == 3:
				ids[i] = fmt.Sprintf("gc-%d-bad", i)
			case i%10 == 7:
				ids[i] = fmt.Sprintf("gc-%d", i-1) // a concurrent redelivery of i-1
			default:
				ids[i] = fmt.Sprintf("gc-%d", i)
			}
		}
		created := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				created[i], errs[i] = s.CreateDelivery(ctx, newDelivery(ids[i], t0))
				returned.Add(1)
			})
		}
		time.Sleep(300 * time.Millisecond)
		if r := returned.Load(); r != 0 {
			t.Errorf("%d CreateDelivery calls returned while the first commit was held", r)
		}
		close(release)
		wg.Wait()

		byID := map[string]int{}
		for i, id := range ids {
			bad := strings.HasSuffix(id, "-bad")
			if bad != (errs[i] != nil) {
				t.Errorf("CreateDelivery(%s) = %v, %v; want an error exactly for the failed commits", id, created[i], errs[i])
			}
			if created[i] {
				byID[id]++
			}
		}
		for i, id := range ids {
			_, err := s.FindDelivery(ctx, patchgate.SourceGitHub, id)
			switch {
			case strings.HasSuffix(id, "-bad") && patchgate.ErrorCode(err) != patchgate.ENOTFOUND:
				t.Errorf("delivery %s failed to commit but is stored (err %v)", id, err)
			case !strings.HasSuffix(id, "-bad") && err != nil:
				t.Errorf("delivery %s acknowledged but not stored: %v", id, err)
			case !strings.HasSuffix(id, "-bad") && byID[id] != 1:
				t.Errorf("delivery %s reported created %d times, want once (#%d)", id, byID[id], i)
			}
		}
		_, total, err := s.FindDeliveries(ctx, patchgate.DeliveryFilter{})
		if want := len(byID); err != nil || total != want {
			t.Errorf("stored %d deliveries (%v), want %d", total, err, want)
		}
		largest := 0
		for _, b := range batches {
			largest = max(largest, len(b))
		}
		if largest < 2 {
			t.Errorf("the largest batch held %d deliveries: concurrent inserts were not committed together", largest)
		}
	})

	t.Run("find, pending, finish, delete", func(t *testing.T) {
		s := store.NewDeliveryService(open(t))
		for i, id := range []string{"a", "b", "c", "d"} {
			d := newDelivery(id, t0.Add(time.Duration(i)*time.Hour))
			if id == "d" {
				d.Source, d.Repo = patchgate.SourceGitLab, "acme/api"
			}
			if _, err := s.CreateDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FinishDelivery(ctx, patchgate.SourceGitHub, "a", patchgate.OutcomeProcessed, ""); err != nil {
			t.Fatalf("FinishDelivery: %v", err)
		}
		if err := s.FinishDelivery(ctx, patchgate.SourceGitHub, "b", patchgate.OutcomePending, "forge timeout"); err != nil {
			t.Fatalf("FinishDelivery pending: %v", err)
		}
		wantCode(t, s.FinishDelivery(ctx, patchgate.SourceGitHub, "zzz", patchgate.OutcomeFailed, "x"), patchgate.ENOTFOUND)
		wantCode(t, s.FinishDelivery(ctx, patchgate.SourceGitHub, "a", "done", ""), patchgate.EINVALID)
		_, err := s.FindDelivery(ctx, patchgate.SourceGitHub, "zzz")
		wantCode(t, err, patchgate.ENOTFOUND)

		a, err := s.FindDelivery(ctx, patchgate.SourceGitHub, "a")
		if err != nil || a.Outcome != patchgate.OutcomeProcessed || a.Attempts != 1 || a.ProcessedAt == nil {
			t.Errorf("finished delivery = %+v, %v; want processed, 1 attempt, processed time", a, err)
		}
		b, err := s.FindDelivery(ctx, patchgate.SourceGitHub, "b")
		if err != nil || b.Outcome != patchgate.OutcomePending || b.Attempts != 1 || b.ProcessedAt != nil || b.Reason != "forge timeout" {
			t.Errorf("retried delivery = %+v, %v; want pending, 1 attempt, reason", b, err)
		}

		for _, tc := range []struct {
			name  string
			f     patchgate.DeliveryFilter
			want  []string
			total int
		}{
			{name: "newest first", want: []string{"d", "c", "b", "a"}, total: 4},
			{name: "forge", f: patchgate.DeliveryFilter{Source: ptr(patchgate.SourceGitHub)}, want: []string{"c", "b", "a"}, total: 3},
			{name: "repo", f: patchgate.DeliveryFilter{Repo: ptr("acme/api")}, want: []string{"d"}, total: 1},
			{name: "outcome", f: patchgate.DeliveryFilter{Outcome: ptr(patchgate.OutcomeProcessed)}, want: []string{"a"}, total: 1},
			{name: "page", f: patchgate.DeliveryFilter{Offset: 1, Limit: 2}, want: []string{"c", "b"}, total: 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ds, total, err := s.FindDeliveries(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				ids := []string{}
				for _, d := range ds {
					ids = append(ids, d.ID)
					if d.Payload != nil {
						t.Errorf("FindDeliveries returned the payload of %s", d.ID)
					}
				}
				if !slices.Equal(ids, tc.want) || total != tc.total {
					t.Errorf("got %v (total %d), want %v (total %d)", ids, total, tc.want, tc.total)
				}
			})
		}

		pending, err := s.PendingDeliveries(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 2 || pending[0].ID != "b" || pending[1].ID != "c" || pending[0].Payload != nil {
			t.Errorf("PendingDeliveries(2) = %v, want b, c without payloads", pending)
		}

		// Delete everything older than c: a is processed and goes, b is pending and stays.
		n, err := s.DeleteDeliveriesBefore(ctx, t0.Add(2*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("DeleteDeliveriesBefore = %d, %v; want 1", n, err)
		}
		_, err = s.FindDelivery(ctx, patchgate.SourceGitHub, "a")
		wantCode(t, err, patchgate.ENOTFOUND)
		if _, err := s.FindDelivery(ctx, patchgate.SourceGitHub, "b"); err != nil {
			t.Errorf("pending delivery b was deleted: %v", err)
		}
	})
}
