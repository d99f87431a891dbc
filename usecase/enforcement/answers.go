// Package enforcement orchestrates what makes the forges enforce the gate:
// it answers GitHub's deployment protection rule and GitLab's blocked
// deployments (approved only for a promoted release's commit), keeps the
// deployments whose answer is not known yet and answers them when their
// candidate is promoted (or rejects them after 30 days), and answers GitLab's
// external status checks with the merge request head's verdict, never
// leaving one pending long enough for GitLab to fail it unexplained.
package enforcement

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/patchgate/patchgate"
)

// Reviews stores deployment reviews (store.EnforcementService).
type Reviews interface {
	RecordDeploymentReview(ctx context.Context, r *patchgate.DeploymentReview) (*patchgate.DeploymentReview, error)
	PendingDeploymentReviews(ctx context.Context, forge patchgate.Forge, repo string) ([]*patchgate.DeploymentReview, error)
	FindDeploymentReview(ctx context.Context, id int64) (*patchgate.DeploymentReview, error)
	// AnswerDeploymentReview records and audits an answer; false when the
	// review was answered already.
	AnswerDeploymentReview(ctx context.Context, id int64, state patchgate.DeployVerdict, reason patchgate.DeployReason, comment string) (bool, error)
}

// DeploymentReviewer answers a forge's deployment review (forges.GitHub,
// forges.GitLab).
type DeploymentReviewer interface {
	// ReviewDeployment approves or rejects r's deployment with comment.
	ReviewDeployment(ctx context.Context, r *patchgate.DeploymentReview, state patchgate.DeployVerdict, comment string) error
}

// DeploymentReporter, when a forge's reviewer has it, tells a waiting
// deployment why it waits without deciding (GitHub's status report).
type DeploymentReporter interface {
	ReportDeployment(ctx context.Context, r *patchgate.DeploymentReview, comment string) error
}

// Answers gives the forges patchgate's answers to deployment reviews and
// records them. It needs no gate, so that the gate's announcement of a
// promotion can reach it (Promoted). Set the fields, then use it from any
// number of goroutines.
type Answers struct {
	Reviews Reviews
	// Reviewers answer each forge's reviews; a forge without one is answered
	// by nobody and its reviews stay pending.
	Reviewers map[patchgate.Forge]DeploymentReviewer
	// PublicURL is where patchgate's dashboard is, for the link in answers.
	PublicURL string
	Logger    *slog.Logger

	// answering serialises answers in this process, so that a promotion's
	// announcement and a sweep never both answer one deployment (the forge
	// would refuse the second).
	answering sync.Mutex
}

// link is the dashboard page a decision rests on.
func (a *Answers) link(d patchgate.DeployDecision) string {
	base := strings.TrimSuffix(a.PublicURL, "/")
	if base == "" {
		return ""
	}
	if d.Candidate != 0 {
		return fmt.Sprintf("%s/ui/releases/%d", base, d.Candidate)
	}
	return base + "/ui/"
}

// Answer gives the forge d's verdict on r, approved or rejected, and records
// it once; a forge that cannot be reached leaves r pending, to be answered
// again by the next sweep.
func (a *Answers) Answer(ctx context.Context, r *patchgate.DeploymentReview, d patchgate.DeployDecision) error {
	reviewer := a.Reviewers[r.Forge]
	if reviewer == nil {
		return patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured: configure its token to answer deployments", r.Forge)
	}
	a.answering.Lock()
	defer a.answering.Unlock()
	if now, err := a.Reviews.FindDeploymentReview(ctx, r.ID); err != nil {
		return err
	} else if now.State != patchgate.DeployWait {
		return nil // answered meanwhile
	}
	comment := patchgate.RenderDeployDecision(d, a.link(d))
	if err := reviewer.ReviewDeployment(ctx, r, d.Verdict, comment); err != nil {
		err = fmt.Errorf("answer the deployment of %s to %s at %s (%s): %w", r.Repo, r.Environment, patchgate.ShortSHA(r.SHA), d.Verdict, err)
		if !refused(err) {
			return err // the forge may answer next time: the review stays pending
		}
		// Sending it again every sweep for 30 days would be refused each time.
		if _, rerr := a.Reviews.AnswerDeploymentReview(ctx, r.ID, patchgate.DeployUndelivered, d.Reason, comment); rerr != nil {
			return rerr
		}
		return fmt.Errorf("%w; not sent again: check that patchgate's GitHub App (or GitLab user) may review %s's deployments", err, r.Environment)
	}
	if _, err := a.Reviews.AnswerDeploymentReview(ctx, r.ID, d.Verdict, d.Reason, comment); err != nil {
		return err
	}
	a.logger().Info("deployment answered", "repo", r.Repo, "forge", r.Forge, "environment", r.Environment,
		"sha", r.SHA, "state", d.Verdict, "reason", d.Reason)
	return nil
}

// Report tells a waiting deployment why it waits, where the forge can be
// told (GitHub); a failure is logged, the deployment waits either way.
func (a *Answers) Report(ctx context.Context, r *patchgate.DeploymentReview, d patchgate.DeployDecision) {
	reporter, ok := a.Reviewers[r.Forge].(DeploymentReporter)
	if !ok {
		return
	}
	if err := reporter.ReportDeployment(ctx, r, patchgate.RenderDeployDecision(d, a.link(d))); err != nil {
		a.logger().Warn("deployment status report not posted", "repo", r.Repo, "environment", r.Environment, "sha", r.SHA, "err", err)
	}
}

// Announce answers, approved, the deployments waiting for c's commit: c was
// just promoted (gate.Announcer). Failures are logged; the sweep answers
// them later.
func (a *Answers) Announce(ctx context.Context, c *patchgate.Candidate, _ *patchgate.ForgeRelease) {
	pending, err := a.Reviews.PendingDeploymentReviews(ctx, c.Forge, c.Repo)
	if err != nil {
		a.logger().Error("find deployments waiting for a promotion", "repo", c.Repo, "err", err)
		return
	}
	d := patchgate.DecideDeployment(patchgate.DeployRequiresPromoted, c.Repo, c.SHA,
		[]patchgate.DeployCandidate{{ID: c.ID, Name: c.Name, State: patchgate.CandidatePromoted}}, 0)
	for _, r := range pending {
		if r.SHA != c.SHA {
			continue
		}
		if err := a.Answer(ctx, r, d); err != nil {
			a.logger().Error("deployment not answered after promotion; the sweep retries", "repo", r.Repo, "environment", r.Environment, "err", err)
		}
	}
}

// refused reports whether the forge refused an answer for good, as opposed
// to being unreachable or rate-limited (or the token failing, which the
// operator fixes): sending the same answer again cannot help.
func refused(err error) bool {
	switch patchgate.ErrorCode(err) {
	case patchgate.EINVALID, patchgate.EFORBIDDEN, patchgate.ENOTFOUND, patchgate.ECONFLICT:
		return true
	}
	return false
}

func (a *Answers) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}
