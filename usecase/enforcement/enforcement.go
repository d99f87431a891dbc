package enforcement

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// Enforcer routes the forges' enforcement questions to their use case: the
// delivery dispatcher's one entry. A nil field ignores its questions.
type Enforcer struct {
	Deployments  *Deployments
	StatusChecks *StatusChecks
}

// HandleEnforcement applies a deployment or status check event.
func (e *Enforcer) HandleEnforcement(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	switch {
	case ev.Kind == patchgate.EventDeployment && ev.Deployment != nil && e.Deployments != nil:
		return e.Deployments.HandleDeployment(ctx, repo, ev)
	case ev.Kind == patchgate.EventStatusCheck && ev.StatusCheck != nil && e.StatusChecks != nil:
		return e.StatusChecks.HandleStatusCheck(ctx, repo, ev)
	}
	return patchgate.OutcomeIgnored, fmt.Sprintf("%s events are not answered here", ev.Kind), nil
}

// Sweep answers what waited: deployments whose decision is now known and
// status checks whose verdict arrived or whose pending answer is about to
// time out. Failures are the use cases' to log; the next sweep retries.
func (e *Enforcer) Sweep(ctx context.Context) {
	if e.Deployments != nil {
		if _, err := e.Deployments.Sweep(ctx); err != nil && ctx.Err() == nil {
			e.Deployments.logger().Warn("sweep of waiting deployments failed", "err", err)
		}
	}
	if e.StatusChecks != nil {
		if err := e.StatusChecks.Sweep(ctx); err != nil && ctx.Err() == nil {
			e.StatusChecks.logger().Warn("sweep of status checks failed", "err", err)
		}
	}
}
