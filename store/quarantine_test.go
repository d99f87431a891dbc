package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testQuarantines(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: "root-admin", Role: patchgate.RoleAdmin})
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
	quarantine := func(test string) *patchgate.Quarantine {
		return &patchgate.Quarantine{Forge: repo.Forge, Repo: repo.Name, Suite: "unit", Test: test, Owner: "alice", Ticket: "PAY-9",
			Reason: "races the clock", ExpiresAt: clockStart.Add(20 * 24 * time.Hour)}
	}
	// record stores a verification of commit letter whose unit suite has tests.
	record := func(t *testing.T, vs *store.VerificationService, letter string, tests ...patchgate.TestResult) {
		t.Helper()
		v := mustCreate(t, vs, newVerification(0, sha(letter), "d-"+letter))
		unit := *v.Suites[0]
		unit.State, unit.Tests = patchgate.RunFailure, tests
		if err := vs.UpdateSuiteRun(ctx, &unit); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("create, list, delete, audited", func(t *testing.T) {
		db := open(t)
		qs, audit := store.NewQuarantineService(db), store.NewAuditService(db)
		if got, err := qs.FindQuarantines(ctx, repo); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("FindQuarantines with none = %v, %v; want an empty list", got, err)
		}
		q := quarantine("TestLedger")
		if err := qs.CreateQuarantine(ctx, q); err != nil {
			t.Fatal(err)
		}
		if q.ID == 0 || q.CreatedBy != "root-admin" || q.Source != patchgate.QuarantineAPI || q.CreatedAt.IsZero() {
			t.Errorf("got %+v, want id, creator, source and time set", q)
		}
		wantCode(t, qs.CreateQuarantine(ctx, quarantine("TestLedger")), patchgate.ECONFLICT)
		long := quarantine("TestOther")
		long.ExpiresAt = clockStart.Add(45 * 24 * time.Hour)
		err := qs.CreateQuarantine(ctx, long)
		wantCode(t, err, patchgate.EINVALID)
		if !strings.Contains(err.Error(), "at most 30 days") {
			t.Errorf("got %v, want the 30-day limit named", err)
		}
		got, err := qs.FindQuarantines(ctx, repo)
		if err != nil || len(got) != 1 || got[0].ID != q.ID || got[0].Test != "TestLedger" || got[0].Suite != "unit" ||
			got[0].Owner != "alice" || got[0].Ticket != "PAY-9" || got[0].Reason != "races the clock" ||
			!got[0].ExpiresAt.Equal(q.ExpiresAt) || got[0].CreatedBy != "root-admin" {
			t.Fatalf("FindQuarantines = %+v, %v; want the one created", got, err)
		}
		if other, err := qs.FindQuarantines(ctx, patchgate.RepoRef{Forge: patchgate.GitLab, Name: "acme/payments"}); err != nil || len(other) != 0 {
			t.Errorf("another forge's repository: got %+v, %v; want none", other, err)
		}
		wantCode(t, qs.DeleteQuarantine(ctx, patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/other"}, q.ID), patchgate.ENOTFOUND)
		if err := qs.DeleteQuarantine(ctx, repo, q.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, qs.DeleteQuarantine(ctx, repo, q.ID), patchgate.ENOTFOUND)
		for _, action := range []string{patchgate.AuditQuarantineCreated, patchgate.AuditQuarantineRemoved} {
			entries, err := audit.FindAudit(ctx, patchgate.AuditFilter{Action: &action})
			if err != nil || len(entries) != 1 || entries[0].Actor != "root-admin" || entries[0].Detail["test"] != "TestLedger" ||
				entries[0].Detail["ticket"] != "PAY-9" || !strings.HasPrefix(entries[0].Subject, "quarantine:") {
				t.Errorf("%s: got %+v, %v; want one entry by root-admin naming the test", action, entries, err)
			}
		}
		if _, err := audit.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a broken test cannot be quarantined as flaky", func(t *testing.T) {
		db := open(t)
		qs, vs := store.NewQuarantineService(db), store.NewVerificationService(db)
		record(t, vs, "A",
			patchgate.TestResult{Name: "TestBroken", Status: patchgate.TestFailed, Attempt: 1},
			patchgate.TestResult{Name: "TestBroken", Status: patchgate.TestFailed, Attempt: 2},
			patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestFailed, Attempt: 1, Flaky: true},
			patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestPassed, Attempt: 2, Flaky: true})
		record(t, vs, "B",
			patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestFailed, Attempt: 1},
			patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestFailed, Attempt: 2})
		err := qs.CreateQuarantine(ctx, quarantine("TestBroken"))
		wantCode(t, err, patchgate.EUNPROCESSABLE)
		if want := "TestBroken failed every time on " + sha("A")[:7] + " (2 of 2 runs"; !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want the evidence %q", err, want)
		}
		// Failing every time on B does not make a test that passed on a re-run
		// on A broken: it is flaky.
		if err := qs.CreateQuarantine(ctx, quarantine("TestFlaky")); err != nil {
			t.Errorf("quarantine a flaky test: %v", err)
		}
		// A test with no recorded results may be quarantined; it is excused
		// only once it is seen flaky.
		if err := qs.CreateQuarantine(ctx, quarantine("TestNew")); err != nil {
			t.Errorf("quarantine a test without history: %v", err)
		}
	})

	t.Run("flake rates", func(t *testing.T) {
		vs := store.NewVerificationService(open(t))
		record(t, vs, "A",
			patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestFailed, Attempt: 1, Flaky: true},
			patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestPassed, Attempt: 2, Flaky: true},
			patchgate.TestResult{Name: "TestStable", Status: patchgate.TestPassed, Attempt: 2})
		for _, letter := range []string{"B", "C", "D"} {
			record(t, vs, letter,
				patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestPassed, Attempt: 1},
				patchgate.TestResult{Name: "TestStable", Status: patchgate.TestPassed, Attempt: 1})
		}
		rates, err := vs.FindFlakeRates(ctx, 10, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(rates) != 1 || rates[0].Test != "TestFlaky" || rates[0].Repo != repo || rates[0].Flaky != 1 || rates[0].Runs != 4 || rates[0].Rate() != 0.25 {
			t.Fatalf("got %+v, want TestFlaky flaky in 1 of 4 runs", rates)
		}
		// A window that no longer holds the flaky run exports nothing.
		if rates, err := vs.FindFlakeRates(ctx, 3, 100); err != nil || len(rates) != 0 {
			t.Errorf("last 3: got %+v, %v; want none", rates, err)
		}
	})
}
