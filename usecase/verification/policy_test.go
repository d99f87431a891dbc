package verification_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/verification"
)

// fileSource serves one .patchgate.yml at every ref.
type fileSource struct{ data []byte }

func (f fileSource) FileAt(context.Context, patchgate.RepoRef, string, string) ([]byte, error) {
	return f.data, nil
}

func (f fileSource) Archive(context.Context, patchgate.RepoRef, string) (io.ReadCloser, error) {
	return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no archives here")
}

// TestPlanPolicy checks what a verification's environments are allowed: egress
// only for a repository the operator allows it, the cache only for trusted
// heads (never a fork's or an untrusted author's).
func TestPlanPolicy(t *testing.T) {
	ctx := context.Background()
	yml := []byte("suites:\n  regression:\n    image: golang:1.26\n    run: go test ./...\n    cache: [/root/.cache/go-build, /go/pkg/mod/]\n")
	cfg, err := config.ParseRepoFile(config.RepoFileName, yml)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	changes := store.NewChangeService(db)
	change := func(n int, author string, fork bool) *patchgate.Change {
		ch, _, err := changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
			Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: n, Title: "fix",
			SourceBranch: "fix", TargetBranch: "main", HeadSHA: sha(byte('a' + n)), Author: author, FromFork: fork,
			State: patchgate.ChangeOpen, UpdatedAt: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	trusted, fork, stranger := change(1, "alice", false), change(2, "alice", true), change(3, "mallory", false)
	for _, egress := range []bool{false, true} {
		svc := &verification.Planner{
			Configs: &verification.Configs{Sources: map[patchgate.Forge]patchgate.SourceFetcher{patchgate.GitHub: fileSource{yml}}},
			Changes: changes,
			Repos: patchgate.NewRepositoryDirectory([]*patchgate.Repository{{
				Forge: patchgate.GitHub, Name: "acme/payments", TrustedUsers: []string{"alice"}, Egress: egress,
			}}),
			Logger: slog.New(slog.DiscardHandler),
		}
		tests := []struct {
			name  string
			ch    *patchgate.Change
			cache bool
		}{
			{"trusted head", trusted, true},
			{"fork", fork, false},
			{"untrusted author", stranger, false},
		}
		for _, tt := range tests {
			v := &patchgate.Verification{Forge: patchgate.GitHub, Repo: "acme/payments", SHA: tt.ch.HeadSHA, ChangeID: tt.ch.ID, ConfigRef: tt.ch.HeadSHA, ConfigDigest: cfg.Digest}
			plans, err := svc.Plan(ctx, v)
			if err != nil {
				t.Fatal(err)
			}
			spec := plans[0].Spec
			if spec.Egress != egress {
				t.Errorf("%s, egress %v: got Egress %v", tt.name, egress, spec.Egress)
			}
			if got := spec.Cache != nil; got != tt.cache {
				t.Errorf("%s: got cache %+v, want cache %v", tt.name, spec.Cache, tt.cache)
			}
			if c := spec.Cache; c != nil && (c.Repo != "github:acme/payments" || c.Suite != "regression" ||
				!slices.Equal(c.Paths, []string{"/root/.cache/go-build", "/go/pkg/mod"})) {
				t.Errorf("%s: got cache %+v", tt.name, c)
			}
		}
	}
}

func TestParseConfigCachePaths(t *testing.T) {
	for _, bad := range []string{"[relative/dir]", "[/]", "[/workspace]", "[/work]", "/not/a/list"} {
		_, err := config.ParseRepoFile(config.RepoFileName, []byte("suites:\n  unit:\n    image: golang:1.26\n    run: go test\n    workdir: /work/src\n    cache: "+bad+"\n"))
		if bad == "[/workspace]" {
			if err != nil {
				t.Errorf("cache %s beside workdir /work/src: got %v, want none", bad, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("cache %s: got no error, want one at suites.unit.cache", bad)
		}
	}
}
