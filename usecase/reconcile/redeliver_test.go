package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/reconcile"
)

// hookLog is a fake forge's delivery log: reads counts the log reads,
// asked the redeliveries; shared makes it an App's one log.
type hookLog struct {
	entries []patchgate.HookDelivery
	err     error
	shared  bool
	reads   int
	asked   []string
}

func (h *hookLog) HookDeliveries(context.Context, patchgate.RepoRef, string, time.Time, int) ([]patchgate.HookDelivery, error) {
	h.reads++
	return h.entries, h.err
}

func (h *hookLog) Redeliver(_ context.Context, _ patchgate.RepoRef, d patchgate.HookDelivery) error {
	h.asked = append(h.asked, d.GUID)
	return nil
}

func (h *hookLog) SharedHook() bool { return h.shared }

// noneStored finds no delivery.
type noneStored struct{}

func (noneStored) FindDelivery(_ context.Context, _ patchgate.DeliverySource, id string) (*patchgate.Delivery, error) {
	return nil, patchgate.Errorf(patchgate.ENOTFOUND, "delivery %s not found", id)
}

// claims is one database's claims, shared by the Redeliverers of a test.
type claims map[int64]string

func (c claims) ClaimRedelivery(_ context.Context, _ patchgate.DeliverySource, d patchgate.HookDelivery, holder string, _ time.Duration) (bool, error) {
	if _, ok := c[d.ID]; ok {
		return false, nil
	}
	c[d.ID] = holder
	return true, nil
}

func (c claims) ReleaseRedelivery(_ context.Context, _ patchgate.DeliverySource, d patchgate.HookDelivery, holder string) error {
	if c[d.ID] == holder {
		delete(c, d.ID)
	}
	return nil
}

func (c claims) ForgetRedeliveriesBefore(context.Context, time.Time) (int, error) { return 0, nil }

func failed(id int64, guid string) patchgate.HookDelivery {
	return patchgate.HookDelivery{ID: id, GUID: guid, StatusCode: 0, DeliveredAt: time.Now().Add(-time.Duration(100-id) * time.Minute)}
}

// TestRedelivererSourcesAndClaims: an App's one log is read once for all its
// repositories; a GitLab without hook events is reported once and then not
// asked again; a second process with the same claims asks for nothing the
// first asked for.
func TestRedelivererSourcesAndClaims(t *testing.T) {
	app := &hookLog{shared: true, entries: []patchgate.HookDelivery{failed(1, "a"), failed(2, "b")}}
	old := &hookLog{err: &patchgate.NoHookLogError{Forge: patchgate.GitLab, Detail: "404 on GET projects/x/hooks/1/events"}}
	shared := claims{}
	newRedeliverer := func(holder string) *reconcile.Redeliverer {
		return &reconcile.Redeliverer{
			Logs:       map[patchgate.Forge]reconcile.HookLog{patchgate.GitHub: app, patchgate.GitLab: old},
			Deliveries: noneStored{},
			Repos: repos{{Forge: patchgate.GitHub, Name: "acme/one"}, {Forge: patchgate.GitHub, Name: "acme/two"},
				{Forge: patchgate.GitLab, Name: "acme/gl-one"}, {Forge: patchgate.GitLab, Name: "acme/gl-two"}},
			HookURL: map[patchgate.Forge]string{patchgate.GitHub: "https://pg/webhooks/github", patchgate.GitLab: "https://pg/webhooks/gitlab"},
			Sharing: reconcile.Sharing{Claims: shared, Holder: holder},
		}
	}
	first := newRedeliverer("p1")
	got, problems, err := first.Run(context.Background(), reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if app.reads != 1 || len(got) != 2 || got[0].Repo != "the github app's hook" {
		t.Fatalf("App log: %d reads, redelivered %+v; want one read, a and b", app.reads, got)
	}
	if old.reads != 1 || len(problems) != 1 || !strings.Contains(problems[0].Error, "does not offer hook events; reconciliation covers heads") {
		t.Fatalf("GitLab without events: %d reads, problems %+v; want one read, said once", old.reads, problems)
	}
	got, problems, err = first.Run(context.Background(), reconcile.Options{})
	if err != nil || old.reads != 1 || len(problems) != 0 {
		t.Fatalf("second run: GitLab read %d times, problems %+v, %v; want not asked again, nothing said", old.reads, problems, err)
	}
	if len(got) != 0 || len(app.asked) != 2 {
		t.Fatalf("second run: redelivered %+v (asked %v); want nothing asked twice", got, app.asked)
	}
	// Another process sharing the database, its log read at the same time.
	if got, _, _ := newRedeliverer("p2").Run(context.Background(), reconcile.Options{}); len(got) != 0 || len(app.asked) != 2 {
		t.Fatalf("another process: redelivered %+v (asked %v); want nothing", got, app.asked)
	}
	if got, _, _ := newRedeliverer("p3").Run(context.Background(), reconcile.Options{DryRun: true}); len(got) != 2 {
		t.Fatalf("dry run: got %+v, want the two it would ask for", got)
	}
}
