package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/patchgate/patchgate"
)

// dashboardRelease builds, without Docker, a merged fix of PAY-7 by
// Codertocat and a candidate at the merge commit whose own suites passed, but
// whose fix is not verified yet. It returns the candidate's id, the fix's
// head and the merge commit.
func dashboardRelease(t *testing.T, app *testApp) (id int64, head, merge string) {
	t.Helper()
	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\nrelease:\n  branch: main\n  approvals: 1\n")})
	repo.git("checkout", "-q", "-b", "fix/PAY-7")
	head = repo.commit("fix", map[string][]byte{"fix.txt": []byte("fixed")})
	repo.git("checkout", "-q", "main")
	repo.git("merge", "-q", "--no-ff", "-m", "Merge #7", "fix/PAY-7")
	merge = repo.git("rev-parse", "HEAD")
	app.forge.AddCommit(testRepo, merge, map[string][]byte{"fix.txt": []byte("fixed")}, "Merge #7", "dev", base, head)
	app.forge.SetBranch(testRepo, "main", merge) // a candidate must be on its release branch

	t0 := time.Now().Add(-time.Hour)
	app.openPR(t, "opened", 7, "PAY-7: fix rounding", "Fixes PAY-7", "fix/PAY-7", head, "", t0)
	app.sendGitHub(t, "pull_request", "merged-7", fixture(t, "github/pull_request/closed.api.github.com.3.json", func(p map[string]any) {
		p["number"] = 7
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["merged"], pr["merge_commit_sha"] = 7, "PAY-7: fix rounding", "Fixes PAY-7", true, merge
		pr["updated_at"] = t0.Add(time.Minute).UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"] = head, "fix/PAY-7", "main"
	}), testSecret)
	app.waitProcessed(t)
	app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, merge)

	var created struct{ Release patchgate.Candidate }
	req, _ := http.NewRequest(http.MethodPost, app.url+"/api/v1/releases", jsonBody(map[string]string{"repo": testRepo, "sha": merge, "name": "v1.4.2"}))
	req.Header.Set("Authorization", "Bearer "+app.token)
	if code := doJSON(t, req, &created); code != http.StatusCreated || len(created.Release.Items) != 1 {
		t.Fatalf("create candidate: got %d %+v", code, created.Release)
	}
	return created.Release.ID, head, merge
}

// TestDashboardRelease signs in, sees a blocked candidate with its blockers,
// sees no Approve button as a viewer nor as an author, approves as a release
// manager and promotes; the actions are audited like the API's.
func TestDashboardRelease(t *testing.T) {
	ctx := newTab(t)
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
	})
	id, head, merge := dashboardRelease(t, app)
	manager := app.createToken(t, "ops", patchgate.RoleReleaseManager, "github:ops")
	author := app.createToken(t, "Codertocat", patchgate.RoleReleaseManager, "github:Codertocat") // wrote #7
	viewer := app.createToken(t, "auditor", patchgate.RoleViewer)
	card := fmt.Sprintf("#candidate-%d", id)

	// Signed out, the dashboard sends the browser to the sign-in page.
	run(t, ctx, "visit signed out", chromedp.Navigate(app.url+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	screenshot(t, ctx, "signin")

	signIn(t, ctx, app.url, manager)
	ck := sessionCookie(t, ctx)
	if !ck.HTTPOnly || ck.SameSite != "Strict" || ck.Path != "/ui" || strings.Contains(ck.Value, manager) {
		t.Errorf("session cookie: got HttpOnly=%v SameSite=%q Path=%q, want HttpOnly, Strict, /ui, and not the token", ck.HTTPOnly, ck.SameSite, ck.Path)
	}
	run(t, ctx, "releases", chromedp.WaitVisible(chromedp.CSS(card)))
	blockers := text(t, ctx, card+" .blockers")
	if !strings.Contains(blockers, "PAY-7: fix in #7") || !strings.Contains(blockers, head[:7]) {
		t.Errorf("blockers: got %q, want PAY-7's fix in #7 on %s", blockers, head[:7])
	}
	// Each blocker shows its code and next action under its sentence.
	if want := "fix_unverified → wait for the run or `/patchgate retest`"; !strings.Contains(blockers, want) {
		t.Errorf("blockers: got %q, want the code and action %q", blockers, want)
	}
	if n := count(t, ctx, card+" button.approve"); n != 0 {
		t.Errorf("blocked candidate: got %d Approve buttons, want none", n)
	}
	screenshot(t, ctx, "releases-blocked")

	// A POST without the form's CSRF token is refused, session or not.
	form := url.Values{"sha": {merge}}
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/ui/releases/%d/approve", app.url, id), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("approve without CSRF token: got %d, want 403", resp.StatusCode)
	}

	// The fix passes on its head: the candidate is releasable.
	app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, head)
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(card+" .releasable")))

	signOut(t, ctx)
	signIn(t, ctx, app.url, viewer)
	run(t, ctx, "releases as viewer", chromedp.WaitVisible(chromedp.CSS(card+" .releasable")))
	if n := count(t, ctx, "button.approve, button.withdraw, a.promote, "+card+" .why"); n != 0 {
		t.Errorf("viewer: got %d buttons or reasons, want none", n)
	}
	if n := count(t, ctx, "main form[method=post]"); n != 0 {
		t.Errorf("viewer: got %d forms, want none", n)
	}
	run(t, ctx, "audit as viewer", chromedp.Navigate(app.url+"/ui/audit"), chromedp.WaitVisible(chromedp.ID("main")))
	if n := count(t, ctx, "#verify-chain"); n != 0 {
		t.Errorf("viewer: got %d Verify chain buttons, want none", n)
	}
	signOut(t, ctx)

	signIn(t, ctx, app.url, author)
	run(t, ctx, "releases as author", chromedp.WaitVisible(chromedp.CSS(card+" .why")))
	if n := count(t, ctx, card+" button.approve"); n != 0 {
		t.Errorf("author: got %d Approve buttons, want none", n)
	}
	if why := text(t, ctx, card+" .why"); !strings.Contains(why, "an author may not approve") {
		t.Errorf("author: got reason %q, want the author rule", why)
	}
	signOut(t, ctx)

	signIn(t, ctx, app.url, manager)
	run(t, ctx, "approve button", chromedp.WaitVisible(chromedp.CSS(card+" button.approve")))
	if got := submit(t, ctx, "approve", chromedp.CSS(card+" button.approve")); !strings.Contains(got, "Approved v1.4.2") {
		t.Errorf("flash after approving: got %q", got)
	}
	if got := text(t, ctx, ".approvals"); got != "1/1" {
		t.Errorf("approvals: got %q, want 1/1", got)
	}
	// Withdrawn, and given again.
	if got := submit(t, ctx, "withdraw", chromedp.CSS("button.withdraw")); !strings.Contains(got, "withdrawn") {
		t.Errorf("flash after withdrawing: got %q", got)
	}
	if got := text(t, ctx, ".approvals"); got != "0/1" {
		t.Errorf("approvals after withdrawing: got %q, want 0/1", got)
	}
	if got := submit(t, ctx, "approve again", chromedp.CSS("button.approve")); !strings.Contains(got, "Approved v1.4.2") {
		t.Errorf("flash after approving again: got %q", got)
	}
	screenshot(t, ctx, "candidate")
	var audit struct{ Entries []patchgate.AuditEntry }
	app.api(t, http.MethodGet, "/api/v1/audit?action="+patchgate.AuditApprovalCreated, nil, &audit)
	if len(audit.Entries) != 2 || audit.Entries[1].Actor != "ops" || audit.Entries[1].Detail["via"] != "dashboard" || audit.Entries[1].SHA != merge {
		t.Errorf("audit of the approvals: got %+v, want two by ops via dashboard on the merge commit", audit.Entries)
	}
	app.api(t, http.MethodGet, "/api/v1/audit?action="+patchgate.AuditApprovalWithdrawn, nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Actor != "ops" {
		t.Errorf("audit of the withdrawal: got %+v, want one by ops", audit.Entries)
	}

	run(t, ctx, "promote",
		chromedp.Click(chromedp.CSS("a.promote")),
		chromedp.WaitVisible(chromedp.ID("confirm-promote")))
	screenshot(t, ctx, "promote")
	if got := submit(t, ctx, "confirm promotion", chromedp.CSS("#confirm-promote")); !strings.Contains(got, "Promoted v1.4.2") {
		t.Errorf("flash after promoting: got %q", got)
	}
	if rels := app.forge.Releases(testRepo); len(rels) != 1 {
		t.Errorf("forge releases: got %d, want 1", len(rels))
	}
	run(t, ctx, "promoted list", chromedp.Navigate(app.url+"/ui/"), chromedp.WaitVisible(chromedp.ID("promoted")))
	if row := text(t, ctx, "#promoted tbody tr"); !strings.Contains(row, "v1.4.2") || !strings.Contains(row, "ops") {
		t.Errorf("promoted row: got %q, want the tag and its approver", row)
	}
	screenshot(t, ctx, "releases")

	// Tickets: filtered by state and repository; the ticket's page says why
	// #7 is linked and how its state moved.
	run(t, ctx, "tickets", chromedp.Navigate(app.url+"/ui/tickets?state=released"),
		chromedp.WaitVisible(chromedp.ID("tickets")))
	if row := text(t, ctx, "#tickets tbody tr"); !strings.Contains(row, "PAY-7") || !strings.Contains(row, "released") {
		t.Errorf("released tickets: got %q, want PAY-7", row)
	}
	screenshot(t, ctx, "tickets")
	run(t, ctx, "tickets by SLA", chromedp.Navigate(app.url+"/ui/tickets?sla=breached"), chromedp.WaitVisible(chromedp.ID("main")))
	if n := count(t, ctx, "#tickets tbody tr"); n != 0 {
		t.Errorf("breached tickets: got %d rows, want none", n)
	}
	run(t, ctx, "ticket", chromedp.Navigate(app.url+"/ui/tickets?key=PAY-7"), chromedp.WaitVisible(chromedp.ID("tickets")),
		chromedp.Click(chromedp.CSS("#tickets tbody a")), chromedp.WaitVisible(chromedp.ID("links")))
	if got := text(t, ctx, "#links"); !strings.Contains(got, "fixes") || !strings.Contains(got, "PAY-7") {
		t.Errorf("ticket links: got %q, want a fixes link with its provenance", got)
	}
	if got := text(t, ctx, "#history"); !strings.Contains(got, "released") {
		t.Errorf("ticket history: got %q, want the move to released", got)
	}
	screenshot(t, ctx, "ticket")

	// An admin checks the audit chain from the audit page.
	signOut(t, ctx)
	signIn(t, ctx, app.url, app.token)
	run(t, ctx, "audit", chromedp.Navigate(app.url+"/ui/audit"), chromedp.WaitVisible(chromedp.ID("verify-chain")),
		chromedp.Click(chromedp.ID("verify-chain")), chromedp.WaitVisible(chromedp.ID("chain")))
	if got := text(t, ctx, "#chain"); !strings.Contains(got, "The chain holds") {
		t.Errorf("verify chain: got %q", got)
	}
	screenshot(t, ctx, "audit")

	// A sign-in post without the form's guard (another site's form) is
	// refused, and so is a cross-site post carrying the session.
	post := func(path string, form url.Values, header map[string]string, cookie *http.Cookie) int {
		req, _ := http.NewRequest(http.MethodPost, app.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/ui/signin", url.Values{"token": {manager}}, nil, nil); code != http.StatusForbidden {
		t.Errorf("sign-in without its guard: got %d, want 403", code)
	}
	admin := sessionCookie(t, ctx)
	if code := post("/ui/audit/verify", url.Values{"csrf": {"x"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, &http.Cookie{Name: admin.Name, Value: admin.Value}); code != http.StatusForbidden {
		t.Errorf("cross-site post: got %d, want 403", code)
	}

	// Revoking the token ends its sessions: the next page is the sign-in page.
	app.api(t, http.MethodDelete, "/api/v1/tokens/"+eval[string](t, ctx, `document.querySelector("#actor").firstChild.textContent.trim()`), nil, nil)
	run(t, ctx, "after revocation", chromedp.Navigate(app.url+"/ui/audit"), chromedp.WaitVisible(chromedp.ID("token")))
	signIn(t, ctx, app.url, manager)

	// Every page fits a 360 px screen.
	for _, p := range []string{"/ui/", "/ui/tickets", "/ui/tickets/1", "/ui/audit"} {
		checkNarrow(t, ctx, app.url+p, "")
	}
	checkNarrow(t, ctx, fmt.Sprintf("%s/ui/releases/%d", app.url, id), "candidate-360px")
}
