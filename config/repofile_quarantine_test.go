package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

const quarantineSuites = "suites:\n  unit:\n    image: golang:1.26\n    run: go test ./...\n"

func TestParseConfigQuarantine(t *testing.T) {
	data := quarantineSuites + `quarantine:
  - test: TestLedgerTiming
    suite: unit
    owner: alice
    ticket: PAY-9
    reason: races the clock
    expires: 2026-12-20
  - test: TestOther
    owner: bob
    ticket: PAY-10
    expires: 2026-12-02T15:00:00Z
`
	cfg, err := config.ParseRepoFile(".patchgate.yml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Quarantine) != 2 {
		t.Fatalf("got %d quarantines, want 2", len(cfg.Quarantine))
	}
	q := cfg.Quarantine[0]
	if q.Test != "TestLedgerTiming" || q.Suite != "unit" || q.Owner != "alice" || q.Ticket != "PAY-9" || q.Reason != "races the clock" ||
		!q.ExpiresAt.Equal(time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)) || q.Source != patchgate.QuarantineConfig || q.Line != 6 {
		t.Errorf("got %+v", q)
	}
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/pay"}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	qs, err := cfg.Quarantines(repo, now)
	if err != nil {
		t.Fatal(err)
	}
	if qs[1].Forge != patchgate.GitHub || qs[1].Repo != "acme/pay" || !qs[1].CreatedAt.Equal(now) {
		t.Errorf("got %+v, want the repository and the time of use filled in", qs[1])
	}
	// The same file used on a date when the expiry is more than 30 days
	// ahead is refused, naming the limit and the place.
	_, err = cfg.Quarantines(repo, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err == nil || !strings.Contains(err.Error(), ".patchgate.yml:6: quarantine[0].expires: ") || !strings.Contains(err.Error(), "at most 30 days") {
		t.Errorf("got %v, want the 30-day limit located at line 6", err)
	}
}

func TestParseConfigQuarantineErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"not a list", "quarantine: {test: TestX}", ".patchgate.yml:5: quarantine: want a list"},
		{"unknown key", "quarantine:\n  - {test: TestX, owner: a, ticket: P-1, expires: 2026-12-20, until: x}", "quarantine[0].until: unknown key (want one of expires, owner, reason, suite, test, ticket)"},
		{"no owner", "quarantine:\n  - {test: TestX, ticket: P-1, expires: 2026-12-20}", "quarantine[0].owner: required"},
		{"no ticket", "quarantine:\n  - {test: TestX, owner: a, expires: 2026-12-20}", "quarantine[0].ticket: required"},
		{"no expiry", "quarantine:\n  - {test: TestX, owner: a, ticket: P-1}", "quarantine[0].expires: required"},
		{"bad expiry", "quarantine:\n  - {test: TestX, owner: a, ticket: P-1, expires: soon}", "quarantine[0].expires: want a date like 2026-12-20"},
		{"unknown suite", "quarantine:\n  - {test: TestX, suite: e2e, owner: a, ticket: P-1, expires: 2026-12-20}", `quarantine[0].suite: no suite named "e2e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.ParseRepoFile(".patchgate.yml", []byte(quarantineSuites+tt.yaml+"\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
