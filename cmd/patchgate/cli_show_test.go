package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// failIn records a verification of sha in testRepo whose required suite
// failed on one test, with a flaky test beside it, as a worker would have.
func failIn(t *testing.T, vs *store.VerificationService, sha string) *patchgate.Verification {
	t.Helper()
	ctx := context.Background()
	// A rerun under the configuration sha was verified under before: only
	// runs under the candidate's .patchgate.yml count for it.
	digest := "manual-failed"
	if prev, _, err := vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &sha, Limit: 1}); err == nil && len(prev) > 0 {
		digest = prev[0].ConfigDigest
	}
	v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{
		Forge: patchgate.GitHub, Repo: testRepo, SHA: sha, ConfigRef: sha, ConfigDigest: digest, Trigger: "test",
		Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "patchgate-test/runner:go1.26"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	exit := 1
	s := v.Suites[0]
	s.State, s.ExitCode, s.Description, s.Passed, s.Failed = patchgate.RunFailure, &exit, "1 passed, 1 failed", 2, 1
	s.Timings = patchgate.EnvironmentTimings{Provision: 2 * time.Second, Run: 31 * time.Second, Collect: time.Second, Teardown: time.Second}
	s.Tests = []patchgate.TestResult{
		{Class: "shop/refund", Name: "TestStable", Status: patchgate.TestPassed, Attempt: 1},
		{Class: "shop/refund", Name: "TestTiming", Status: patchgate.TestFailed, Attempt: 1, Flaky: true, Message: "timed out"},
		{Class: "shop/refund", Name: "TestTiming", Status: patchgate.TestPassed, Attempt: 2, Flaky: true},
		{Class: "shop/refund", Name: "TestRoundsHalfUp", Status: patchgate.TestFailed, Attempt: 1, Message: "got 1.00, want 1.01"},
	}
	if err := vs.UpdateSuiteRun(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := vs.FinishVerification(ctx, v.ID, patchgate.RunFailure, "required suite regression failed"); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTicketCommands: `patchgate ticket KEY|ID` shows a ticket with its
// fixing changes and history, by key in any case or by id, as a table or as
// the API's JSON; an unknown key is a 404 naming it; `patchgate tickets`
// filters, the repository filter including tickets its changes fix.
func TestTicketCommands(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	app := w.app
	viewer := app.createToken(t, "viewer", patchgate.RoleViewer)
	cli := func(args ...string) (string, error) {
		return execCLI(append(args, "--server", app.url, "--token", viewer)...)
	}

	out, err := cli("ticket", "PAY-7")
	if err != nil {
		t.Fatalf("ticket PAY-7: %v", err)
	}
	for _, want := range []string{"PAY-7", "state", "fix_proposed", "SLA", "Codertocat/Hello-World#7", "fixes", "Fixes PAY-7", "history:", "open → fix_proposed"} {
		if !strings.Contains(out, want) {
			t.Errorf("ticket PAY-7: got\n%s\nwant it to contain %q", out, want)
		}
	}

	// By key in another case, as JSON: what the API answered, indented.
	out, err = cli("ticket", "pay-7", "--json")
	if err != nil {
		t.Fatalf("ticket pay-7 --json: %v", err)
	}
	var detail struct {
		Ticket struct {
			ID    int64
			Key   string
			State patchgate.TicketState
		}
		Links   []patchgate.Link
		History []patchgate.AuditEntry
	}
	if err := json.Unmarshal([]byte(out), &detail); err != nil || !strings.Contains(out, "\n  \"ticket\": {") {
		t.Fatalf("ticket --json: got %q, %v; want indented JSON", out, err)
	}
	// #7 names PAY-7 in its title, body and branch: three links, one change.
	if detail.Ticket.Key != "PAY-7" || len(detail.Links) != 3 || detail.Links[0].Change == nil || detail.Links[0].Change.Number != 7 || len(detail.History) != 1 {
		t.Errorf("ticket --json: got %+v; want PAY-7 with its links to #7 and its history", detail)
	}
	// By id, the same ticket.
	if out, err = cli("ticket", fmt.Sprint(detail.Ticket.ID)); err != nil || !strings.HasPrefix(out, "PAY-7 ") {
		t.Errorf("ticket %d: got %q, %v; want PAY-7", detail.Ticket.ID, out, err)
	}

	// An unknown key: 404 from the API, naming it; the CLI says so with the code.
	var apiErr struct {
		Error struct{ Code, Message string }
	}
	if code := app.api(t, http.MethodGet, "/api/v1/tickets/NOPE-404", nil, &apiErr); code != http.StatusNotFound || !strings.Contains(apiErr.Error.Message, "NOPE-404") {
		t.Errorf("GET /tickets/NOPE-404: got %d %+v; want 404 naming NOPE-404", code, apiErr)
	}
	if _, err := cli("ticket", "NOPE-404"); patchgate.ErrorCode(err) != patchgate.ENOTFOUND || !strings.Contains(err.Error(), "not_found: no ticket NOPE-404") {
		t.Errorf("ticket NOPE-404: got %v; want not_found naming it", err)
	}

	// A key two trackers share is a conflict listing both ids.
	other, err := store.NewTicketService(app.main.DB).EnsureTicket(context.Background(),
		&patchgate.Ticket{Tracker: patchgate.TrackerGitLab, Key: "PAY-7", Repo: "acme/pay", Number: 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli("ticket", "PAY-7"); patchgate.ErrorCode(err) != patchgate.ECONFLICT ||
		!strings.Contains(err.Error(), fmt.Sprint(detail.Ticket.ID)) || !strings.Contains(err.Error(), fmt.Sprint(other.ID)) {
		t.Errorf("ticket PAY-7 with two trackers: got %v; want a conflict listing ids %d and %d", err, detail.Ticket.ID, other.ID)
	}

	// tickets: PAY-7 is an external ticket, yet it is one of the repository's
	// since its change there fixes it.
	out, err = cli("tickets", "--repo", testRepo)
	if err != nil || !regexp.MustCompile(`(?m)^KEY +SEVERITY +LEVEL +STATE +SLA +DEADLINE +TITLE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^PAY-7 +unknown +L1 +fix_proposed +none +- +-$`).MatchString(out) {
		t.Errorf("tickets --repo: got %q, %v; want a table with PAY-7", out, err)
	}
	if out, err = cli("tickets", "--state", "released"); err != nil || out != "no tickets match --state released\n" {
		t.Errorf("tickets --state released: got %q, %v; want the empty-state line", out, err)
	}
	out, err = cli("tickets", "--state", "fix_proposed", "--json")
	var list struct {
		Tickets []struct{ Key string }
		Total   int
	}
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || list.Total != 1 || list.Tickets[0].Key != "PAY-7" {
		t.Errorf("tickets --json: got %q, %v; want PAY-7 alone", out, err)
	}
	for _, bad := range [][]string{{"--sla", "late"}, {"--state", "done"}, {"--severity", "urgent"}} {
		if _, err := cli(append([]string{"tickets"}, bad...)...); patchgate.ErrorCode(err) != patchgate.EINVALID || !strings.Contains(err.Error(), "want ") {
			t.Errorf("tickets %v: got %v; want invalid naming the valid values", bad, err)
		}
	}

	// A refused token is said in words, with where the token comes from.
	if _, err := execCLI("tickets", "--server", app.url, "--token", "pgt_not-a-token"); patchgate.ErrorCode(err) != patchgate.EUNAUTHORIZED || !strings.Contains(err.Error(), "PATCHGATE_TOKEN") {
		t.Errorf("tickets with a bad token: got %v; want unauthorized naming PATCHGATE_TOKEN", err)
	}
}

// TestReleaseListAndShow: `patchgate release list` shows each candidate with
// whether it can ship, its approvals and who gave them, and the blockers in
// words of a blocked one; GET /api/v1/releases carries the same summary;
// `release show` names the blockers, each with its code and next action, as
// the API's JSON does, and a refused promotion returns them too;
// `verification show` the failing tests first.
func TestReleaseListAndShow(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	app := w.app
	viewer := app.createToken(t, "viewer", patchgate.RoleViewer)
	cli := func(args ...string) (string, error) {
		return execCLI(append(args, "--server", app.url, "--token", viewer)...)
	}
	out, err := cli("release", "list")
	if err != nil || out != "no open release candidates — create one: patchgate release create --repo OWNER/NAME\n" {
		t.Errorf("release list with none: got %q, %v", out, err)
	}

	cand := w.candidate(t)
	alice := w.token(t, "alice", patchgate.RoleReleaseManager, "github:alice")
	if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", cand.ID), nil); code != http.StatusOK {
		t.Fatalf("approve: got %d %s", code, msg)
	}
	row := regexp.MustCompile(fmt.Sprintf(`(?m)^%d +%s +%s +%s +open +releasable +1/1 \(alice\) `, cand.ID, regexp.QuoteMeta(cand.Name), regexp.QuoteMeta(testRepo), cand.SHA[:7]))
	if out, err = cli("release", "list"); err != nil || !row.MatchString(out) || strings.Contains(out, "blocked") {
		t.Errorf("release list: got %q, %v; want candidate %d releasable, approved 1/1 by alice", out, err, cand.ID)
	}

	// The release commit's suite fails afterwards: the candidate is blocked.
	v := failIn(t, store.NewVerificationService(app.main.DB), w.merge)
	out, err = cli("release", "list")
	blocker := "failed `regression` on " + w.merge[:7]
	failed, _ := patchgate.ReasonFor(patchgate.ReasonSuiteFailed)
	failedAction := failed.Action
	if err != nil || !regexp.MustCompile(fmt.Sprintf(`(?m)^%d .* open +blocked +1/1 \(alice\) `, cand.ID)).MatchString(out) ||
		!strings.Contains(out, fmt.Sprintf("release %d %s is blocked:\n  - %s\n      suite_failed → %s\n", cand.ID, cand.Name, blocker, failedAction)) {
		t.Errorf("release list after the failure: got %q, %v; want it blocked by %q", out, err, blocker)
	}
	var api struct {
		Releases []struct {
			ID      int64
			Items   []patchgate.CandidateItem
			Summary patchgate.CandidateSummary
		}
	}
	app.api(t, http.MethodGet, "/api/v1/releases?state=open", nil, &api)
	if len(api.Releases) != 1 || len(api.Releases[0].Items) != 1 {
		t.Fatalf("GET /releases: got %+v; want the candidate with its item", api.Releases)
	}
	wantBlocker := patchgate.Blocker{Code: patchgate.ReasonSuiteFailed, Message: blocker, Action: failedAction}
	if s := api.Releases[0].Summary; s.Releasable || len(s.Blockers) != 1 || s.Blockers[0] != wantBlocker ||
		s.Approvals != 1 || s.Needed != 1 || len(s.Approvers) != 1 || s.Approvers[0] != "alice" {
		t.Errorf("GET /releases summary: got %+v; want blocked by %q, 1 of 1 approvals by alice", s, blocker)
	}
	out, err = cli("release", "list", "--json")
	if err != nil || !strings.Contains(out, `"summary": {`) || !strings.Contains(out, `"code": "suite_failed"`) ||
		!strings.Contains(out, `"message": "failed `+"`regression`"+` on `+w.merge[:7]+`"`) {
		t.Errorf("release list --json: got %q, %v; want the API's JSON with the summary", out, err)
	}
	if _, err := cli("release", "list", "--state", "shipped"); patchgate.ErrorCode(err) != patchgate.EINVALID || !strings.Contains(err.Error(), "open, superseded, promoting or promoted") {
		t.Errorf("release list --state shipped: got %v; want invalid naming the states", err)
	}
	if out, err = cli("release", "list", "--state", "promoted"); err != nil || out != "no promoted release candidates\n" {
		t.Errorf("release list --state promoted: got %q, %v", out, err)
	}

	out, err = cli("release", "show", fmt.Sprint(cand.ID))
	// People are shown with their forge user ids: alice's as pinned on her
	// token, #7's opener's as the webhook named it.
	approvals := fmt.Sprintf("approvals: 1 of 1 (alice (id %d))", app.forge.AddUser("alice"))
	if err != nil || !strings.Contains(out, "blocked:\n    "+blocker+"\n      suite_failed → "+failedAction+"\n") || !strings.Contains(out, approvals) ||
		!strings.Contains(out, "authors: Codertocat (id 21031067)\n") ||
		!regexp.MustCompile(`Codertocat/Hello-World#7 +PAY-7: fix +PAY-7 \(fix_proposed\) +verified by \d+`).MatchString(out) {
		t.Errorf("release show: got %q, %v; want the item, its evidence, %q, the author Codertocat with their id and the blocker", out, err, approvals)
	}
	if out, err = cli("release", "show", fmt.Sprint(cand.ID), "--json"); err != nil || !strings.Contains(out, `"evaluation": {`) {
		t.Errorf("release show --json: got %q, %v", out, err)
	}

	// A promotion refused as not releasable answers 409 with the blockers
	// beside the message, and the CLI's error carries them.
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/releases/%d/promote", app.url, cand.ID), nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	var refusal struct {
		Error struct {
			Code     string
			Message  string
			Blockers []map[string]string
		}
	}
	if code := doJSON(t, req, &refusal); code != http.StatusConflict || refusal.Error.Code != patchgate.ECONFLICT ||
		len(refusal.Error.Blockers) != 1 || refusal.Error.Blockers[0]["code"] != "suite_failed" ||
		refusal.Error.Blockers[0]["message"] != blocker || refusal.Error.Blockers[0]["action"] != failedAction {
		t.Errorf("promote while blocked: got %d %+v; want 409 with the suite_failed blocker and its action", code, refusal.Error)
	}
	_, err = execCLI("release", "promote", fmt.Sprint(cand.ID), "--server", app.url, "--token", alice)
	if bs := patchgate.ErrorBlockers(err); patchgate.ErrorCode(err) != patchgate.ECONFLICT || len(bs) != 1 || bs[0] != wantBlocker {
		t.Errorf("release promote while blocked: got %v with blockers %+v; want conflict carrying %+v", err, bs, wantBlocker)
	}

	// verification show: the failing test first, the flaky one marked, the verdict with its reason.
	out, err = cli("verification", "show", fmt.Sprint(v.ID))
	if err != nil {
		t.Fatalf("verification show: %v", err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^  regression +yes +failure \(exit 1\) +2 +1 +0 +2s +31s +1s +1s +1 passed, 1 failed$`),
		regexp.MustCompile(`failing tests:\n  regression +shop/refund.TestRoundsHalfUp +failed +got 1.00, want 1.01\nflaky tests`),
		regexp.MustCompile(`(?m)^  regression +shop/refund.TestTiming +flaky: passed on attempt 2 after failing$`),
		regexp.MustCompile(`(?m)\Averification \d+ of Codertocat/Hello-World at [0-9a-f]{40}\n`),
		regexp.MustCompile(`verdict: failure: required suite regression failed\n\z`),
	} {
		if !want.MatchString(out) {
			t.Errorf("verification show: got\n%s\nwant it to match %s", out, want)
		}
	}
	if strings.Contains(out, "TestStable") {
		t.Errorf("verification show lists passing tests: %s", out)
	}
	out, err = cli("verification", "show", fmt.Sprint(v.ID), "--json")
	var vj struct{ Verification patchgate.Verification }
	if err != nil || json.Unmarshal([]byte(out), &vj) != nil || len(vj.Verification.Suites) != 1 || len(vj.Verification.Suites[0].Tests) != 4 {
		t.Errorf("verification show --json: got %q, %v; want the suite with its 4 test results", out, err)
	}
}

// TestLinkAndUnlinkByReference: link prints the ticket and change it linked;
// unlink takes the same forms (TICKET --repo --pr), says what it unlinked,
// and refuses an incomplete or a mixed form before asking the server. What
// unlinking by reference does is usecase/linking's TestUnlinkByReference.
func TestLinkAndUnlinkByReference(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	app := w.app
	dev := app.createToken(t, "dev", patchgate.RoleDeveloper)
	cli := func(args ...string) (string, error) {
		return execCLI(append(args, "--server", app.url, "--token", dev)...)
	}
	out, err := cli("link", "PAY-8", "--repo", testRepo, "--pr", "7")
	if err != nil || !strings.HasPrefix(out, "linked PAY-8 → Codertocat/Hello-World#7 (fixes") {
		t.Fatalf("link: got %q, %v", out, err)
	}
	out, err = cli("unlink", "pay-8", "--repo", testRepo, "--pr", "7")
	if err != nil || out != "unlinked PAY-8 from Codertocat/Hello-World#7\n" {
		t.Fatalf("unlink by key and PR: got %q, %v", out, err)
	}
	for _, args := range [][]string{
		{"unlink"},
		{"unlink", "PAY-8", "--repo", testRepo},
		{"unlink", "PAY-8", "--pr", "7"},
		{"unlink", "--ticket-id", "3"},
		{"unlink", "PAY-8", "--ticket-id", "3", "--change-id", "4"},
	} {
		if _, err := cli(args...); patchgate.ErrorCode(err) != patchgate.EINVALID {
			t.Errorf("%v: got %v; want invalid", args, err)
		}
	}
}
