// Package checks orchestrates the buttons patchgate's check runs offer on
// GitHub (App mode): "Re-run" verifies the run's commit again, for a
// maintainer only. The delivery that says someone pressed it is a claim:
// the check run and the presser's role are read back from GitHub first.
package checks

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/patchgate/patchgate"
)

// Forge reads back what a requested_action delivery claims (forges.GitHub in
// App mode).
type Forge interface {
	// AppID is patchgate's App: only its check runs are patchgate's.
	AppID() int64
	CheckRun(ctx context.Context, repo patchgate.RepoRef, id int64) (*patchgate.ForgeCheckRun, error)
	RepoRole(ctx context.Context, repo patchgate.RepoRef, login string) (patchgate.RepoRole, error)
}

// People says who maintains a repository by patchgate's configuration
// (people.Directory): its trusted users and the forge's release managers.
type People interface {
	Maintainer(ctx context.Context, repo *patchgate.Repository, userID int64) (bool, error)
}

// Changes finds the changes whose current head a commit is.
type Changes interface {
	FindChanges(ctx context.Context, filter patchgate.ChangeFilter) ([]*patchgate.Change, int, error)
}

// HeadVerifier verifies a change's head now (verification.Verifier).
type HeadVerifier interface {
	Verify(ctx context.Context, ch *patchgate.Change, trigger string) (*patchgate.Verification, error)
}

// Actions acts on the buttons of patchgate's check runs. Set the fields,
// then use it from any number of goroutines.
type Actions struct {
	// Forges read check runs and roles back, per forge; a forge without one
	// refuses every action.
	Forges   map[patchgate.Forge]Forge
	People   People
	Changes  Changes
	Verifier HeadVerifier
	Logger   *slog.Logger
}

// ApplyCheckAction acts on a pressed button: "Re-run" verifies the check
// run's commit again, as a re-run of the change whose current head it is,
// when the presser maintains the repository, on the forge (maintain or
// admin) or in patchgate's configuration (a trusted user or release
// manager, by user id). Everything else is ignored with its reason.
func (a *Actions) ApplyCheckAction(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	act := ev.CheckAction
	if act.Identifier != patchgate.CheckActionRerun {
		return patchgate.OutcomeIgnored, fmt.Sprintf("check run action %q is not patchgate's", act.Identifier), nil
	}
	forge := a.Forges[repo.Forge]
	if forge == nil || forge.AppID() == 0 {
		return patchgate.OutcomeIgnored, fmt.Sprintf("%s check run actions need patchgate to run as a GitHub App (github.app_id)", repo.Forge), nil
	}
	ref := repo.Ref()
	run, err := forge.CheckRun(ctx, ref, act.CheckRunID)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return patchgate.OutcomeIgnored, fmt.Sprintf("check run %d is not on %s", act.CheckRunID, repo.Name), nil
	} else if err != nil {
		return "", "", fmt.Errorf("read check run %d of %s back: %w", act.CheckRunID, repo.Name, err)
	}
	if run.AppID != forge.AppID() {
		return patchgate.OutcomeIgnored, fmt.Sprintf("check run %d (%s) belongs to App %d, not to patchgate's App %d", run.ID, run.Name, run.AppID, forge.AppID()), nil
	}
	if ok, reason, err := a.mayRerun(ctx, repo, forge, ev); err != nil || !ok {
		return patchgate.OutcomeIgnored, reason, err
	}
	changes, _, err := a.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &repo.Forge, Repo: &repo.Name, HeadSHA: &run.HeadSHA, Limit: 10})
	if err != nil {
		return "", "", fmt.Errorf("find changes at %s: %w", run.HeadSHA, err)
	}
	ch := headChange(changes)
	if ch == nil {
		return patchgate.OutcomeIgnored, fmt.Sprintf("%s is no change's current head in %s: only a current head is verified again", patchgate.ShortSHA(run.HeadSHA), repo.Name), nil
	}
	v, err := a.Verifier.Verify(ctx, ch, "re-run by "+ev.Sender+" (check run button)")
	if err != nil {
		return "", "", fmt.Errorf("re-run %s at %s: %w", ch.Ref(), patchgate.ShortSHA(run.HeadSHA), err)
	}
	a.Logger.Info("check run re-run", "repo", repo.Name, "change", ch.Ref(), "verification_id", v.ID, "by", ev.Sender)
	return patchgate.OutcomeProcessed, "", nil
}

// mayRerun checks the presser: the forge says which account the login is
// now and its role; that account must be the one the delivery names, and a
// maintainer. It returns the refusal's reason.
func (a *Actions) mayRerun(ctx context.Context, repo *patchgate.Repository, forge Forge, ev *patchgate.Event) (bool, string, error) {
	if ev.Sender == "" {
		return false, "check run action names no sender", nil
	}
	role, err := forge.RepoRole(ctx, repo.Ref(), ev.Sender)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return false, fmt.Sprintf("re-run refused: %s has no account %s", repo.Forge, ev.Sender), nil
	} else if err != nil {
		return false, "", fmt.Errorf("read %s's role on %s: %w", ev.Sender, repo.Name, err)
	}
	if role.UserID != ev.CheckAction.SenderID {
		return false, fmt.Sprintf("re-run refused: login %s is account %d on %s, not the sender %d the delivery names", ev.Sender, role.UserID, repo.Forge, ev.CheckAction.SenderID), nil
	}
	if role.MaintainsRepo() {
		return true, "", nil
	}
	if ok, err := a.People.Maintainer(ctx, repo, role.UserID); err != nil {
		return false, "", err
	} else if ok {
		return true, "", nil
	}
	return false, fmt.Sprintf("re-run refused: %s (forge user id %d, role %s) does not maintain %s: it takes the maintain or admin role, or being a trusted user or release manager in patchgate's configuration",
		ev.Sender, role.UserID, role.Role, repo.Name), nil
}

// headChange picks the open pull request among the changes at a head, else
// any open change (a push).
func headChange(changes []*patchgate.Change) *patchgate.Change {
	var found *patchgate.Change
	for _, c := range changes {
		if c.State != patchgate.ChangeOpen && c.Kind != patchgate.ChangePush {
			continue
		}
		if found == nil || found.Kind == patchgate.ChangePush && c.Kind != patchgate.ChangePush {
			found = c
		}
	}
	return found
}
