package checks

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// stubForge answers from fields: the check run, the roles by login.
type stubForge struct {
	appID   int64
	run     *patchgate.ForgeCheckRun
	runErr  error
	roles   map[string]patchgate.RepoRole
	roleErr error
}

func (f *stubForge) AppID() int64 { return f.appID }
func (f *stubForge) CheckRun(_ context.Context, _ patchgate.RepoRef, id int64) (*patchgate.ForgeCheckRun, error) {
	if f.runErr != nil {
		return nil, f.runErr
	}
	if f.run == nil || f.run.ID != id {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no check run %d", id)
	}
	return f.run, nil
}
func (f *stubForge) RepoRole(_ context.Context, _ patchgate.RepoRef, login string) (patchgate.RepoRole, error) {
	if f.roleErr != nil {
		return patchgate.RepoRole{}, f.roleErr
	}
	r, ok := f.roles[login]
	if !ok {
		return patchgate.RepoRole{}, patchgate.Errorf(patchgate.ENOTFOUND, "no user %s", login)
	}
	return r, nil
}

type peopleFunc func(userID int64) bool

func (p peopleFunc) Maintainer(_ context.Context, _ *patchgate.Repository, userID int64) (bool, error) {
	return p(userID), nil
}

type changesFunc func(patchgate.ChangeFilter) []*patchgate.Change

func (c changesFunc) FindChanges(_ context.Context, f patchgate.ChangeFilter) ([]*patchgate.Change, int, error) {
	out := c(f)
	return out, len(out), nil
}

type verifierFunc func(ch *patchgate.Change, trigger string) error

func (v verifierFunc) Verify(_ context.Context, ch *patchgate.Change, trigger string) (*patchgate.Verification, error) {
	if err := v(ch, trigger); err != nil {
		return nil, err
	}
	return &patchgate.Verification{ID: 1, SHA: ch.HeadSHA}, nil
}

func TestApplyCheckAction(t *testing.T) {
	head := strings.Repeat("a", 40)
	repo := &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments"}
	ours := &patchgate.ForgeCheckRun{ID: 5, Name: "patchgate/verdict", HeadSHA: head, AppID: 9}
	roles := map[string]patchgate.RepoRole{
		"alice":   {Login: "alice", UserID: 1, Role: "admin"},
		"bob":     {Login: "bob", UserID: 2, Role: "write"},
		"trusted": {Login: "trusted", UserID: 3, Role: "read"},
	}
	open := &patchgate.Change{Forge: patchgate.GitHub, Repo: repo.Name, Kind: patchgate.ChangePullRequest, Number: 7, State: patchgate.ChangeOpen, HeadSHA: head}
	closed := &patchgate.Change{Forge: patchgate.GitHub, Repo: repo.Name, Kind: patchgate.ChangePullRequest, Number: 8, State: patchgate.ChangeClosed, HeadSHA: head}
	push := &patchgate.Change{Forge: patchgate.GitHub, Repo: repo.Name, Kind: patchgate.ChangePush, State: patchgate.ChangeOpen, HeadSHA: head}
	tests := []struct {
		name       string
		identifier string
		sender     string
		senderID   int64
		forge      *stubForge
		changes    []*patchgate.Change
		wantVerify *patchgate.Change
		wantReason string // "" for processed
		wantErr    bool
	}{
		{name: "admin re-runs the open PR", sender: "alice", senderID: 1, changes: []*patchgate.Change{push, open}, wantVerify: open},
		{name: "configured maintainer", sender: "trusted", senderID: 3, changes: []*patchgate.Change{open}, wantVerify: open},
		{name: "push head", sender: "alice", senderID: 1, changes: []*patchgate.Change{push}, wantVerify: push},
		{name: "writer refused", sender: "bob", senderID: 2, changes: []*patchgate.Change{open}, wantReason: "does not maintain"},
		{name: "sender id differs", sender: "alice", senderID: 2, changes: []*patchgate.Change{open}, wantReason: "is account 1"},
		{name: "unknown login", sender: "carol", senderID: 4, wantReason: "has no account carol"},
		{name: "other identifier", identifier: "fix", sender: "alice", senderID: 1, wantReason: `"fix" is not patchgate's`},
		{name: "only a closed change", sender: "alice", senderID: 1, changes: []*patchgate.Change{closed}, wantReason: "no change's current head"},
		{name: "token mode", sender: "alice", senderID: 1, forge: &stubForge{}, wantReason: "GitHub App"},
		{name: "another App's run", sender: "alice", senderID: 1, forge: &stubForge{appID: 10, run: ours, roles: roles}, wantReason: "not to patchgate's App 10"},
		{name: "forge down", sender: "alice", senderID: 1, forge: &stubForge{appID: 9, runErr: errors.New("connection refused")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forge := tt.forge
			if forge == nil {
				forge = &stubForge{appID: 9, run: ours, roles: roles}
			}
			if tt.identifier == "" {
				tt.identifier = patchgate.CheckActionRerun
			}
			var verified *patchgate.Change
			a := &Actions{
				Forges: map[patchgate.Forge]Forge{patchgate.GitHub: forge},
				People: peopleFunc(func(id int64) bool { return id == 3 }),
				Changes: changesFunc(func(f patchgate.ChangeFilter) []*patchgate.Change {
					if f.HeadSHA == nil || *f.HeadSHA != head {
						t.Errorf("changes looked up at %v, want the run's head %s", f.HeadSHA, head)
					}
					return tt.changes
				}),
				Verifier: verifierFunc(func(ch *patchgate.Change, trigger string) error {
					verified = ch
					return nil
				}),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			ev := &patchgate.Event{Forge: patchgate.GitHub, Kind: patchgate.EventCheckAction, Repo: repo.Name, Sender: tt.sender,
				// The payload claims another head; the run's own counts.
				CheckAction: &patchgate.CheckActionEvent{CheckRunID: 5, HeadSHA: strings.Repeat("b", 40), Identifier: tt.identifier, SenderID: tt.senderID}}
			outcome, reason, err := a.ApplyCheckAction(context.Background(), repo, ev)
			switch {
			case tt.wantErr:
				if err == nil {
					t.Fatalf("got %s %q, want an error to retry", outcome, reason)
				}
			case tt.wantReason != "":
				if err != nil || outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, tt.wantReason) {
					t.Fatalf("got %s %q %v, want ignored saying %q", outcome, reason, err, tt.wantReason)
				}
				if verified != nil {
					t.Fatalf("verified %s, want nothing verified", verified.Ref())
				}
			default:
				if err != nil || outcome != patchgate.OutcomeProcessed {
					t.Fatalf("got %s %q %v, want processed", outcome, reason, err)
				}
				if verified != tt.wantVerify {
					t.Fatalf("verified %v, want %v", verified, tt.wantVerify)
				}
			}
		})
	}
}
