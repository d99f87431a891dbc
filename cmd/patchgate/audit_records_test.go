package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestAuditVerifyNamesTamperedRecords plays a database writer against a
// running patchgate: each edit of what decides the gate, made with plain SQL
// on its SQLite file, leaves the chain intact, and `patchgate audit verify`
// and GET /api/v1/audit/verify must still name it (table, id, field,
// recorded and audited).
func TestAuditVerifyNamesTamperedRecords(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	app := w.app
	c := w.candidate(t)
	dbPath := strings.TrimPrefix(app.main.Config.Database, "sqlite://")
	cfg := auditConfig(t, dbPath, "")

	// A verification that failed (on the base, so that the candidate stays
	// releasable), as a worker would have recorded it.
	ctx := context.Background()
	vs := store.NewVerificationService(app.main.DB)
	failed, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: testRepo, SHA: w.base,
		ConfigRef: w.base, ConfigDigest: "failing", Trigger: "test",
		Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "patchgate-test/runner:go1.26"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := vs.ClaimVerification(ctx, failed.ID, failed.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	suite := failed.Suites[0]
	suite.State = patchgate.RunFailure
	if err := vs.UpdateSuiteRun(ctx, suite); err != nil {
		t.Fatal(err)
	}
	if err := vs.FinishVerification(ctx, failed.ID, patchgate.RunFailure, "regression failed"); err != nil {
		t.Fatal(err)
	}
	change, _ := app.change(t, 7)
	app.createToken(t, "gone", patchgate.RoleAdmin)
	if code := app.api(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "pay-desk", "role": "developer", "projects": []string{"PAY"}}, nil); code != http.StatusCreated {
		t.Fatalf("create a token limited to PAY: got %d", code)
	}
	if code := app.api(t, http.MethodDelete, "/api/v1/tokens/gone", nil, nil); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("revoke token: got %d", code)
	}

	verifyChain := dashboardVerifier(t, app)
	if page := verifyChain(t); !strings.Contains(page, "The chain holds") {
		t.Errorf("the dashboard's Verify chain before tampering shows %q; want the chain to hold", page)
	}
	if out := runCLI(t, "--config", cfg, "audit", "verify"); !strings.Contains(out, "records match their entries") {
		t.Errorf("audit verify before tampering = %q; want the records cross-checked", out)
	}
	evil := patchgate.HashToken("pg_evil")
	const at = `'2026-01-02T03:04:05.000000Z'`
	for _, tc := range []struct {
		name      string
		tamper    []string
		undo      []string
		want      string
		afterward func(t *testing.T)
	}{
		{name: "a verdict set to success",
			tamper: []string{fmt.Sprintf(`UPDATE verifications SET state = 'success' WHERE id = %d`, failed.ID)},
			undo:   []string{fmt.Sprintf(`UPDATE verifications SET state = 'failure' WHERE id = %d`, failed.ID)},
			want:   fmt.Sprintf(`verifications %d: state recorded "success", audited "failure"`, failed.ID)},
		{name: "a suite run set to success",
			tamper: []string{fmt.Sprintf(`UPDATE suite_runs SET state = 'success' WHERE id = %d`, suite.ID)},
			undo:   []string{fmt.Sprintf(`UPDATE suite_runs SET state = 'failure' WHERE id = %d`, suite.ID)},
			want:   fmt.Sprintf(`suite_runs %d: state recorded "success", audited "failure"`, suite.ID)},
		{name: "a failed required suite made optional",
			tamper: []string{fmt.Sprintf(`UPDATE suite_runs SET required = 0 WHERE id = %d`, suite.ID)},
			undo:   []string{fmt.Sprintf(`UPDATE suite_runs SET required = 1 WHERE id = %d`, suite.ID)},
			want:   fmt.Sprintf(`suite_runs %d: required recorded "false", audited "true"`, suite.ID)},
		{name: "a verdict moved to another commit",
			tamper: []string{fmt.Sprintf(`UPDATE verifications SET sha = '%s' WHERE id = %d`, w.merge, failed.ID)},
			undo:   []string{fmt.Sprintf(`UPDATE verifications SET sha = '%s' WHERE id = %d`, w.base, failed.ID)},
			want:   fmt.Sprintf(`verifications %d: sha recorded %q, audited %q`, failed.ID, w.merge, w.base)},
		{name: "a revoked token revived",
			tamper: []string{`UPDATE tokens SET revoked_at = NULL WHERE name = 'gone'`},
			undo:   []string{`UPDATE tokens SET revoked_at = ` + at + ` WHERE name = 'gone'`},
			want:   `tokens gone: revoked recorded "", audited "true"`},
		{name: "a token's projects widened",
			tamper: []string{`UPDATE tokens SET projects = '' WHERE name = 'pay-desk'`},
			undo:   []string{`UPDATE tokens SET projects = 'PAY' WHERE name = 'pay-desk'`},
			want:   `tokens pay-desk: projects recorded "", audited "PAY"`},
		{name: "a candidate's items deleted",
			tamper: []string{fmt.Sprintf(`CREATE TABLE saved_items AS SELECT * FROM candidate_items WHERE candidate_id = %d`, c.ID),
				fmt.Sprintf(`DELETE FROM candidate_items WHERE candidate_id = %d`, c.ID)},
			undo: []string{`INSERT INTO candidate_items SELECT * FROM saved_items`, `DROP TABLE saved_items`},
			want: fmt.Sprintf(`candidates %d: items recorded "", audited "%d/`, c.ID, change.ID)},
		{name: "a change's author changed",
			tamper: []string{fmt.Sprintf(`UPDATE changes SET author = 'someone-else' WHERE id = %d`, change.ID)},
			undo:   []string{fmt.Sprintf(`UPDATE changes SET author = '%s' WHERE id = %d`, change.Author, change.ID)},
			want:   fmt.Sprintf(`changes %d: author recorded "someone-else", audited %q`, change.ID, change.Author)},
		{name: "a session inserted",
			tamper: []string{fmt.Sprintf(`INSERT INTO sessions (id, token_id, hash, csrf, created_at, last_seen_at, expires_at)
				VALUES ('s-evil', 1, '%s', 'c', %s, %s, '2099-01-01T00:00:00.000000Z')`, evil, at, at)},
			undo: []string{`DELETE FROM sessions WHERE id = 's-evil'`},
			want: "sessions " + patchgate.AuditFingerprint("s-evil") + ": token=1 hash=" + patchgate.AuditFingerprint(evil)},
		// The row names a forge user id, as a created token does: one
		// without could not approve.
		{name: "a token inserted, then approving with it",
			tamper: []string{`INSERT INTO tokens (name, role, users, hash, created_at)
				VALUES ('mallory', 'release-manager', 'github:bob#4242', '` + evil + `', ` + at + `)`},
			want: "tokens mallory: hash=" + patchgate.AuditFingerprint(evil) + " role=release-manager users=github:bob#4242 revoked= projects= has no audit entry",
			afterward: func(t *testing.T) {
				// The row works as a token: it approves through the API.
				if code, msg := w.call(t, "pg_evil", http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
					t.Errorf("approve with the inserted token: %d %s; want it to work, as the attack does", code, msg)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			execSQL(t, dbPath, tc.tamper...)
			if tc.afterward != nil {
				tc.afterward(t)
			}
			out, err := execCLI("--config", cfg, "audit", "verify")
			if err == nil || !strings.Contains(err.Error(), "record(s) without their audit entry") ||
				!strings.Contains(out, "unaudited: "+tc.want) {
				t.Errorf("audit verify = %q, %v; want it to fail naming %q", out, err, tc.want)
			}
			var api struct {
				OK        bool
				Unaudited []string
			}
			if code := app.api(t, http.MethodGet, "/api/v1/audit/verify", nil, &api); code != http.StatusConflict || api.OK ||
				len(api.Unaudited) == 0 || !strings.HasPrefix(api.Unaudited[0], tc.want) {
				t.Errorf("GET /api/v1/audit/verify = %d %+v; want 409 naming %q first", code, api, tc.want)
			}
			if page := verifyChain(t); !strings.Contains(page, "<li>"+tc.want) {
				t.Errorf("the dashboard's Verify chain shows %q; want it to name %q", page, tc.want)
			}
			if tc.undo != nil {
				execSQL(t, dbPath, tc.undo...)
				if out, err := execCLI("--config", cfg, "audit", "verify"); err != nil {
					t.Fatalf("audit verify after undoing = %q, %v; want it intact", out, err)
				}
			}
		})
	}
}

// TestAuditSealRefusesARewrittenLog plays a database writer who replaces the
// keyed log with plain entries, audit.keyed gone, and then follows the advice
// to run `patchgate audit seal`: the key file records that the log was keyed,
// so verify names the rewrite and seal refuses to vouch for it.
func TestAuditSealRefusesARewrittenLog(t *testing.T) {
	app := startApp(t, nil)
	app.createToken(t, "ci", patchgate.RoleDeveloper)
	dbPath := strings.TrimPrefix(app.main.Config.Database, "sqlite://")
	cfg := auditConfig(t, dbPath, "")
	runCLI(t, "--config", cfg, "audit", "verify")
	// A key file from before the mark existed stays readable, and the next
	// writer marks it.
	mark := dbPath + ".audit-key.keyed"
	if err := os.Remove(mark); err != nil {
		t.Fatalf("the server did not mark its keyed log: %v", err)
	}
	runCLI(t, "--config", cfg, "audit", "verify")
	runCLI(t, "--config", cfg, "token", "create", "--name", "ops")
	if fi, err := os.Stat(mark); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after a writer's start, %s: %v, %v; want it written again, 0600", mark, fi, err)
	}

	plain := patchgate.AuditEntry{Seq: 1, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: patchgate.SystemActor,
		Action: patchgate.AuditConfigChanged, Subject: "config", Detail: map[string]string{"digest": "x"}}
	execSQL(t, dbPath, `DROP TRIGGER audit_log_no_delete`, `DELETE FROM audit_log`,
		`INSERT INTO audit_log (seq, at, actor, action, subject, sha, detail, prev_hash, hash)
			VALUES (1, '2026-01-02T03:04:05.000000Z', 'patchgate', 'config.changed', 'config', '', '{"digest":"x"}', '', '`+plain.ComputeHash()+`')`)

	err := runCLIErr(t, "--config", cfg, "audit", "verify")
	if !strings.Contains(err.Error(), "broken at entry 1") || !strings.Contains(err.Error(), "records that it was keyed") ||
		strings.Contains(err.Error(), "run it") {
		t.Errorf("audit verify of the rewritten log: %v; want entry 1 named as a rewrite, without advice to seal", err)
	}
	err = runCLIErr(t, "--config", cfg, "audit", "seal")
	if !strings.Contains(err.Error(), dbPath+".audit-key.keyed") || !strings.Contains(err.Error(), "rewritten without the key") ||
		!strings.Contains(err.Error(), "restore the database from a backup") {
		t.Errorf("audit seal of the rewritten log: %v; want a refusal naming the key file's record and the next step", err)
	}
	if err := runCLIErr(t, "--config", cfg, "audit", "verify"); !strings.Contains(err.Error(), "broken at entry 1") {
		t.Errorf("audit verify after the refused seal: %v; want the rewrite still named", err)
	}
}

// dashboardVerifier signs in to the dashboard as the admin, with a browser's
// cookies, and returns a function that presses "Verify chain" and returns the
// page's status text: the #chain line and the #unaudited list, unescaped.
func dashboardVerifier(t *testing.T, app *testApp) func(t *testing.T) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	base, _ := url.Parse(app.url + "/ui/")
	get := func(t *testing.T, path string) string {
		t.Helper()
		resp, err := client.Get(app.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(t *testing.T, path string, form url.Values) string {
		t.Helper()
		resp, err := client.PostForm(app.url+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	get(t, "/ui/signin")
	var guard string
	for _, c := range jar.Cookies(base) {
		if c.Name == "patchgate_signin" {
			guard = c.Value
		}
	}
	post(t, "/ui/signin", url.Values{"token": {app.token}, "guard": {guard}})
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get(t, "/ui/audit"))
	if csrf == nil {
		t.Fatal("no CSRF token on /ui/audit after signing in")
	}
	status := regexp.MustCompile(`(?s)<p [^>]*id="chain">.*?</p>(\s*<ul [^>]*id="unaudited">.*?</ul>)?`)
	return func(t *testing.T) string {
		t.Helper()
		return html.UnescapeString(status.FindString(post(t, "/ui/audit/verify", url.Values{"csrf": {csrf[1]}})))
	}
}
