package delivery_test

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/delivery"
)

// enforcementFunc is a function-field Enforcement.
type enforcementFunc func(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error)

func (f enforcementFunc) HandleEnforcement(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	return f(ctx, repo, ev)
}

// TestDispatchEnforcement: deployment and status check events go to the
// enforcement use case with their configured repository; without one they
// are ignored with a reason, and another repository's are ignored before.
func TestDispatchEnforcement(t *testing.T) {
	repos := patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitLab, Name: "acme/api"}})
	var got []patchgate.EventKind
	d := &delivery.Dispatcher{Repos: repos, Enforcement: enforcementFunc(func(_ context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
		if repo.Name != "acme/api" {
			t.Errorf("got repository %s, want acme/api", repo.Name)
		}
		got = append(got, ev.Kind)
		return patchgate.OutcomeProcessed, "", nil
	})}
	ctx := context.Background()
	for _, kind := range []patchgate.EventKind{patchgate.EventDeployment, patchgate.EventStatusCheck} {
		if outcome, _, err := d.HandleEvent(ctx, &patchgate.Event{Forge: patchgate.GitLab, Repo: "ACME/api", Kind: kind}); err != nil || outcome != patchgate.OutcomeProcessed {
			t.Fatalf("%s: got %s, %v; want processed", kind, outcome, err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("got %v, want both events handled", got)
	}
	if outcome, reason, _ := d.HandleEvent(ctx, &patchgate.Event{Forge: patchgate.GitLab, Repo: "acme/other", Kind: patchgate.EventDeployment}); outcome != patchgate.OutcomeIgnored || reason == "" {
		t.Fatalf("another repository: got %s %q, want ignored with a reason", outcome, reason)
	}
	d.Enforcement = nil
	if outcome, reason, _ := d.HandleEvent(ctx, &patchgate.Event{Forge: patchgate.GitLab, Repo: "acme/api", Kind: patchgate.EventStatusCheck}); outcome != patchgate.OutcomeIgnored || reason == "" {
		t.Fatalf("no enforcement: got %s %q, want ignored with a reason", outcome, reason)
	}
}
