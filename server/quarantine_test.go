package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/store"
)

// quarantineServer is a test server that verifies acme/payments, with an
// admin token besides the viewer's.
func quarantineServer(t *testing.T) (*testServer, string) {
	t.Helper()
	ts := newTestServer(t, &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments", TicketKeys: []string{"PAY"}})
	ts.srv.Quarantines = store.NewQuarantineService(ts.db)
	ts.srv.Verifications = store.NewVerificationService(ts.db)
	secret, hash, err := patchgate.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.NewTokenService(ts.db).CreateToken(context.Background(), &patchgate.Token{Name: "admin", Role: patchgate.RoleAdmin, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return ts, secret
}

// call sends method path with body as token and decodes the answer into out.
func call(t *testing.T, ts *testServer, token, method, path string, body any, wantStatus int, out any) string {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.http.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, data, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return string(data)
}

func TestQuarantineAPI(t *testing.T) {
	ts, admin := quarantineServer(t)
	const base = "/api/v1/repos/github/acme/payments/quarantine"
	until := time.Now().UTC().Add(10 * 24 * time.Hour).Format(time.DateOnly)
	body := map[string]string{"test": "TestLedger", "suite": "unit", "owner": "alice", "ticket": "PAY-9", "reason": "races the clock", "expires_at": until}

	call(t, ts, ts.token, http.MethodPost, base, body, http.StatusForbidden, nil)
	var created patchgate.Quarantine
	call(t, ts, admin, http.MethodPost, base, body, http.StatusCreated, &created)
	if created.ID == 0 || created.CreatedBy != "admin" || created.Source != patchgate.QuarantineAPI || created.ExpiresAt.Format(time.DateOnly) != until {
		t.Errorf("got %+v, want it created by admin until %s", created, until)
	}
	var list struct {
		Quarantines []struct {
			patchgate.Quarantine
			Expired bool `json:"expired"`
		}
	}
	call(t, ts, ts.token, http.MethodGet, base, nil, http.StatusOK, &list)
	if len(list.Quarantines) != 1 || list.Quarantines[0].Test != "TestLedger" || list.Quarantines[0].Expired {
		t.Fatalf("GET: got %+v, want TestLedger in force", list.Quarantines)
	}

	bad := []struct {
		name   string
		path   string
		edit   func(map[string]string)
		status int
		want   string
	}{
		{"again", base, func(map[string]string) {}, http.StatusConflict, "already quarantined"},
		{"too long", base, func(b map[string]string) {
			b["test"], b["expires_at"] = "TestOther", time.Now().UTC().Add(40*24*time.Hour).Format(time.DateOnly)
		}, http.StatusBadRequest, "a quarantine lasts at most 30 days"},
		{"no owner", base, func(b map[string]string) { b["test"], b["owner"] = "TestOther", "" }, http.StatusBadRequest, "owner is required"},
		{"bad date", base, func(b map[string]string) { b["test"], b["expires_at"] = "TestOther", "next week" }, http.StatusBadRequest, "want a date like 2026-12-20"},
		{"unknown repository", "/api/v1/repos/github/acme/unknown/quarantine", func(map[string]string) {}, http.StatusNotFound, ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			b := map[string]string{}
			for k, v := range body {
				b[k] = v
			}
			tt.edit(b)
			got := call(t, ts, admin, http.MethodPost, tt.path, b, tt.status, nil)
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %s, want it to say %q", got, tt.want)
			}
		})
	}

	call(t, ts, ts.token, http.MethodDelete, fmt.Sprintf("%s/%d", base, created.ID), nil, http.StatusForbidden, nil)
	call(t, ts, admin, http.MethodDelete, fmt.Sprintf("%s/%d", base, created.ID), nil, http.StatusNoContent, nil)
	call(t, ts, admin, http.MethodDelete, fmt.Sprintf("%s/%d", base, created.ID), nil, http.StatusNotFound, nil)
	call(t, ts, admin, http.MethodDelete, base+"/x", nil, http.StatusBadRequest, nil)

	var entries []*patchgate.AuditEntry
	for _, action := range []string{patchgate.AuditQuarantineCreated, patchgate.AuditQuarantineRemoved} {
		es, err := store.NewAuditService(ts.db).FindAudit(context.Background(), patchgate.AuditFilter{Action: &action})
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, es...)
	}
	if len(entries) != 2 || entries[0].Actor != "admin" || entries[1].Actor != "admin" || entries[0].Detail["ticket"] != "PAY-9" {
		t.Errorf("got audit %+v, want the creation and the removal by admin", entries)
	}
}

// TestQuarantineAPIRefusesBrokenTest: a test whose results show it failing
// every time on a commit cannot be quarantined as flaky: 422 with the evidence.
func TestQuarantineAPIRefusesBrokenTest(t *testing.T) {
	ts, admin := quarantineServer(t)
	ctx := context.Background()
	vs := store.NewVerificationService(ts.db)
	sha := strings.Repeat("ab", 20)
	v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: "acme/payments", SHA: sha,
		ConfigRef: sha, ConfigDigest: "d", Trigger: "test", Suites: []*patchgate.SuiteRun{{Name: "unit", Required: true, Image: "golang:1.26"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := v.Suites[0]
	s.State, s.Tests = patchgate.RunFailure, []patchgate.TestResult{
		{Name: "TestBroken", Status: patchgate.TestFailed, Attempt: 1},
		{Name: "TestBroken", Status: patchgate.TestFailed, Attempt: 2},
	}
	if err := vs.UpdateSuiteRun(ctx, s); err != nil {
		t.Fatal(err)
	}
	got := call(t, ts, admin, http.MethodPost, "/api/v1/repos/github/acme/payments/quarantine", map[string]string{
		"test": "TestBroken", "owner": "alice", "ticket": "PAY-9", "expires_at": time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339),
	}, http.StatusUnprocessableEntity, nil)
	if want := fmt.Sprintf("TestBroken failed every time on abababa (2 of 2 runs, verification %d)", v.ID); !strings.Contains(got, want) || !strings.Contains(got, "broken, not flaky") {
		t.Errorf("got %s, want the evidence %q", got, want)
	}
}

func TestFlakeRateMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := server.NewMetrics(reg)
	var gotLast, gotLimit int
	m.FlakeRates = func(_ context.Context, last, limit int) ([]patchgate.FlakeRate, error) {
		gotLast, gotLimit = last, limit
		return []patchgate.FlakeRate{{Repo: patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}, Test: "TestLedger", Flaky: 1, Runs: 4}}, nil
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range families {
		if f.GetName() != "patchgate_flake_rate" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got = append(got, fmt.Sprintf("%s %s %v", labels["repo"], labels["test"], metric.GetGauge().GetValue()))
		}
	}
	if strings.Join(got, ";") != "github:acme/payments TestLedger 0.25" {
		t.Errorf("got %q, want TestLedger at 0.25", got)
	}
	if gotLast != server.FlakeRateWindow || gotLimit != server.FlakeRateSeries {
		t.Errorf("asked for last %d limit %d, want %d and %d", gotLast, gotLimit, server.FlakeRateWindow, server.FlakeRateSeries)
	}
}
