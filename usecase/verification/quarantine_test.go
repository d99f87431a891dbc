package verification_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/verification"
)

// TestPlanCarriesQuarantines: each suite's plan holds the quarantines of
// .patchgate.yml and of the API that can cover it; QuarantinedTests names
// those in force; an entry written for more than 30 days stops the plan,
// naming its line and the limit.
func TestPlanCarriesQuarantines(t *testing.T) {
	ctx := patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: "root", Role: patchgate.RoleAdmin})
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
	qs := store.NewQuarantineService(db)
	if err := qs.CreateQuarantine(ctx, &patchgate.Quarantine{Forge: repo.Forge, Repo: repo.Name, Test: "TestAPI", Owner: "bob", Ticket: "PAY-2",
		ExpiresAt: time.Now().Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	plan := func(until time.Time) ([]patchgate.SuitePlan, *verification.Configs, error) {
		yml := []byte("suites:\n  unit:\n    image: golang:1.26\n    run: go test ./...\n  lint:\n    image: golang:1.26\n    run: go vet ./...\n" +
			"quarantine:\n  - {test: TestConfig, suite: unit, owner: alice, ticket: PAY-9, expires: " + until.UTC().Format(time.RFC3339) + "}\n")
		cfg, err := config.ParseRepoFile(config.RepoFileName, yml)
		if err != nil {
			t.Fatal(err)
		}
		configs := &verification.Configs{Sources: map[patchgate.Forge]patchgate.SourceFetcher{patchgate.GitHub: fileSource{yml}}, APIQuarantines: qs}
		svc := &verification.Planner{
			Configs: configs,
			Changes: store.NewChangeService(db),
			Repos:   patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: repo.Forge, Name: repo.Name}}),
			Logger:  slog.New(slog.DiscardHandler),
		}
		head := sha('a')
		plans, err := svc.Plan(ctx, &patchgate.Verification{Forge: repo.Forge, Repo: repo.Name, SHA: head, ConfigRef: head, ConfigDigest: cfg.Digest})
		return plans, configs, err
	}
	plans, svc, err := plan(time.Now().Add(72 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, p := range plans {
		var tests []string
		for _, q := range p.Quarantines {
			tests = append(tests, q.Test+":"+string(q.Source))
		}
		names[p.Name] = strings.Join(tests, ",")
	}
	if names["unit"] != "TestConfig:config,TestAPI:api" || names["lint"] != "TestAPI:api" {
		t.Errorf("got plan quarantines %v, want unit with both and lint with the API's", names)
	}
	if got, err := svc.QuarantinedTests(ctx, repo, sha('a'), "unit"); err != nil || strings.Join(got, ",") != "TestAPI,TestConfig" {
		t.Errorf("QuarantinedTests(unit) = %v, %v; want TestAPI,TestConfig", got, err)
	}
	_, _, err = plan(time.Now().Add(40 * 24 * time.Hour))
	if err == nil || !strings.Contains(err.Error(), ".patchgate.yml:9: quarantine[0].expires:") || !strings.Contains(err.Error(), "at most 30 days") {
		t.Errorf("got %v, want the 30-day limit at line 9", err)
	}
}
