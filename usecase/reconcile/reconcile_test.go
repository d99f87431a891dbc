package reconcile_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/reconcile"
)

// changes serves fixed open changes, by kind.
type changes map[patchgate.ChangeKind][]*patchgate.Change

func (c changes) FindChanges(_ context.Context, f patchgate.ChangeFilter) ([]*patchgate.Change, int, error) {
	all := c[*f.Kind]
	lo, hi := min(f.Offset, len(all)), min(f.Offset+f.Limit, len(all))
	return all[lo:hi], len(all), nil
}

// deliveries records what is stored, once per id.
type deliveries map[string]*patchgate.Delivery

func (d deliveries) CreateDelivery(_ context.Context, x *patchgate.Delivery) (bool, error) {
	if _, ok := d[x.ID]; ok {
		return false, nil
	}
	d[x.ID] = x
	return true, nil
}

// reader is a function-field HeadReader; calls counts its calls.
type reader struct {
	change func(number int) (*patchgate.ForgeHead, error)
	calls  *int
}

func (r reader) ChangeHead(_ context.Context, _ patchgate.RepoRef, number int) (*patchgate.ForgeHead, error) {
	*r.calls++
	return r.change(number)
}

func (r reader) BranchHead(context.Context, patchgate.RepoRef, string) (*patchgate.ForgeHead, error) {
	*r.calls++
	return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no branch")
}

type repos []*patchgate.Repository

func (r repos) All() []*patchgate.Repository { return r }

// TestRunReportsAndStops: a forge that is down is reported once and not asked
// about the repository's other changes; a repository whose forge has no
// client is reported; a correction is stored once and parses back into its
// event; an unknown --repo is ENOTFOUND.
func TestRunReportsAndStops(t *testing.T) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	pr := func(repo string, n int) *patchgate.Change {
		return &patchgate.Change{ID: int64(n), Forge: patchgate.GitHub, Repo: repo, Kind: patchgate.ChangePullRequest, Number: n, HeadSHA: a, State: patchgate.ChangeOpen}
	}
	stored := changes{patchgate.ChangePullRequest: {pr("acme/down", 1), pr("acme/down", 2), pr("acme/up", 3)}}
	calls := 0
	r := &reconcile.Reconciler{
		Changes: filtered(stored), Deliveries: deliveries{},
		Readers: map[patchgate.Forge]reconcile.HeadReader{patchgate.GitHub: reader{calls: &calls, change: func(n int) (*patchgate.ForgeHead, error) {
			if n < 3 {
				return nil, patchgate.Errorf(patchgate.EUNAVAILABLE, "github answered 503; retry later")
			}
			return &patchgate.ForgeHead{HeadSHA: b, State: patchgate.ChangeOpen}, nil
		}}},
		Repos: repos{{Forge: patchgate.GitHub, Name: "acme/down"}, {Forge: patchgate.GitHub, Name: "acme/up"}, {Forge: patchgate.GitLab, Name: "acme/gl"}},
	}
	rep, err := r.Run(context.Background(), reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || rep.Checked != 1 || len(rep.Problems) != 2 || rep.Corrected() != 1 {
		t.Fatalf("got %d forge calls, report %+v; want 2 calls (one per repository), 1 checked, 2 problems, 1 corrected", calls, rep)
	}
	if rep.Problems[0].Repo != "acme/down" || rep.Problems[1].Repo != "acme/gl" || !strings.Contains(rep.Problems[1].Error, "gitlab.token") {
		t.Errorf("problems: got %+v, want the forge down, then the missing GitLab client with its fix", rep.Problems)
	}
	d := r.Deliveries.(deliveries)["reconcile:3:"+b]
	if d == nil || d.Source != patchgate.SourceReconcile || d.Outcome != patchgate.OutcomePending {
		t.Fatalf("stored: got %+v, want a pending reconcile delivery", d)
	}
	ev, err := reconcile.Parse(d.Payload)
	if err != nil || ev.Change.HeadSHA != b || ev.Change.BeforeSHA != a || ev.Repo != "acme/up" {
		t.Fatalf("parsed back: got %+v, %v", ev, err)
	}
	if rep, _ := r.Run(context.Background(), reconcile.Options{Repo: "acme/up"}); rep.Corrected() != 0 || len(rep.Corrections) != 1 {
		t.Errorf("second run: got %+v, want the correction found and not stored again", rep)
	}
	if _, err := r.Run(context.Background(), reconcile.Options{Repo: "acme/nope"}); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("unknown repository: got %v, want ENOTFOUND", err)
	}
	if _, err := reconcile.Parse([]byte(`{"source":"github","kind":"change"}`)); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Errorf("a payload that is no correction: got %v, want EINVALID", err)
	}
}

// filtered serves the changes of the filter's repository.
type filtered changes

func (c filtered) FindChanges(ctx context.Context, f patchgate.ChangeFilter) ([]*patchgate.Change, int, error) {
	var in []*patchgate.Change
	for _, x := range c[*f.Kind] {
		if x.Repo == *f.Repo {
			in = append(in, x)
		}
	}
	return changes{*f.Kind: in}.FindChanges(ctx, f)
}
