package verification

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/patchgate/patchgate"
)

// Recorder records verifications and supersedes those of old heads.
type Recorder interface {
	CreateVerification(ctx context.Context, v *patchgate.Verification) (stored *patchgate.Verification, created bool, err error)
	SupersedeVerifications(ctx context.Context, changeID int64, head, reason string) (cancelled []int64, err error)
	FindVerificationByID(ctx context.Context, id int64) (*patchgate.Verification, error)
}

// Reporter tells the forge about verifications that never reach a worker
// (queued, superseded, waiting for a maintainer).
type Reporter interface {
	Queued(ctx context.Context, v *patchgate.Verification)
	Verdict(ctx context.Context, v *patchgate.Verification)
}

// Vouches says whether a maintainer's ok-to-test acted on exactly a commit.
type Vouches interface {
	VouchedFor(ctx context.Context, forge patchgate.Forge, repo, sha string) (bool, error)
}

// Verifier verifies changes' heads: on a new head, on a re-run, on a
// maintainer's ok-to-test. Set the fields, then use it from any number of
// goroutines.
type Verifier struct {
	Verifications Recorder
	Queue         patchgate.VerificationQueue
	Reporter      Reporter
	Changes       ChangeFinder
	Repos         Repos
	// Vouches, when set, lets a re-run of an untrusted head through once a
	// maintainer vouched for it by comment.
	Vouches Vouches
	Trust   Trust
	Logger  *slog.Logger
}

// VerifyHead plans a verification of ch's current head: it supersedes the
// verifications of older heads (gate invariant 2) and, when the head may run
// (a maintainer's word is needed for changes from forks and untrusted
// authors), records the verification, enqueues it and reports it queued.
// trigger says what asked for it.
func (s *Verifier) VerifyHead(ctx context.Context, ch *patchgate.Change, trigger string) error {
	if ch.HeadSHA == "" || ch.State != patchgate.ChangeOpen {
		return nil
	}
	if err := s.supersede(ctx, ch); err != nil {
		return err
	}
	repo, err := s.Repos.Find(ch.Forge, ch.Repo)
	trusted := err != nil // a repository Find does not know is Verify's to refuse
	if err == nil {
		if trusted, err = s.Trust.TrustedChange(ctx, repo, ch); err != nil {
			return fmt.Errorf("decide whether %s is trusted: %w", ch.Ref(), err)
		}
	}
	if !trusted {
		// Running a stranger's code needs a maintainer's word, for this head
		// only: an ok-to-test that vouched for the head the forge reported
		// before patchgate saw its push lets it run now.
		if vouched, err := s.vouchedFor(ctx, repo, ch); err != nil {
			return err
		} else if vouched {
			_, err := s.Verify(ctx, ch, trigger+", vouched for by ok-to-test")
			return err
		}
		s.Reporter.Verdict(ctx, &patchgate.Verification{
			Forge: ch.Forge, Repo: ch.Repo, SHA: ch.HeadSHA, State: patchgate.RunQueued,
			Reason: "waiting for a maintainer to comment " + patchgate.OkToTestComment + " (changes from forks and untrusted authors)",
		})
		return nil
	}
	_, err = s.Verify(ctx, ch, trigger)
	return err
}

// Verify records a verification of ch's head, whatever triggered it, enqueues
// it and reports it queued; an identical live verification is returned instead
// of a new one. It makes no forge call: a worker reads .patchgate.yml when it
// takes the job (Planner.Plan), retrying while the forge is down, so a
// delivery that gives a change a new head is applied in milliseconds whatever
// the forge does. For a change from a fork the configuration is read at its
// base, never at its own head.
func (s *Verifier) Verify(ctx context.Context, ch *patchgate.Change, trigger string) (*patchgate.Verification, error) {
	ref := ch.HeadSHA
	if ch.FromFork {
		ref = ch.BaseSHA
		if ref == "" {
			ref = ch.TargetBranch
		}
	}
	stored, created, err := s.Verifications.CreateVerification(ctx, &patchgate.Verification{
		Forge:     ch.Forge,
		Repo:      ch.Repo,
		SHA:       ch.HeadSHA,
		ChangeID:  ch.ID,
		ConfigRef: ref,
		Trigger:   trigger,
	})
	if err != nil {
		return nil, fmt.Errorf("record verification of %s at %s: %w", ch.Ref(), ch.HeadSHA, err)
	}
	if !created {
		return stored, nil
	}
	if err := s.Queue.Enqueue(ctx, stored); err != nil {
		return nil, err
	}
	s.Reporter.Queued(ctx, stored)
	return stored, nil
}

// supersede marks the verifications of ch's older heads stale, stops their jobs
// and tells the forge. The tickets they had verified follow when the caller
// reconciles ch's tickets.
func (s *Verifier) supersede(ctx context.Context, ch *patchgate.Change) error {
	cancelled, err := s.Verifications.SupersedeVerifications(ctx, ch.ID, ch.HeadSHA, "superseded by "+patchgate.ShortSHA(ch.HeadSHA))
	if err != nil {
		return fmt.Errorf("supersede verifications of %s: %w", ch.Ref(), err)
	}
	if err := s.Queue.Cancel(ctx, cancelled...); err != nil {
		s.Logger.Warn("cancel superseded jobs", "change", ch.Ref(), "err", err)
	}
	for _, id := range cancelled {
		if v, err := s.Verifications.FindVerificationByID(ctx, id); err == nil {
			s.Reporter.Verdict(ctx, v)
		}
	}
	return nil
}

// Rerun verifies the commit now, for the change whose head it is (a live
// verification of the same commit and configuration is returned as is).
func (s *Verifier) Rerun(ctx context.Context, req patchgate.VerifyRequest) (*patchgate.Verification, error) {
	if !patchgate.ValidSHA(req.SHA) {
		return nil, patchgate.Errorf(patchgate.EINVALID, "sha %q: want a full commit SHA", req.SHA)
	}
	repo, err := s.Repos.Resolve(req.Forge, req.Repo)
	if err != nil {
		return nil, err
	}
	changes, _, err := s.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &repo.Forge, Repo: &repo.Name, HeadSHA: &req.SHA, Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("find changes at %s: %w", req.SHA, err)
	}
	if len(changes) == 0 {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no change in %s has head %s: only a change's current head can be verified", repo.Name, req.SHA)
	}
	ch := changes[0]
	for _, c := range changes {
		if c.Kind != patchgate.ChangePush {
			ch = c
			break
		}
	}
	p, _ := patchgate.PrincipalFromContext(ctx)
	trusted, err := s.Trust.TrustedChange(ctx, repo, ch)
	if err != nil {
		return nil, fmt.Errorf("decide whether %s is trusted: %w", ch.Ref(), err)
	}
	if !trusted {
		if err := s.checkVouched(ctx, repo, ch, p); err != nil {
			return nil, err
		}
	}
	return s.Verify(ctx, ch, "manual by "+p.Name)
}

// checkVouched lets a re-run of an untrusted change's head through only when
// a maintainer vouched for exactly that head (an ok-to-test acted on it) or
// the caller is one: running a stranger's code is a maintainer's decision,
// whether asked by comment or through the API. EFORBIDDEN otherwise.
func (s *Verifier) checkVouched(ctx context.Context, repo *patchgate.Repository, ch *patchgate.Change, p patchgate.Principal) error {
	if person, err := p.Person(repo.Forge); err == nil {
		if ok, err := s.Trust.Maintainer(ctx, repo, person); err != nil {
			return err
		} else if ok {
			return nil
		}
	}
	if vouched, err := s.vouchedFor(ctx, repo, ch); err != nil || vouched {
		return err
	}
	return patchgate.Errorf(patchgate.EFORBIDDEN, "%s at %s comes from a fork or an untrusted author and waits for a maintainer's %s: running it is a maintainer's decision, not a re-run's",
		ch.Ref(), patchgate.ShortSHA(ch.HeadSHA), patchgate.OkToTestComment)
}

// vouchedFor reports whether a maintainer's ok-to-test acted on exactly ch's
// head; without Vouches nobody did.
func (s *Verifier) vouchedFor(ctx context.Context, repo *patchgate.Repository, ch *patchgate.Change) (bool, error) {
	if s.Vouches == nil {
		return false, nil
	}
	vouched, err := s.Vouches.VouchedFor(ctx, repo.Forge, repo.Name, ch.HeadSHA)
	if err != nil {
		return false, fmt.Errorf("find an ok-to-test of %s at %s: %w", ch.Ref(), patchgate.ShortSHA(ch.HeadSHA), err)
	}
	return vouched, nil
}
