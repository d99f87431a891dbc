package verification

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/patchgate/patchgate"
)

// ChangeReconciler re-derives the states of a change's tickets
// (linking.Reconciler).
type ChangeReconciler interface {
	ReconcileChange(ctx context.Context, ch *patchgate.Change, also ...int64) error
}

// CandidateProposer proposes a release when the release branch's new head
// passed (gate.Candidates).
type CandidateProposer interface {
	AutoCandidate(ctx context.Context, branch *patchgate.Change, v *patchgate.Verification)
}

// Verdicts acts on final verdicts: it implements runners.VerdictHandler. Set
// the fields, then use it from any number of goroutines.
type Verdicts struct {
	Changes ChangeFinder
	Tickets ChangeReconciler
	// Releases, when set, proposes candidates on release branches.
	Releases CandidateProposer
	// Bisections, when set, is told every verdict: a failing candidate's
	// run, or a run of one of its prefixes, moves its culprit bisection.
	Bisections VerdictWatcher
	Logger     *slog.Logger
}

// VerdictWatcher is told every final verdict (gate.Bisector).
type VerdictWatcher interface {
	OnVerdict(ctx context.Context, v *patchgate.Verification)
}

// OnVerdict re-derives the states of the tickets a final verdict is evidence
// for: those of the changes whose head it is, and of the changes that were
// merged as it. A branch head that passed may also propose a release.
func (d *Verdicts) OnVerdict(ctx context.Context, v *patchgate.Verification) {
	if err := d.onVerdict(ctx, v); err != nil {
		d.Logger.Error("update tickets after verdict", "verification_id", v.ID, "repo", v.Repo, "err", err)
	}
	if d.Bisections != nil {
		d.Bisections.OnVerdict(ctx, v)
	}
}

func (d *Verdicts) onVerdict(ctx context.Context, v *patchgate.Verification) error {
	changes, _, err := d.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &v.Forge, Repo: &v.Repo, HeadSHA: &v.SHA, Limit: 100})
	if err != nil {
		return fmt.Errorf("find changes at %s: %w", v.SHA, err)
	}
	for _, ch := range changes {
		if err := d.Tickets.ReconcileChange(ctx, ch); err != nil {
			return err
		}
		if ch.Kind == patchgate.ChangePush && v.State == patchgate.RunSuccess && d.Releases != nil {
			d.Releases.AutoCandidate(ctx, ch, v)
		}
	}
	return d.reconcileMergedAs(ctx, v.Forge, v.Repo, v.SHA)
}

// reconcileMergedAs re-derives the tickets of the changes merged as commit sha:
// its verdict is their post-merge evidence.
func (d *Verdicts) reconcileMergedAs(ctx context.Context, forge patchgate.Forge, repo, sha string) error {
	merged := patchgate.ChangeMerged
	changes, _, err := d.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &forge, Repo: &repo, State: &merged, MergeCommitSHA: &sha, Limit: 100})
	if err != nil {
		return fmt.Errorf("find changes merged as %s: %w", patchgate.ShortSHA(sha), err)
	}
	for _, ch := range changes {
		if err := d.Tickets.ReconcileChange(ctx, ch); err != nil {
			return err
		}
	}
	return nil
}
