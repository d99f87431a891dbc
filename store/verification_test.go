package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// newVerification is a run of acme/payments at head with a required unit suite
// and an optional lint suite.
func newVerification(changeID int64, head, digest string) *patchgate.Verification {
	return &patchgate.Verification{Forge: patchgate.GitHub, Repo: "acme/payments", SHA: head, ChangeID: changeID,
		ConfigRef: head, ConfigDigest: digest, Trigger: "synchronize",
		Suites: []*patchgate.SuiteRun{
			{Name: "unit", Required: true, Image: "golang:1.26"},
			{Name: "lint", Image: "golangci/golangci-lint:v2"},
		}}
}

// mustChange stores pull request number (opened at head A) and returns its id.
func mustChange(t *testing.T, db *store.DB, number int) int64 {
	t.Helper()
	c, _, err := store.NewChangeService(db).ApplyChangeUpdate(context.Background(), prLifecycle(number)[0])
	if err != nil {
		t.Fatalf("ApplyChangeUpdate: %v", err)
	}
	return c.ID
}

// mustCreate stores v and fails unless it was created.
func mustCreate(t *testing.T, s *store.VerificationService, v *patchgate.Verification) *patchgate.Verification {
	t.Helper()
	got, created, err := s.CreateVerification(context.Background(), v)
	if err != nil || !created {
		t.Fatalf("CreateVerification(%s) = created %v, %v; want created", v.SHA, created, err)
	}
	return got
}

// mustFind returns the stored verification id.
func mustFind(t *testing.T, s *store.VerificationService, id int64) *patchgate.Verification {
	t.Helper()
	v, err := s.FindVerificationByID(context.Background(), id)
	if err != nil {
		t.Fatalf("FindVerificationByID(%d): %v", id, err)
	}
	return v
}

// wantConflict fails unless err is ECONFLICT and its message mentions why.
func wantConflict(t *testing.T, err error, why string) {
	t.Helper()
	wantCode(t, err, patchgate.ECONFLICT)
	if !strings.Contains(err.Error(), why) {
		t.Errorf("error %q does not say %q", err, why)
	}
}

func testVerifications(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("create, duplicate and find", func(t *testing.T) {
		db := open(t)
		s := store.NewVerificationService(db)
		change := mustChange(t, db, 1)
		in := newVerification(change, sha("A"), "d1")
		v := mustCreate(t, s, in)
		if v.ID == 0 || v.State != patchgate.RunQueued || v.Attempt != 1 || v.Stale || v.ChangeID != change ||
			v.ConfigRef != sha("A") || v.ConfigDigest != "d1" || v.Trigger != "synchronize" || v.CreatedAt.IsZero() ||
			v.Worker != "" || v.HeartbeatAt != nil || v.StartedAt != nil || v.FinishedAt != nil {
			t.Errorf("created verification = %+v", v)
		}
		if len(v.Suites) != 2 {
			t.Fatalf("created %d suites, want 2", len(v.Suites))
		}
		for i, want := range in.Suites {
			got := v.Suites[i]
			if got.ID == 0 || got.VerificationID != v.ID || got.Name != want.Name || got.Required != want.Required ||
				got.Image != want.Image || got.State != patchgate.RunQueued {
				t.Errorf("suite %d = %+v, want %s queued", i, got, want.Name)
			}
		}
		if in.ID != 0 || in.State != "" {
			t.Errorf("CreateVerification modified its argument: %+v", in)
		}
		if got := mustFind(t, s, v.ID); !reflect.DeepEqual(got, v) {
			t.Errorf("FindVerificationByID:\n got %+v\nwant %+v", got, v)
		}

		dup, created, err := s.CreateVerification(ctx, newVerification(change, sha("A"), "d1"))
		if err != nil || created || dup.ID != v.ID || len(dup.Suites) != 2 {
			t.Errorf("duplicate of a live verification = %+v, created %v, %v; want #%d, not created", dup, created, err, v.ID)
		}
		if err := s.ClaimVerification(ctx, v.ID, 1, "w1"); err != nil {
			t.Fatal(err)
		}
		dup, created, err = s.CreateVerification(ctx, newVerification(change, sha("A"), "d1"))
		if err != nil || created || dup.ID != v.ID || dup.State != patchgate.RunRunning {
			t.Errorf("duplicate of a running verification = #%d %s, created %v, %v; want #%d running", dup.ID, dup.State, created, err, v.ID)
		}
		// A change from a fork reads its configuration at its base: another
		// ref is another configuration.
		atBase := newVerification(change, sha("A"), "d2")
		atBase.ConfigRef = sha("F")
		other := mustCreate(t, s, atBase)
		if other.ID == v.ID {
			t.Errorf("another config ref reused #%d", v.ID)
		}
		if err := s.FinishVerification(ctx, v.ID, patchgate.RunSuccess, ""); err != nil {
			t.Fatal(err)
		}
		again := mustCreate(t, s, newVerification(change, sha("A"), "d1"))
		if again.ID == v.ID || again.Attempt != 1 || again.State != patchgate.RunQueued {
			t.Errorf("after finish = %+v, want a new queued verification", again)
		}
		bare := newVerification(0, sha("A"), "d1")
		bare.Suites = nil
		bare.Repo = "acme/ledger"
		got := mustCreate(t, s, bare)
		if got.ChangeID != 0 || got.Suites != nil {
			t.Errorf("bare commit verification = %+v, want no change, no suites", got)
		}
	})

	t.Run("invalid and not found", func(t *testing.T) {
		s := store.NewVerificationService(open(t))
		for _, tc := range []struct {
			name string
			edit func(v *patchgate.Verification)
			code string
		}{
			{"sha", func(v *patchgate.Verification) { v.SHA = "main" }, patchgate.EINVALID},
			{"forge", func(v *patchgate.Verification) { v.Forge = "gitea" }, patchgate.EINVALID},
			{"suite name", func(v *patchgate.Verification) { v.Suites[1].Name = "" }, patchgate.EINVALID},
			{"suite twice", func(v *patchgate.Verification) { v.Suites[1].Name = "unit" }, patchgate.EINVALID},
			{"unknown change", func(v *patchgate.Verification) { v.ChangeID = 31337 }, patchgate.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v := newVerification(0, sha("A"), "d1")
				tc.edit(v)
				_, _, err := s.CreateVerification(ctx, v)
				wantCode(t, err, tc.code)
			})
		}
		if _, total, err := s.FindVerifications(ctx, patchgate.VerificationFilter{}); err != nil || total != 0 {
			t.Errorf("after invalid creates: %d verifications, %v; want none", total, err)
		}
		_, err := s.FindVerificationByID(ctx, 31337)
		wantCode(t, err, patchgate.ENOTFOUND)
		wantCode(t, s.ClaimVerification(ctx, 31337, 1, "w1"), patchgate.ENOTFOUND)
		wantCode(t, s.Heartbeat(ctx, 31337, "w1"), patchgate.ENOTFOUND)
		wantCode(t, s.FinishVerification(ctx, 31337, patchgate.RunSuccess, ""), patchgate.ENOTFOUND)
		wantCode(t, s.UpdateSuiteRun(ctx, &patchgate.SuiteRun{ID: 31337, State: patchgate.RunRunning}), patchgate.ENOTFOUND)
		wantCode(t, s.AppendLog(ctx, 31337, []byte("x")), patchgate.ENOTFOUND)
		_, _, err = s.ReadLog(ctx, 31337, 0)
		wantCode(t, err, patchgate.ENOTFOUND)
		_, err = s.FindTests(ctx, 31337)
		wantCode(t, err, patchgate.ENOTFOUND)
	})

	t.Run("claim", func(t *testing.T) {
		s := store.NewVerificationService(open(t))
		v := mustCreate(t, s, newVerification(0, sha("A"), "d1"))
		wantConflict(t, s.ClaimVerification(ctx, v.ID, 2, "w1"), "attempt 1, not 2")
		wantCode(t, s.ClaimVerification(ctx, v.ID, 1, ""), patchgate.EINVALID)
		if err := s.ClaimVerification(ctx, v.ID, 1, "w1"); err != nil {
			t.Fatalf("ClaimVerification: %v", err)
		}
		got := mustFind(t, s, v.ID)
		if got.State != patchgate.RunRunning || got.Worker != "w1" || got.Attempt != 1 || got.HeartbeatAt == nil ||
			got.StartedAt == nil || !got.HeartbeatAt.Equal(*got.StartedAt) || got.StartedAt.Before(got.CreatedAt) {
			t.Errorf("claimed verification = %+v, want running on w1 with heartbeat and start", got)
		}
		wantConflict(t, s.ClaimVerification(ctx, v.ID, 1, "w2"), "already running")
		wantConflict(t, s.ClaimVerification(ctx, v.ID, 1, "w1"), "already running")

		done := mustCreate(t, s, newVerification(0, sha("B"), "d1"))
		if err := s.FinishVerification(ctx, done.ID, patchgate.RunCanceled, "by alice"); err != nil {
			t.Fatal(err)
		}
		wantConflict(t, s.ClaimVerification(ctx, done.ID, 1, "w1"), "final")
		if got := mustFind(t, s, done.ID); got.State != patchgate.RunCanceled || got.Worker != "" {
			t.Errorf("cancelled verification after claim = %s on %q, want canceled, unclaimed", got.State, got.Worker)
		}
	})

	t.Run("heartbeat", func(t *testing.T) {
		s := store.NewVerificationService(open(t))
		v := mustCreate(t, s, newVerification(0, sha("A"), "d1"))
		wantConflict(t, s.Heartbeat(ctx, v.ID, "w1"), "not running")
		if err := s.ClaimVerification(ctx, v.ID, 1, "w1"); err != nil {
			t.Fatal(err)
		}
		before := mustFind(t, s, v.ID).HeartbeatAt
		if err := s.Heartbeat(ctx, v.ID, "w1"); err != nil {
			t.Fatalf("Heartbeat: %v", err)
		}
		after := mustFind(t, s, v.ID)
		if !after.HeartbeatAt.After(*before) || !after.StartedAt.Equal(*before) {
			t.Errorf("heartbeat %v → %v (started %v), want it to advance alone", before, after.HeartbeatAt, after.StartedAt)
		}
		wantConflict(t, s.Heartbeat(ctx, v.ID, "w2"), `worker "w1"`)
		if err := s.FinishVerification(ctx, v.ID, patchgate.RunFailure, "unit failed"); err != nil {
			t.Fatal(err)
		}
		wantConflict(t, s.Heartbeat(ctx, v.ID, "w1"), "state failure")
	})

	t.Run("finish", func(t *testing.T) {
		s := store.NewVerificationService(open(t))
		v := mustCreate(t, s, newVerification(0, sha("A"), "d1"))
		if err := s.ClaimVerification(ctx, v.ID, 1, "w1"); err != nil {
			t.Fatal(err)
		}
		for _, state := range []patchgate.RunState{patchgate.RunQueued, patchgate.RunRunning, "done"} {
			wantCode(t, s.FinishVerification(ctx, v.ID, state, ""), patchgate.EINVALID)
		}
		if err := s.FinishVerification(ctx, v.ID, patchgate.RunError, "docker is down"); err != nil {
			t.Fatalf("FinishVerification: %v", err)
		}
		got := mustFind(t, s, v.ID)
		if got.State != patchgate.RunError || got.Reason != "docker is down" || got.FinishedAt == nil ||
			got.FinishedAt.Before(*got.StartedAt) {
			t.Errorf("finished verification = %+v", got)
		}
		for _, su := range got.Suites {
			if su.State != patchgate.RunQueued {
				t.Errorf("suite %s = %s after finish, want untouched (queued)", su.Name, su.State)
			}
		}
		wantConflict(t, s.FinishVerification(ctx, v.ID, patchgate.RunSuccess, ""), "already error")
		if got := mustFind(t, s, v.ID); got.State != patchgate.RunError || got.Reason != "docker is down" {
			t.Errorf("after a late finish: %s %q, want error kept", got.State, got.Reason)
		}
	})

	t.Run("concurrent create", func(t *testing.T) {
		db := open(t)
		handles := []*store.VerificationService{store.NewVerificationService(db), store.NewVerificationService(reopen(t, db))}
		for round := range 3 {
			head := sha(fmt.Sprintf("race-%d", round))
			var wg sync.WaitGroup
			ids := make([]int64, 8)
			created := make([]bool, 8)
			errs := make([]error, 8)
			for i := range ids {
				wg.Go(func() {
					v, c, err := handles[i%2].CreateVerification(ctx, newVerification(0, head, "d1"))
					if err == nil {
						ids[i], created[i] = v.ID, c
					}
					errs[i] = err
				})
			}
			wg.Wait()
			n := 0
			for i := range ids {
				if errs[i] != nil {
					t.Fatalf("CreateVerification #%d: %v", i, errs[i])
				}
				if created[i] {
					n++
				}
				if ids[i] != ids[0] {
					t.Errorf("round %d: call #%d got #%d, call #0 #%d; want the same verification", round, i, ids[i], ids[0])
				}
			}
			if n != 1 {
				t.Errorf("round %d: %d of 8 concurrent CreateVerification calls created, want exactly 1", round, n)
			}
		}
		_, total, err := handles[0].FindVerifications(ctx, patchgate.VerificationFilter{})
		if err != nil || total != 3 {
			t.Errorf("stored %d verifications, %v; want 3", total, err)
		}
	})

	t.Run("planned by a worker", func(t *testing.T) {
		db := open(t)
		s := store.NewVerificationService(db)
		change := mustChange(t, db, 1)
		in := newVerification(change, sha("A"), "")
		in.Suites = nil
		v := mustCreate(t, s, in)
		if v.ConfigDigest != "" || len(v.Suites) != 0 {
			t.Fatalf("unplanned verification = %+v, want no digest and no suites", v)
		}
		// A second delivery of the same head while it is unplanned, or once it
		// is planned, finds it: one verification per commit and config ref.
		if dup, created, err := s.CreateVerification(ctx, in); err != nil || created || dup.ID != v.ID {
			t.Fatalf("duplicate of an unplanned verification = %+v, created %v, %v; want #%d", dup, created, err, v.ID)
		}
		suites := newVerification(change, sha("A"), "d1").Suites
		planned, err := s.PlanVerification(ctx, v.ID, "d1", true, suites)
		if err != nil {
			t.Fatal(err)
		}
		if planned.ConfigDigest != "d1" || len(planned.Suites) != 2 || planned.Suites[0].Name != "unit" ||
			planned.Suites[0].State != patchgate.RunQueued || planned.Suites[0].ID == 0 || !planned.Suites[0].Required {
			t.Fatalf("planned = %+v (suites %+v), want d1 with unit and lint queued", planned, planned.Suites)
		}
		if dup, created, err := s.CreateVerification(ctx, in); err != nil || created || dup.ID != v.ID {
			t.Fatalf("duplicate of a planned verification = #%d, created %v, %v; want #%d", dup.ID, created, err, v.ID)
		}
		again, err := s.PlanVerification(ctx, v.ID, "d1", true, suites)
		if err != nil || len(again.Suites) != 2 || again.Suites[0].ID != planned.Suites[0].ID {
			t.Fatalf("planning again with the same digest = %+v, %v; want the stored plan", again, err)
		}
		_, err = s.PlanVerification(ctx, v.ID, "d2", false, suites)
		wantConflict(t, err, "another")
		if err := s.FinishVerification(ctx, v.ID, patchgate.RunCanceled, "superseded"); err != nil {
			t.Fatal(err)
		}
		fresh := mustCreate(t, s, in)
		if err := s.FinishVerification(ctx, fresh.ID, patchgate.RunCanceled, "superseded"); err != nil {
			t.Fatal(err)
		}
		_, err = s.PlanVerification(ctx, fresh.ID, "d1", false, suites)
		wantConflict(t, err, "final")
	})

	t.Run("supersede", func(t *testing.T) {
		db := open(t)
		s := store.NewVerificationService(db)
		change, elsewhere := mustChange(t, db, 1), mustChange(t, db, 2)
		queuedA := mustCreate(t, s, newVerification(change, sha("A"), "d1"))
		runningB := mustCreate(t, s, newVerification(change, sha("B"), "d1"))
		if err := s.ClaimVerification(ctx, runningB.ID, 1, "w1"); err != nil {
			t.Fatal(err)
		}
		lint := runningB.Suites[1]
		lint.State = patchgate.RunSuccess
		if err := s.UpdateSuiteRun(ctx, lint); err != nil {
			t.Fatal(err)
		}
		earlierB := newVerification(change, sha("B"), "d0")
		earlierB.ConfigRef = sha("E")
		failedB := mustCreate(t, s, earlierB)
		if err := s.FinishVerification(ctx, failedB.ID, patchgate.RunFailure, "unit failed"); err != nil {
			t.Fatal(err)
		}
		head := mustCreate(t, s, newVerification(change, sha("C"), "d1"))
		fromFork := newVerification(elsewhere, sha("A"), "d9") // configured at its base
		fromFork.ConfigRef = sha("G")
		otherChange := mustCreate(t, s, fromFork)

		cancelled, err := s.SupersedeVerifications(ctx, change, sha("C"), "superseded by C")
		if err != nil {
			t.Fatalf("SupersedeVerifications: %v", err)
		}
		if want := []int64{queuedA.ID, runningB.ID}; !slices.Equal(cancelled, want) {
			t.Errorf("cancelled %v, want %v", cancelled, want)
		}
		for _, tc := range []struct {
			name   string
			id     int64
			state  patchgate.RunState
			stale  bool
			reason string
			suites []patchgate.RunState
		}{
			{"queued at A", queuedA.ID, patchgate.RunCanceled, true, "superseded by C", []patchgate.RunState{patchgate.RunCanceled, patchgate.RunCanceled}},
			{"running at B", runningB.ID, patchgate.RunCanceled, true, "superseded by C", []patchgate.RunState{patchgate.RunCanceled, patchgate.RunSuccess}},
			{"failed at B", failedB.ID, patchgate.RunFailure, true, "unit failed", []patchgate.RunState{patchgate.RunQueued, patchgate.RunQueued}},
			{"head", head.ID, patchgate.RunQueued, false, "", []patchgate.RunState{patchgate.RunQueued, patchgate.RunQueued}},
			{"other change", otherChange.ID, patchgate.RunQueued, false, "", []patchgate.RunState{patchgate.RunQueued, patchgate.RunQueued}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := mustFind(t, s, tc.id)
				var suites []patchgate.RunState
				for _, su := range got.Suites {
					suites = append(suites, su.State)
				}
				if got.State != tc.state || got.Stale != tc.stale || got.Reason != tc.reason || !slices.Equal(suites, tc.suites) {
					t.Errorf("got %s stale %v %q suites %v, want %s stale %v %q suites %v",
						got.State, got.Stale, got.Reason, suites, tc.state, tc.stale, tc.reason, tc.suites)
				}
				if got.State.Final() != (got.FinishedAt != nil) {
					t.Errorf("finished at %v in state %s", got.FinishedAt, got.State)
				}
			})
		}
		audit := store.NewAuditService(db)
		verdicts := patchgate.AuditVerdict
		entries, err := audit.FindAudit(ctx, patchgate.AuditFilter{Action: &verdicts})
		if err != nil {
			t.Fatal(err)
		}
		superseded := map[string]string{}
		for _, e := range entries {
			if e.Detail["superseded_by"] == sha("C") {
				superseded[e.Subject] = e.Detail["state"] + "@" + e.SHA
			}
		}
		wantAudit := map[string]string{
			fmt.Sprintf("verification:%d", queuedA.ID):  "canceled@" + sha("A"),
			fmt.Sprintf("verification:%d", runningB.ID): "canceled@" + sha("B"),
		}
		if !reflect.DeepEqual(superseded, wantAudit) {
			t.Errorf("audited cancellations %v, want %v", superseded, wantAudit)
		}
		again, err := s.SupersedeVerifications(ctx, change, sha("C"), "again")
		if err != nil || len(again) != 0 {
			t.Errorf("second supersede = %v, %v; want nothing cancelled", again, err)
		}
		wantConflict(t, s.FinishVerification(ctx, runningB.ID, patchgate.RunSuccess, ""), "already canceled")
		wantConflict(t, s.ClaimVerification(ctx, queuedA.ID, 1, "w2"), "final")
		wantConflict(t, s.Heartbeat(ctx, runningB.ID, "w1"), "not running")
		if got := mustFind(t, s, runningB.ID); got.State != patchgate.RunCanceled || got.Reason != "superseded by C" {
			t.Errorf("after a late finish: %s %q, want the cancellation kept", got.State, got.Reason)
		}
		_, err = s.SupersedeVerifications(ctx, change, "HEAD", "")
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("requeue orphans", func(t *testing.T) {
		db := open(t)
		s := store.NewVerificationService(db)
		orphan := mustCreate(t, s, newVerification(0, sha("A"), "d1"))
		alive := mustCreate(t, s, newVerification(0, sha("B"), "d1"))
		queued := mustCreate(t, s, newVerification(0, sha("C"), "d1"))
		for _, v := range []*patchgate.Verification{orphan, alive} {
			if err := s.ClaimVerification(ctx, v.ID, 1, "w1"); err != nil {
				t.Fatal(err)
			}
		}
		unit := *orphan.Suites[0]
		unit.State, unit.ExitCode, unit.Passed, unit.Description = patchgate.RunRunning, ptr(0), 3, "3 passed"
		unit.StartedAt = ptr(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		unit.ImageDigests = map[string]string{"golang:1.26": "sha256:abc"}
		unit.Tests = []patchgate.TestResult{{Class: "pay", Name: "TestRound", Status: patchgate.TestPassed}}
		if err := s.UpdateSuiteRun(ctx, &unit); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendLog(ctx, unit.ID, []byte("=== RUN TestRound\n")); err != nil {
			t.Fatal(err)
		}
		proof := patchgate.NoProof("")
		proof.VerificationID = orphan.ID
		if err := s.SaveProof(ctx, &proof); err != nil {
			t.Fatal(err)
		}
		if err := s.Heartbeat(ctx, alive.ID, "w1"); err != nil {
			t.Fatal(err)
		}
		staleBefore := *mustFind(t, s, alive.ID).HeartbeatAt

		got, err := s.RequeueOrphans(ctx, staleBefore)
		if err != nil {
			t.Fatalf("RequeueOrphans: %v", err)
		}
		if len(got) != 1 || got[0].ID != orphan.ID {
			t.Fatalf("requeued %d verifications, want only #%d", len(got), orphan.ID)
		}
		r := got[0]
		if r.State != patchgate.RunQueued || r.Attempt != 2 || r.Worker != "" || r.HeartbeatAt != nil || r.StartedAt != nil {
			t.Errorf("requeued verification = %+v, want queued at attempt 2, unclaimed", r)
		}
		if len(r.Suites) != 2 {
			t.Fatalf("requeued with %d suites, want 2", len(r.Suites))
		}
		want := *orphan.Suites[0]
		if !reflect.DeepEqual(r.Suites[0], &want) {
			t.Errorf("reset suite:\n got %+v\nwant %+v", r.Suites[0], &want)
		}
		if !reflect.DeepEqual(r, mustFind(t, s, orphan.ID)) {
			t.Errorf("returned verification differs from the stored one")
		}
		if data, final, err := s.ReadLog(ctx, unit.ID, 0); err != nil || len(data) != 0 || final {
			t.Errorf("log after requeue = %q, final %v, %v; want empty, not final", data, final, err)
		}
		if tests, err := s.FindTests(ctx, unit.ID); err != nil || len(tests) != 0 {
			t.Errorf("tests after requeue = %v, %v; want none", tests, err)
		}
		if _, err := s.FindProof(ctx, orphan.ID); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
			t.Errorf("proof after requeue: got %v, want none (it was the old attempt's)", err)
		}
		for id, want := range map[int64]patchgate.RunState{alive.ID: patchgate.RunRunning, queued.ID: patchgate.RunQueued} {
			if got := mustFind(t, s, id); got.State != want || got.Attempt != 1 {
				t.Errorf("#%d = %s at attempt %d, want %s at attempt 1", id, got.State, got.Attempt, want)
			}
		}
		// The job of the first attempt must not start; the re-enqueued one may.
		wantConflict(t, s.ClaimVerification(ctx, orphan.ID, 1, "w1"), "attempt 2, not 1")
		if err := s.ClaimVerification(ctx, orphan.ID, 2, "w2"); err != nil {
			t.Fatalf("claim attempt 2: %v", err)
		}
		if again, err := s.RequeueOrphans(ctx, staleBefore); err != nil || len(again) != 0 {
			t.Errorf("second RequeueOrphans = %d verifications, %v; want none", len(again), err)
		}
		requeued := patchgate.AuditVerificationRequeued
		entries, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{Action: &requeued})
		if err != nil || len(entries) != 1 || entries[0].Subject != fmt.Sprintf("verification:%d", orphan.ID) || entries[0].Detail["attempt"] != "2" {
			t.Errorf("audited requeues = %+v, %v; want one for #%d at attempt 2", entries, err, orphan.ID)
		}
	})

	t.Run("logs", func(t *testing.T) {
		s := store.NewVerificationService(open(t))
		v := mustCreate(t, s, newVerification(0, sha("A"), "d1"))
		unit, lint := v.Suites[0], v.Suites[1]
		for _, chunk := range []string{"hello ", "", "brave new ", "world\n"} {
			if err := s.AppendLog(ctx, unit.ID, []byte(chunk)); err != nil {
				t.Fatalf("AppendLog(%q): %v", chunk, err)
			}
		}
		if err := s.AppendLog(ctx, lint.ID, []byte("lint says hi\n")); err != nil {
			t.Fatal(err)
		}
		const all = "hello brave new world\n"
		for _, tc := range []struct {
			name   string
			offset int64
			want   string
		}{
			{"start", 0, all},
			{"inside first chunk", 2, all[2:]},
			{"chunk boundary", 6, all[6:]},
			{"middle of second chunk", 9, all[9:]},
			{"last byte", int64(len(all) - 1), "\n"},
			{"end", int64(len(all)), ""},
			{"beyond", 1000, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				data, final, err := s.ReadLog(ctx, unit.ID, tc.offset)
				if err != nil || string(data) != tc.want || final {
					t.Errorf("ReadLog(%d) = %q, final %v, %v; want %q, not final", tc.offset, data, final, err, tc.want)
				}
			})
		}
		_, _, err := s.ReadLog(ctx, unit.ID, -1)
		wantCode(t, err, patchgate.EINVALID)
		unit.State = patchgate.RunFailure
		if err := s.UpdateSuiteRun(ctx, unit); err != nil {
			t.Fatal(err)
		}
		if data, final, err := s.ReadLog(ctx, unit.ID, 6); err != nil || string(data) != all[6:] || !final {
			t.Errorf("ReadLog of a failed suite = %q, final %v, %v; want %q, final", data, final, err, all[6:])
		}
		if data, final, err := s.ReadLog(ctx, unit.ID, int64(len(all))); err != nil || len(data) != 0 || !final {
			t.Errorf("ReadLog at the end of a failed suite = %q, final %v, %v; want empty, final", data, final, err)
		}
		if data, final, err := s.ReadLog(ctx, lint.ID, 0); err != nil || string(data) != "lint says hi\n" || final {
			t.Errorf("ReadLog of lint = %q, final %v, %v; want its own log, not final", data, final, err)
		}
	})

	t.Run("flaky tests of the last verifications", func(t *testing.T) {
		s := store.NewVerificationService(open(t))
		repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
		if got, err := s.FindFlakyTests(ctx, repo, 10); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("FindFlakyTests with no verifications = %v, %v; want an empty list", got, err)
		}
		var ids []int64
		for i, letter := range []string{"A", "B", "C"} {
			v := mustCreate(t, s, newVerification(0, sha(letter), "d1"))
			ids = append(ids, v.ID)
			unit := *v.Suites[0]
			unit.State = patchgate.RunSuccess
			unit.Tests = []patchgate.TestResult{
				{Class: "acme/payments", Name: "TestStable", Status: patchgate.TestPassed, Attempt: 2},
				{Class: "acme/payments", Name: "TestBroken", Status: patchgate.TestFailed, Attempt: 2},
			}
			if i != 1 { // B had no flaky test
				unit.Tests = append(unit.Tests,
					patchgate.TestResult{Class: "acme/payments", Name: "TestFlaky" + letter, Status: patchgate.TestFailed, Attempt: 1, Flaky: true},
					patchgate.TestResult{Class: "acme/payments", Name: "TestFlaky" + letter, Status: patchgate.TestPassed, Attempt: 2, Flaky: true})
			}
			if err := s.UpdateSuiteRun(ctx, &unit); err != nil {
				t.Fatal(err)
			}
		}
		other := newVerification(0, sha("D"), "d1")
		other.Repo = "acme/other"
		ov := mustCreate(t, s, other)
		unit := *ov.Suites[0]
		unit.Tests = []patchgate.TestResult{{Name: "TestElsewhere", Status: patchgate.TestPassed, Attempt: 2, Flaky: true}}
		if err := s.UpdateSuiteRun(ctx, &unit); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			last int
			want []string
		}{
			{"all", 10, []string{fmt.Sprintf("%d unit TestFlakyC 2", ids[2]), fmt.Sprintf("%d unit TestFlakyA 2", ids[0])}},
			{"window", 2, []string{fmt.Sprintf("%d unit TestFlakyC 2", ids[2])}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.FindFlakyTests(ctx, repo, tt.last)
				if err != nil {
					t.Fatal(err)
				}
				var lines []string
				for _, f := range got {
					lines = append(lines, fmt.Sprintf("%d %s %s %d", f.VerificationID, f.Suite, f.Name, f.Attempt))
				}
				if strings.Join(lines, "; ") != strings.Join(tt.want, "; ") {
					t.Errorf("got %q, want %q", lines, tt.want)
				}
			})
		}
	})

	t.Run("suite results and tests", func(t *testing.T) {
		s := store.NewVerificationService(open(t))
		v := mustCreate(t, s, newVerification(0, sha("A"), "d1"))
		cest := time.FixedZone("CEST", 2*3600)
		unit := *v.Suites[0]
		unit.State, unit.ExitCode, unit.OOMKilled, unit.TimedOut = patchgate.RunFailure, ptr(137), true, true
		unit.Description, unit.Passed, unit.Failed, unit.Skipped = "41 passed, 1 failed", 41, 1, 2
		unit.ImageDigests = map[string]string{"golang:1.26": "sha256:aaa", "postgres:17": "sha256:bbb"}
		unit.Timings = patchgate.EnvironmentTimings{Provision: 1500 * time.Millisecond, Run: 2 * time.Minute,
			Collect: 3 * time.Nanosecond, Teardown: time.Second}
		unit.StartedAt = ptr(time.Date(2026, 3, 1, 12, 0, 0, 123456789, cest))
		unit.FinishedAt = ptr(time.Date(2026, 3, 1, 12, 2, 0, 0, cest))
		unit.Image = "ignored:latest"
		tests := []patchgate.TestResult{
			{Class: "acme/payments", Name: "TestRound", Status: patchgate.TestPassed, Duration: 12 * time.Millisecond, Attempt: 2},
			{Class: "acme/payments", Name: "TestRefund", Status: patchgate.TestFailed, Duration: time.Second, Message: "got 1, want 2", Attempt: 2},
			{Class: "acme/payments", Name: "TestSlow", Status: patchgate.TestSkipped, Attempt: 2},
			// Failed, then passed on the re-run: both outcomes kept, both flaky.
			{Class: "acme/payments", Name: "TestFlaky", Status: patchgate.TestFailed, Message: "timing", Attempt: 1, Flaky: true},
			{Class: "acme/payments", Name: "TestFlaky", Status: patchgate.TestPassed, Attempt: 2, Flaky: true},
		}
		unit.Tests = tests
		if err := s.UpdateSuiteRun(ctx, &unit); err != nil {
			t.Fatalf("UpdateSuiteRun: %v", err)
		}
		want := unit
		want.Image, want.Tests = v.Suites[0].Image, nil
		want.StartedAt = ptr(unit.StartedAt.UTC().Truncate(time.Microsecond))
		want.FinishedAt = ptr(unit.FinishedAt.UTC())
		got := mustFind(t, s, v.ID)
		if !reflect.DeepEqual(got.Suites[0], &want) {
			t.Errorf("stored suite run:\n got %+v\nwant %+v", got.Suites[0], &want)
		}
		if !reflect.DeepEqual(got.Suites[1], v.Suites[1]) {
			t.Errorf("other suite run changed: %+v", got.Suites[1])
		}
		if gotTests, err := s.FindTests(ctx, unit.ID); err != nil || !reflect.DeepEqual(gotTests, tests) {
			t.Errorf("FindTests = %+v, %v; want %+v", gotTests, err, tests)
		}

		unit.Tests = nil // results only: the tests stay
		unit.State = patchgate.RunSuccess
		if err := s.UpdateSuiteRun(ctx, &unit); err != nil {
			t.Fatal(err)
		}
		if gotTests, err := s.FindTests(ctx, unit.ID); err != nil || len(gotTests) != 5 {
			t.Errorf("after an update without tests: %d tests, %v; want 5 kept", len(gotTests), err)
		}
		many := make([]patchgate.TestResult, 450)
		for i := range many {
			many[i] = patchgate.TestResult{Class: "big", Name: fmt.Sprintf("Test%03d", i), Status: patchgate.TestPassed,
				Duration: time.Duration(i) * time.Microsecond, Attempt: 1}
		}
		unit.Tests = many
		if err := s.UpdateSuiteRun(ctx, &unit); err != nil {
			t.Fatalf("UpdateSuiteRun with %d tests: %v", len(many), err)
		}
		if gotTests, err := s.FindTests(ctx, unit.ID); err != nil || !reflect.DeepEqual(gotTests, many) {
			t.Errorf("FindTests = %d tests, %v; want the %d in report order", len(gotTests), err, len(many))
		}
		unit.Tests = []patchgate.TestResult{}
		if err := s.UpdateSuiteRun(ctx, &unit); err != nil {
			t.Fatal(err)
		}
		if gotTests, err := s.FindTests(ctx, unit.ID); err != nil || gotTests == nil || len(gotTests) != 0 {
			t.Errorf("after replacing with no tests: %v, %v; want an empty list", gotTests, err)
		}
		unit.State = "done"
		wantCode(t, s.UpdateSuiteRun(ctx, &unit), patchgate.EINVALID)
	})

	t.Run("find with filters", func(t *testing.T) {
		db := open(t)
		s := store.NewVerificationService(db)
		change := mustChange(t, db, 1)
		a := mustCreate(t, s, newVerification(change, sha("A"), "d1"))
		b := mustCreate(t, s, newVerification(change, sha("B"), "d1"))
		gl := newVerification(0, sha("A"), "d1")
		gl.Forge, gl.Repo = patchgate.GitLab, "acme/platform/api"
		c := mustCreate(t, s, gl)
		if err := s.FinishVerification(ctx, a.ID, patchgate.RunSuccess, ""); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			f     patchgate.VerificationFilter
			want  []int64
			total int
		}{
			{name: "all, newest first", want: []int64{c.ID, b.ID, a.ID}, total: 3},
			{name: "forge", f: patchgate.VerificationFilter{Forge: ptr(patchgate.GitHub)}, want: []int64{b.ID, a.ID}, total: 2},
			{name: "repo", f: patchgate.VerificationFilter{Repo: ptr("acme/platform/api")}, want: []int64{c.ID}, total: 1},
			{name: "sha", f: patchgate.VerificationFilter{SHA: ptr(sha("A"))}, want: []int64{c.ID, a.ID}, total: 2},
			{name: "change", f: patchgate.VerificationFilter{ChangeID: ptr(change)}, want: []int64{b.ID, a.ID}, total: 2},
			{name: "bare commits", f: patchgate.VerificationFilter{ChangeID: ptr(int64(0))}, want: []int64{c.ID}, total: 1},
			{name: "state", f: patchgate.VerificationFilter{State: ptr(patchgate.RunSuccess)}, want: []int64{a.ID}, total: 1},
			{name: "combined", f: patchgate.VerificationFilter{SHA: ptr(sha("A")), State: ptr(patchgate.RunQueued)}, want: []int64{c.ID}, total: 1},
			{name: "limit", f: patchgate.VerificationFilter{Limit: 2}, want: []int64{c.ID, b.ID}, total: 3},
			{name: "offset", f: patchgate.VerificationFilter{Limit: 2, Offset: 2}, want: []int64{a.ID}, total: 3},
			{name: "limit over max", f: patchgate.VerificationFilter{Limit: 100000}, want: []int64{c.ID, b.ID, a.ID}, total: 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.FindVerifications(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				ids := []int64{}
				for _, v := range got {
					ids = append(ids, v.ID)
					if len(v.Suites) != 2 || v.Suites[0].Name != "unit" || v.Suites[1].Name != "lint" {
						t.Errorf("#%d suites = %v, want unit, lint", v.ID, v.Suites)
					}
				}
				if !slices.Equal(ids, tc.want) || total != tc.total {
					t.Errorf("got %v (total %d), want %v (total %d)", ids, total, tc.want, tc.total)
				}
			})
		}
	})
}
