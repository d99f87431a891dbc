package enforcement

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// StatusCheckStore keeps GitLab's status check requests
// (store.EnforcementService).
type StatusCheckStore interface {
	RecordStatusCheck(ctx context.Context, c *patchgate.StatusCheck) (*patchgate.StatusCheck, error)
	FindStatusCheck(ctx context.Context, id int64) (*patchgate.StatusCheck, error)
	OpenStatusChecks(ctx context.Context) ([]*patchgate.StatusCheck, error)
	AnswerStatusCheck(ctx context.Context, id int64, answered patchgate.StatusCheckStatus, final bool) error
}

// VerificationFinder reads the verifications of a commit
// (store.VerificationService).
type VerificationFinder interface {
	FindVerifications(ctx context.Context, filter patchgate.VerificationFilter) ([]*patchgate.Verification, int, error)
}

// StatusCheckAnswerer answers GitLab's external status checks (forges.GitLab).
type StatusCheckAnswerer interface {
	// AnswerStatusCheck sets c's status for its merge request's head.
	AnswerStatusCheck(ctx context.Context, c *patchgate.StatusCheck, status patchgate.StatusCheckStatus) error
	// RetryStatusCheck puts c, failed, back to pending, so it can pass.
	RetryStatusCheck(ctx context.Context, c *patchgate.StatusCheck) error
}

// StatusChecks answers GitLab's external status checks with the verdict of
// the merge request's head. Set the fields, then use it from any number of
// goroutines.
type StatusChecks struct {
	Checks        StatusCheckStore
	Verifications VerificationFinder
	GitLab        StatusCheckAnswerer
	// Now is the clock; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	// mu makes the delivery's answer and the sweep's take turns, each
	// reading the check as the other left it: GitLab is told each thing once.
	mu sync.Mutex
}

// HandleStatusCheck records GitLab's request and answers it.
func (s *StatusChecks) HandleStatusCheck(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	sc := ev.StatusCheck
	c, err := s.Checks.RecordStatusCheck(ctx, &patchgate.StatusCheck{Repo: repo.Name, ProjectID: sc.ProjectID, MRIID: sc.MRIID, SHA: sc.HeadSHA, CheckID: sc.CheckID})
	if err != nil {
		return "", "", err
	}
	if c.Final {
		return patchgate.OutcomeIgnored, fmt.Sprintf("status check %d on !%d at %s was answered %s already", c.CheckID, c.MRIID, patchgate.ShortSHA(c.SHA), c.Answered), nil
	}
	return patchgate.OutcomeProcessed, "", s.answer(ctx, c)
}

// answer tells GitLab what it does not know yet about c: the verdict once
// there is one (after a retry, when patchgate had answered failed for want of
// it), pending at first, failed once pending has lasted
// StatusCheckPendingLimit, before GitLab fails it on its own.
func (s *StatusChecks) answer(ctx context.Context, c *patchgate.StatusCheck) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.Checks.FindStatusCheck(ctx, c.ID)
	if err != nil {
		return err
	}
	if c.Final {
		return nil // answered for good while this waited its turn
	}
	vs, _, err := s.Verifications.FindVerifications(ctx, patchgate.VerificationFilter{Forge: ptr(patchgate.GitLab), Repo: &c.Repo, SHA: &c.SHA, Limit: 20})
	if err != nil {
		return fmt.Errorf("find verifications of %s at %s: %w", c.Repo, patchgate.ShortSHA(c.SHA), err)
	}
	evidence := make([]patchgate.VerdictEvidence, len(vs))
	for i, v := range vs {
		evidence[i] = patchgate.VerdictEvidence{State: v.State, Stale: v.Stale}
	}
	head, _, _ := patchgate.HeadVerdict(evidence)
	status, final := patchgate.StatusCheckAnswer(head)
	switch {
	case final && c.Answered == patchgate.StatusCheckFailed && status == patchgate.StatusCheckFailed:
		// GitLab shows failed already; only the record changes.
		return s.Checks.AnswerStatusCheck(ctx, c.ID, status, true)
	case final && (c.Answered == patchgate.StatusCheckFailed || s.timedOut(c)):
		if err := s.GitLab.RetryStatusCheck(ctx, c); err != nil {
			return fmt.Errorf("retry status check %d on %s!%d: %w", c.CheckID, c.Repo, c.MRIID, err)
		}
	case final:
	case c.Answered == "":
	case c.Answered == patchgate.StatusCheckPending && s.now().Sub(c.RequestedAt) >= patchgate.StatusCheckPendingLimit:
		status = patchgate.StatusCheckFailed
	default:
		return nil // pending, within the limit, or failed until a verdict comes
	}
	if err := s.GitLab.AnswerStatusCheck(ctx, c, status); err != nil {
		return fmt.Errorf("answer status check %d on %s!%d at %s with %s: %w", c.CheckID, c.Repo, c.MRIID, patchgate.ShortSHA(c.SHA), status, err)
	}
	s.logger().Info("status check answered", "repo", c.Repo, "mr", c.MRIID, "sha", c.SHA, "check", c.CheckID, "status", status, "final", final)
	return s.Checks.AnswerStatusCheck(ctx, c.ID, status, final)
}

// Sweep answers again every status check without a final answer: verdicts
// that arrived, and pending answers about to time out. Failures are logged
// and retried on the next sweep.
func (s *StatusChecks) Sweep(ctx context.Context) error {
	open, err := s.Checks.OpenStatusChecks(ctx)
	if err != nil {
		return err
	}
	for _, c := range open {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.now().Sub(c.RequestedAt) >= patchgate.StatusCheckMaxAge {
			if err := s.Checks.AnswerStatusCheck(ctx, c.ID, c.Answered, true); err != nil {
				return err
			}
			continue
		}
		if err := s.answer(ctx, c); err != nil {
			s.logger().Warn("status check not answered; retried on the next sweep", "repo", c.Repo, "mr", c.MRIID, "err", err)
		}
	}
	return nil
}

// timedOut reports whether GitLab has failed c on its own: its last answer
// was pending, given StatusCheckGitLabTimeout ago or longer (patchgate was
// down, or the forge unreachable, when it should have answered failed).
func (s *StatusChecks) timedOut(c *patchgate.StatusCheck) bool {
	return c.Answered == patchgate.StatusCheckPending && c.AnsweredAt != nil &&
		s.now().Sub(*c.AnsweredAt) >= patchgate.StatusCheckGitLabTimeout
}

func ptr[T any](v T) *T { return &v }

func (s *StatusChecks) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *StatusChecks) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
