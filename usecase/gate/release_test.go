package gate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/gate"
	"github.com/patchgate/patchgate/usecase/linking"
	"github.com/patchgate/patchgate/usecase/verification"
)

const (
	relRepo       = "acme/payments"
	releaseConfig = "suites:\n  regression:\n    image: golang:1.26\n    run: go test ./...\nrelease:\n  branch: main\n  approvals: 1\n"
)

// sha makes a recognisable 40-hex commit id.
func sha(c byte) string { return strings.Repeat(string(c), 40) }

// releaseWorld is a repository with one merged fix (PAY-1 in #1 by dev), the
// branch main at candidate commit C, a real SQLite store, and the fake forge
// behind the real GitHub client.
type releaseWorld struct {
	t        *testing.T
	cands    *gate.Candidates
	gate     *gate.Gate
	tickets  *store.TicketService
	changes  *store.ChangeService
	links    *store.LinkService
	releases *store.ReleaseService
	verdicts *verification.Verdicts
	forge    *fakeforge.Forge
	db       *store.DB
	vs       *store.VerificationService
	configs  *verification.Configs
	ticket   *patchgate.Ticket
	pr       *patchgate.Change
	base     string // last release
	head     string // PR head
	merge    string // merge commit
	cand     string // release branch head
}

func newReleaseWorld(t *testing.T) *releaseWorld {
	t.Helper()
	return newReleaseWorldAfter(t, true)
}

// newReleaseWorldAfter is newReleaseWorld with or without the last release
// v1.0.0 at base; without it, the repository has never been released.
func newReleaseWorldAfter(t *testing.T, released bool) *releaseWorld {
	t.Helper()
	ctx := context.Background()
	w := &releaseWorld{t: t, base: sha('1'), head: sha('2'), merge: sha('3'), cand: sha('4')}
	w.forge = fakeforge.New()
	t.Cleanup(w.forge.Close)
	w.forge.SetToken("tok")
	w.forge.AddCommit(relRepo, w.base, map[string][]byte{".patchgate.yml": []byte(releaseConfig)}, "base", "dev")
	w.forge.AddCommit(relRepo, w.head, map[string][]byte{"fix.go": []byte("fix")}, "PAY-1: fix", "dev", w.base)
	w.forge.AddCommit(relRepo, w.merge, nil, "Merge #1", "dev", w.base, w.head)
	w.forge.AddCommit(relRepo, w.cand, map[string][]byte{"docs.md": []byte("x")}, "docs", "ops", w.merge)
	w.forge.AddPullRequest(relRepo, fakeforge.PullRequest{Number: 1, Title: "PAY-1: fix", Author: "dev", HeadSHA: w.head})
	w.forge.SetBranch(relRepo, "main", w.cand)

	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w.db, w.vs = db, store.NewVerificationService(db)
	gh, err := forges.NewGitHub(forges.Config{BaseURL: w.forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	w.tickets, w.changes, w.links = store.NewTicketService(db), store.NewChangeService(db), store.NewLinkService(db)
	w.releases = store.NewReleaseService(db)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The gate alone: its configuration read through the real client from
	// the fake forge, everything else from the real store.
	configs := &verification.Configs{Sources: map[patchgate.Forge]patchgate.SourceFetcher{patchgate.GitHub: gh},
		APIQuarantines: store.NewQuarantineService(db)}
	w.configs = configs
	w.cands = &gate.Candidates{Configs: configs, Releases: w.releases, Changes: w.changes, Links: w.links,
		Repos:     patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitHub, Name: relRepo, TicketKeys: []string{"PAY"}}}),
		Comparers: map[patchgate.Forge]patchgate.Comparer{patchgate.GitHub: gh}, Logger: logger}
	w.gate = &gate.Gate{Configs: configs, Releases: w.releases, Evidence: w.vs,
		Publisher: &gate.Publisher{Releasers: map[patchgate.Forge]patchgate.Releaser{patchgate.GitHub: gh},
			Commenters: map[patchgate.Forge]patchgate.Commenter{patchgate.GitHub: gh}, Logger: logger},
		Logger: logger}
	w.verdicts = &verification.Verdicts{Changes: w.changes, Tickets: &linking.Reconciler{Tickets: w.tickets, Links: w.links},
		Releases: w.cands, Logger: logger}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	pr, _, err := w.changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
		Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePullRequest, Number: 1, Title: "PAY-1: fix",
		SourceBranch: "fix/PAY-1", TargetBranch: "main", HeadSHA: w.head, Author: "dev",
		State: patchgate.ChangeMerged, MergeCommitSHA: w.merge, UpdatedAt: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.pr = pr
	w.ticket, err = w.tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1", Labels: []string{}, Severity: patchgate.SeverityHigh, State: patchgate.TicketFixMerged})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.links.SyncExtractedLinks(ctx, pr.ID, []patchgate.LinkSource{patchgate.SourceTitle},
		[]*patchgate.Link{{TicketID: w.ticket.ID, ChangeID: pr.ID, Kind: patchgate.LinkFixes, Source: patchgate.SourceTitle, Provenance: "Fixes PAY-1", CreatedBy: "patchgate"}}); err != nil {
		t.Fatal(err)
	}
	if !released {
		return w
	}
	// The last release was at base.
	last := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: relRepo, Branch: "main", SHA: w.base, Name: "v1.0.0", CreatedBy: "ops"}
	if err := w.releases.CreateCandidate(ctx, last); err != nil {
		t.Fatal(err)
	}
	if _, err := w.releases.BeginPromotion(ctx, last.ID, "ops", 0); err != nil {
		t.Fatal(err)
	}
	if err := w.releases.FinishPromotion(ctx, last.ID, "https://example.invalid/v1.0.0"); err != nil {
		t.Fatal(err)
	}
	return w
}

// newReleasableWorld is newReleaseWorld with the candidate commit and the
// fix's head verified, and a candidate at the commit: releasable, waiting
// for its approvals.
func newReleasableWorld(t *testing.T) (*releaseWorld, *patchgate.Candidate) {
	t.Helper()
	w := newReleaseWorld(t)
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	return w, w.candidate()
}

// verify records a finished verification of sha with the regression suite in
// the given state, as a worker would have, under the .patchgate.yml of the
// release branch's head (the candidate's), the only one whose runs count.
func (w *releaseWorld) verify(sha string, changeID int64, state patchgate.RunState) {
	w.t.Helper()
	ctx := context.Background()
	cfg, err := w.configs.Read(ctx, patchgate.RepoRef{Forge: patchgate.GitHub, Name: relRepo}, w.cand)
	if err != nil {
		w.t.Fatal(err)
	}
	v, _, err := w.vs.CreateVerification(ctx, &patchgate.Verification{
		Forge: patchgate.GitHub, Repo: relRepo, SHA: sha, ChangeID: changeID, ConfigRef: sha, ConfigDigest: cfg.Digest,
		Trigger: "test", Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "golang:1.26"}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
		w.t.Fatal(err)
	}
	s := v.Suites[0]
	s.State, s.Description = state, "tests"
	if err := w.vs.UpdateSuiteRun(ctx, s); err != nil {
		w.t.Fatal(err)
	}
	if err := w.vs.FinishVerification(ctx, v.ID, state, "test"); err != nil {
		w.t.Fatal(err)
	}
}

// reopen records that PAY-1 was reopened now, after its fix in #1 was merged,
// and re-derives its state.
func (w *releaseWorld) reopen() {
	w.t.Helper()
	ctx := context.Background()
	if err := w.tickets.RecordReopen(ctx, w.ticket.ID, time.Now()); err != nil {
		w.t.Fatal(err)
	}
	if tk, err := w.tickets.ReconcileTicket(ctx, w.ticket.ID); err != nil || tk.State != patchgate.TicketReopened {
		w.t.Fatalf("after the reopen: %v, %v; want reopened", tk, err)
	}
}

func (w *releaseWorld) candidate() *patchgate.Candidate {
	w.t.Helper()
	c, err := w.cands.CreateCandidate(context.Background(), patchgate.CandidateRequest{Repo: relRepo, SHA: w.cand, Name: "v1.1.0"}, "ops")
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// person is a release manager's token naming login on GitHub, pinned to the
// id the fake forge knows the login by (as token create pins it).
func (w *releaseWorld) person(login string) patchgate.Principal {
	return patchgate.Principal{Name: login + "-token", Token: login + "-token", Role: patchgate.RoleReleaseManager,
		Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: login, UserID: w.forge.AddUser(login)}}}
}

func TestCandidateContainsWhatIsNewSinceTheLastRelease(t *testing.T) {
	w := newReleaseWorld(t)
	c := w.candidate()
	if c.BaseSHA != w.base || len(c.Items) != 1 || c.Items[0].ChangeID != w.pr.ID || c.Items[0].Ticket == nil || c.Items[0].Ticket.Key != "PAY-1" {
		t.Fatalf("got base %s items %+v, want base 1… with #1 fixing PAY-1", c.BaseSHA[:1], c.Items)
	}
}

func TestReleasableOnlyOnEvidence(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		setup   func(w *releaseWorld)
		blocker string
		code    patchgate.ReasonCode
	}{
		{"nothing verified", func(w *releaseWorld) {}, "not verified on 4444444", patchgate.ReasonCandidateUnverified},
		{"fix unverified", func(w *releaseWorld) {
			w.verify(w.cand, 0, patchgate.RunSuccess)
		}, "PAY-1: fix in #1 not verified on 2222222", patchgate.ReasonFixUnverified},
		{"fix failed", func(w *releaseWorld) {
			w.verify(w.cand, 0, patchgate.RunSuccess)
			w.verify(w.head, w.pr.ID, patchgate.RunFailure)
		}, "PAY-1: fix in #1 failed `regression` on 2222222", patchgate.ReasonSuiteFailed},
		{"candidate failed", func(w *releaseWorld) {
			w.verify(w.cand, 0, patchgate.RunFailure)
			w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
		}, "failed `regression` on 4444444", patchgate.ReasonSuiteFailed},
		{"reopened after merge", func(w *releaseWorld) {
			w.verify(w.cand, 0, patchgate.RunSuccess)
			w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
			w.reopen()
		}, "PAY-1: reopened after merge", patchgate.ReasonTicketReopened},
		{"everything verified", func(w *releaseWorld) {
			w.verify(w.cand, 0, patchgate.RunSuccess)
			w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newReleaseWorld(t)
			tt.setup(w)
			c := w.candidate()
			ev, err := w.gate.Evaluate(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if tt.blocker == "" {
				if !ev.Releasable || ev.Evidence["PAY-1"] == nil {
					t.Fatalf("got blockers %q evidence %v, want releasable with evidence for PAY-1", ev.Blockers, ev.Evidence)
				}
				return
			}
			if ev.Releasable || !strings.Contains(strings.Join(patchgate.BlockerMessages(ev.Blockers), "\n"), tt.blocker) {
				t.Fatalf("got releasable=%v blockers %q, want a blocker %q", ev.Releasable, ev.Blockers, tt.blocker)
			}
			// The blocker that says it carries its code, and the code's action.
			for _, b := range ev.Blockers {
				if strings.Contains(b.Message, tt.blocker) && (b.Code != tt.code || b.Action == "") {
					t.Errorf("blocker %q: got code %q action %q, want code %q with its action", b.Message, b.Code, b.Action, tt.code)
				}
			}
		})
	}
}

func TestApprovalRules(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	c := w.candidate()
	_, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api")
	if patchgate.ErrorCode(err) != patchgate.ECONFLICT || !strings.Contains(err.Error(), "not releasable") {
		t.Fatalf("approval before releasable: got %v, want conflict naming blockers", err)
	}
	// The refusal carries the blockers with their codes, for the API.
	if bs := patchgate.ErrorBlockers(err); len(bs) == 0 || bs[0].Code != patchgate.ReasonCandidateUnverified {
		t.Fatalf("approval before releasable: got blockers %+v, want candidate_unverified first", bs)
	}
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	if _, _, err := w.gate.Approve(ctx, c.ID, w.head, w.person("alice"), "api"); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Fatalf("approval of another SHA: got %v, want conflict", err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("dev"), "api"); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Fatalf("approval by the fix's author: got %v, want forbidden", err)
	}
	if _, err := w.gate.Promote(ctx, c.ID, w.person("alice")); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Fatalf("promotion without approval: got %v, want conflict", err)
	}
	if _, ev, err := w.gate.Approve(ctx, c.ID, w.cand, w.person("alice"), "api"); err != nil || ev.Approvals != 1 {
		t.Fatalf("approval: got %v with %+v", err, ev)
	}
	if err := w.gate.Withdraw(ctx, c.ID, w.person("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.gate.Promote(ctx, c.ID, w.person("alice")); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Fatalf("promotion after withdrawal: got %v, want conflict", err)
	}
	// A newer candidate supersedes this one: the old one can no longer be approved.
	if _, err := w.cands.CreateCandidate(ctx, patchgate.CandidateRequest{Repo: relRepo, SHA: w.cand, Name: "v1.1.1"}, "ops"); err != nil {
		t.Fatal(err)
	}
	if old, _ := w.releases.FindCandidateByID(ctx, c.ID); old.State != patchgate.CandidateSuperseded {
		t.Fatalf("older candidate: got %s, want superseded", old.State)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Fatalf("approval of a superseded candidate: got %v, want conflict", err)
	}
}

func TestAutoPromotionOnTheLastApproval(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.forge.AddCommit(relRepo, w.cand, map[string][]byte{".patchgate.yml": []byte(strings.Replace(releaseConfig, "approvals: 1", "approvals: 2\n  auto_promote: true", 1))}, "auto", "ops", w.merge)
	// The operator allows automatic promotion; the file asks for it.
	w.gate.Repos = patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitHub, Name: relRepo,
		Release: patchgate.ReleasePolicy{Approvals: 1, AutoPromote: true}}})
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	c := w.candidate()
	if got, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); err != nil || got.State != patchgate.CandidateOpen {
		t.Fatalf("first of two approvals: got %v %v, want still open", got, err)
	}
	got, _, err := w.gate.Approve(ctx, c.ID, "", w.person("bob"), "api")
	if err != nil || got.State != patchgate.CandidatePromoted {
		t.Fatalf("second approval: got %+v %v, want promoted", got, err)
	}
	if tags := w.forge.Tags(relRepo); tags["v1.1.0"] != w.cand {
		t.Fatalf("got tags %v", tags)
	}
}

func TestPromotionIsIdempotentAcrossACrash(t *testing.T) {
	ctx := context.Background()
	w, c := newReleasableWorld(t)
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); err != nil {
		t.Fatal(err)
	}
	// The tag is made, then the forge fails creating the release: as if
	// patchgate crashed between the two.
	w.forge.FailNextOn("POST /api/v3/repos/"+relRepo+"/releases", 2, 502, nil) // the attempt and its one retry
	if _, err := w.gate.Promote(ctx, c.ID, w.person("alice")); err == nil {
		t.Fatal("promotion succeeded with the forge down")
	}
	if got, _ := w.releases.FindCandidateByID(ctx, c.ID); got.State != patchgate.CandidatePromoting {
		t.Fatalf("after the failure: got state %s, want promoting", got.State)
	}
	for range 2 { // the retry, and a retry of the retry
		got, err := w.gate.Promote(ctx, c.ID, w.person("alice"))
		if err != nil {
			t.Fatal(err)
		}
		if got.State != patchgate.CandidatePromoted || got.ReleaseURL == "" {
			t.Fatalf("got %s %q, want promoted with a release URL", got.State, got.ReleaseURL)
		}
	}
	if tags := w.forge.Tags(relRepo); tags["v1.1.0"] != w.cand || len(tags) != 1 {
		t.Fatalf("got tags %v, want exactly v1.1.0 at the candidate", tags)
	}
	rels := w.forge.Releases(relRepo)
	if len(rels) != 1 || rels[0].Tag != "v1.1.0" || !strings.Contains(rels[0].Body, "PAY-1") {
		t.Fatalf("got releases %+v, want one for v1.1.0 listing PAY-1", rels)
	}
	if tk, _ := w.tickets.FindTicketByID(ctx, w.ticket.ID); tk.State != patchgate.TicketReleased {
		t.Fatalf("PAY-1: got %s, want released", tk.State)
	}
}

// TestTicketStaysVerifiedWhileAnotherFixHolds: a ticket fixed by two open
// changes loses fix_verified only when neither change's head passes.
func TestTicketStaysVerifiedWhileAnotherFixHolds(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	open := func(number int, head string) *patchgate.Change {
		ch, _, err := w.changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
			Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePullRequest, Number: number, Title: "PAY-1: another try",
			SourceBranch: fmt.Sprint("fix-", number), TargetBranch: "main", HeadSHA: head, Author: "dev",
			State: patchgate.ChangeOpen, UpdatedAt: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.links.SyncExtractedLinks(ctx, ch.ID, []patchgate.LinkSource{patchgate.SourceTitle},
			[]*patchgate.Link{{TicketID: w.ticket.ID, ChangeID: ch.ID, Kind: patchgate.LinkFixes, Source: patchgate.SourceTitle, Provenance: "PAY-1", CreatedBy: "patchgate"}}); err != nil {
			t.Fatal(err)
		}
		return ch
	}
	a, b := open(2, sha('a')), open(3, sha('b'))
	verdict := func(ch *patchgate.Change, state patchgate.RunState) {
		w.verify(ch.HeadSHA, ch.ID, state)
		vs, _, err := w.vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &ch.HeadSHA, Limit: 1})
		if err != nil || len(vs) == 0 {
			t.Fatal(err)
		}
		w.verdicts.OnVerdict(ctx, vs[0])
	}
	state := func() patchgate.TicketState {
		tk, err := w.tickets.FindTicketByID(ctx, w.ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		return tk.State
	}
	verdict(a, patchgate.RunSuccess)
	if got := state(); got != patchgate.TicketFixVerified {
		t.Fatalf("after #2 passed: got %s, want fix_verified", got)
	}
	verdict(b, patchgate.RunFailure)
	if got := state(); got != patchgate.TicketFixVerified {
		t.Fatalf("after #3 failed while #2 holds: got %s, want fix_verified", got)
	}
	verdict(a, patchgate.RunFailure)
	if got := state(); got != patchgate.TicketFixProposed {
		t.Fatalf("after #2 failed too: got %s, want fix_proposed", got)
	}
}

// TestReleaseRequiresProof: with release.require_proof a fix that passed is
// not enough: its head's proof must hold, and the blocker says why in words.
func TestReleaseRequiresProof(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.forge.SetFile(relRepo, w.cand, ".patchgate.yml", []byte(releaseConfig+"  require_proof: true\n"))
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	vs, _, err := w.vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &w.head})
	if err != nil || len(vs) != 1 {
		t.Fatalf("find the head's verification: %v, %v", vs, err)
	}
	blockers := func() string {
		t.Helper()
		ev, err := w.gate.Evaluate(ctx, w.candidate())
		if err != nil {
			t.Fatal(err)
		}
		if ev.Releasable != (len(ev.Blockers) == 0) {
			t.Fatalf("releasable %v with blockers %q", ev.Releasable, ev.Blockers)
		}
		return strings.Join(patchgate.BlockerMessages(ev.Blockers), "\n")
	}
	if got, want := blockers(), "PAY-1: fix in #1 has no fail-to-pass proof"; got != want {
		t.Errorf("no proof recorded: got %q, want %q", got, want)
	}
	none := patchgate.NoProof("")
	none.VerificationID, none.RequireProof = vs[0].ID, true
	if err := w.vs.SaveProof(ctx, &none); err != nil {
		t.Fatal(err)
	}
	if got, want := blockers(), "PAY-1: fix in #1 adds no test that fails without it"; got != want {
		t.Errorf("no regression test: got %q, want %q", got, want)
	}
	holds := patchgate.Proof{VerificationID: vs[0].ID, State: patchgate.ProofHolds, Description: "1 test fails without the fix and passes with it", RequireProof: true}
	if err := w.vs.SaveProof(ctx, &holds); err != nil {
		t.Fatal(err)
	}
	if got := blockers(); got != "" {
		t.Errorf("proof holds: got blockers %q, want none", got)
	}
}
