// Package delivery orchestrates applying stored webhook deliveries after they
// were acknowledged: the Processor works them off the database in order per
// repository, under repository leases shared by every process, retrying
// failures; the Dispatcher routes each parsed event by kind to the use case
// that applies it (linking, comment commands, tracking).
package delivery

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// Repos finds configured repositories (patchgate.RepositoryDirectory).
type Repos interface {
	Find(forge patchgate.Forge, name string) (*patchgate.Repository, error)
}

// Linker applies forge events to changes, tickets and links
// (linking.Linker).
type Linker interface {
	ApplyChange(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) error
	ApplyPush(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) error
	ApplyIssue(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) error
}

// CommentHandler acts on the commands in comments (commands.Handler).
type CommentHandler interface {
	ApplyComment(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error)
}

// TrackerEvents applies trackers' issue events (tracking.Trackers).
type TrackerEvents interface {
	HandleEvent(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error)
}

// CheckActions acts on the buttons of patchgate's check runs (checks.Actions).
type CheckActions interface {
	ApplyCheckAction(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error)
}

// Enforcement answers the forges' questions that make them enforce the gate
// (enforcement.Deployments, enforcement.StatusChecks).
type Enforcement interface {
	HandleEnforcement(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error)
}

// Dispatcher routes each parsed event to the use case that applies it. Set
// the fields, then use it from any number of goroutines.
type Dispatcher struct {
	Repos    Repos
	Links    Linker
	Commands CommentHandler
	Trackers TrackerEvents
	// Checks is nil unless patchgate runs as a GitHub App.
	Checks CheckActions
	// Enforcement, when set, answers deployment reviews and status checks;
	// unset, they are ignored.
	Enforcement Enforcement
}

// HandleEvent applies one parsed, verified event. It returns the delivery's
// outcome: processed, or ignored with a reason when the event changes nothing
// patchgate tracks. Applying the same event twice, or events out of order,
// leaves the same final state.
func (d *Dispatcher) HandleEvent(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	if ev.Source == patchgate.SourceJira {
		return d.Trackers.HandleEvent(ctx, ev)
	}
	repo, err := d.Repos.Find(ev.Forge, ev.Repo)
	if err != nil {
		return patchgate.OutcomeIgnored, fmt.Sprintf("repository %s is not configured", ev.Repo), nil
	}
	switch ev.Kind {
	case patchgate.EventChange:
		return patchgate.OutcomeProcessed, "", d.Links.ApplyChange(ctx, repo, ev)
	case patchgate.EventPush:
		if ev.Push.Deleted || ev.Push.Branch == "" {
			return patchgate.OutcomeIgnored, "branch deleted or not a branch", nil
		}
		return patchgate.OutcomeProcessed, "", d.Links.ApplyPush(ctx, repo, ev)
	case patchgate.EventIssue:
		return patchgate.OutcomeProcessed, "", d.Links.ApplyIssue(ctx, repo, ev)
	case patchgate.EventComment:
		return d.Commands.ApplyComment(ctx, repo, ev)
	case patchgate.EventCheckAction:
		if d.Checks == nil {
			return patchgate.OutcomeIgnored, "check run actions need patchgate to run as a GitHub App (github.app_id)", nil
		}
		return d.Checks.ApplyCheckAction(ctx, repo, ev)
	case patchgate.EventDeployment, patchgate.EventStatusCheck:
		if d.Enforcement == nil {
			return patchgate.OutcomeIgnored, "forge enforcement is not configured", nil
		}
		return d.Enforcement.HandleEnforcement(ctx, repo, ev)
	}
	return patchgate.OutcomeIgnored, fmt.Sprintf("event kind %q is not used", ev.Kind), nil
}
