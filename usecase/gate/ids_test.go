package gate_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/usecase/gate"
)

// TestCommitAuthorUnderANewLoginCannotApprove: dev opened #1 and wrote its
// fix commit. After dev renames the account, a token pinned to the new
// login is still dev (the forge maps the commit to the same user id) and may
// not approve; whoever registers the released login "dev" wrote nothing and
// may. Approvals count per id: the newcomer and ops are two people.
func TestCommitAuthorUnderANewLoginCannotApprove(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.forge.AddCommit(relRepo, w.cand, map[string][]byte{".patchgate.yml": []byte(strings.Replace(releaseConfig, "approvals: 1", "approvals: 2", 1))}, "two", "ops", w.merge)
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	dev := w.forge.AddUser("dev")
	// The PR's events name its opener by id too.
	if _, _, err := w.changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: relRepo,
		Kind: patchgate.ChangePullRequest, Number: 1, Author: "dev", AuthorID: dev, State: patchgate.ChangeMerged,
		UpdatedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	gh, err := forges.NewGitHub(forges.Config{BaseURL: w.forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	w.gate.Authorship = &gate.AuthorRule{Comparers: map[patchgate.Forge]patchgate.Comparer{patchgate.GitHub: gh},
		Branches: w.changes, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c := w.candidate()

	w.forge.RenameUser("dev", "dev-renamed")
	newcomer := w.forge.AddUser("dev")
	pinned := func(login string, id int64) patchgate.Principal {
		p := w.person(login)
		p.Users[0].UserID = id
		return p
	}
	tests := []struct {
		name string
		by   patchgate.Principal
		want string // in the refusal; "" when the approval counts
	}{
		{"dev under the new login", pinned("dev-renamed", dev), fmt.Sprintf("dev-renamed (id %d) wrote #1", dev)},
		{"the newcomer under the released login", pinned("dev", newcomer), ""},
		{"ops, who wrote the candidate's own commit", pinned("ops", w.forge.AddUser("ops")), "wrote commits v1.1.0 newly contains"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := w.gate.Approve(ctx, c.ID, "", tt.by, "api")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want the approval", err)
				}
				return
			}
			if patchgate.ErrorCode(err) != patchgate.EFORBIDDEN || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want forbidden saying %q", err, tt.want)
			}
		})
	}
	authors, err := w.gate.Authors(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, a := range authors {
		listed = append(listed, a.Labelled())
	}
	// dev is listed once, under the login #1 was opened with: the commits'
	// "dev-renamed" is the same id.
	want := fmt.Sprintf("dev (id %d), dev@example.com, ops (id %d), ops@example.com", dev, w.forge.AddUser("ops"))
	if got := strings.Join(listed, ", "); got != want {
		t.Fatalf("authors: got %s, want %s", got, want)
	}
}
