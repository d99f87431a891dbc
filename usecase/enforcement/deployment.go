package enforcement

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/patchgate/patchgate"
)

// Repos finds configured repositories (patchgate.RepositoryDirectory).
type Repos interface {
	Find(forge patchgate.Forge, name string) (*patchgate.Repository, error)
}

// Candidates finds release candidates (store.ReleaseService).
type Candidates interface {
	FindCandidates(ctx context.Context, filter patchgate.CandidateFilter) ([]*patchgate.Candidate, int, error)
	FindCandidateByID(ctx context.Context, id int64) (*patchgate.Candidate, error)
}

// Gate evaluates and promotes candidates (gate.Gate).
type Gate interface {
	Evaluate(ctx context.Context, c *patchgate.Candidate) (*patchgate.Evaluation, error)
	Promote(ctx context.Context, id int64, by patchgate.Principal) (*patchgate.Candidate, error)
}

// DeploymentReaders read a deployment back from its forge
// (forges.GitHub, forges.GitLab), per forge.
type DeploymentReader interface {
	ReadDeployment(ctx context.Context, r *patchgate.DeploymentReview) (patchgate.DeploymentFacts, error)
}

// Deployments answers the forges' questions whether a deployment to a
// guarded environment may proceed. Set the fields, then use it from any
// number of goroutines.
type Deployments struct {
	Repos      Repos
	Candidates Candidates
	Gate       Gate
	Answers    *Answers
	// Readers read each deployment back from its forge before it is
	// decided; a forge without one is not answered (a delivery's commit is
	// a claim).
	Readers map[patchgate.Forge]DeploymentReader
	// Now is the clock; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// deployPromoter is who promotes a candidate a deployment promotes
// (deploy_requires: approved): the release managers' approvals authorised
// it, patchgate carries it out.
var deployPromoter = patchgate.Principal{Name: patchgate.AutoProposer, Role: patchgate.RoleReleaseManager}

// HandleDeployment applies a deployment event: a deployment to an
// environment repo guards is recorded and answered, now when its decision is
// known, else when its candidate is promoted. Other environments, and GitLab
// deployments that are not blocked, are ignored.
func (d *Deployments) HandleDeployment(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	dep := ev.Deployment
	if !repo.GuardsEnvironment(dep.Environment) {
		return patchgate.OutcomeIgnored, fmt.Sprintf("environment %q of %s is not in repos[].environments", dep.Environment, repo.Name), nil
	}
	if ev.Forge == patchgate.GitLab && dep.Status != "blocked" {
		return patchgate.OutcomeIgnored, fmt.Sprintf("deployment %d is %s, not blocked", dep.DeploymentID, dep.Status), nil
	}
	asked := &patchgate.DeploymentReview{
		Forge: ev.Forge, Repo: repo.Name, Environment: dep.Environment, SHA: dep.SHA,
		RunID: dep.RunID, DeploymentID: dep.DeploymentID, CallbackURL: dep.CallbackURL, RequestedAt: d.now(),
	}
	if outcome, why, err := d.readBack(ctx, asked); outcome != "" || err != nil {
		return outcome, why, err
	}
	r, err := d.Answers.Reviews.RecordDeploymentReview(ctx, asked)
	if err != nil {
		return "", "", err
	}
	if r.State != patchgate.DeployWait {
		return patchgate.OutcomeIgnored, fmt.Sprintf("deployment review %d was answered %s already", r.ID, r.State), nil
	}
	decision, err := d.decide(ctx, repo, r, true)
	if err != nil {
		return "", "", err
	}
	if decision.Verdict == patchgate.DeployPromote {
		return patchgate.OutcomeProcessed, "", nil // the promotion's announcement answered it
	}
	if decision.Verdict == patchgate.DeployWait {
		d.Answers.Report(ctx, r, decision)
		return patchgate.OutcomeProcessed, "", nil
	}
	return patchgate.OutcomeProcessed, "", d.Answers.Answer(ctx, r, decision)
}

// readBack replaces what a delivery claims of a deployment with what its
// forge says (the commit above all: whoever holds a webhook secret could name
// a promoted commit for a deployment of another). A deployment the forge says
// is not blocked (GitLab) or not in the environment claimed is ignored.
func (d *Deployments) readBack(ctx context.Context, r *patchgate.DeploymentReview) (patchgate.DeliveryOutcome, string, error) {
	reader := d.Readers[r.Forge]
	if reader == nil {
		return patchgate.OutcomeIgnored, fmt.Sprintf("patchgate cannot read deployments of %s back (no API access): a delivery's commit alone is a claim", r.Forge), nil
	}
	facts, err := reader.ReadDeployment(ctx, r)
	if err != nil {
		return "", "", fmt.Errorf("read the deployment of %s to %s back from %s: %w", r.Repo, r.Environment, r.Forge, err)
	}
	if !patchgate.ValidSHA(facts.SHA) {
		return patchgate.OutcomeIgnored, fmt.Sprintf("%s reports no commit for the deployment of %s to %s", r.Forge, r.Repo, r.Environment), nil
	}
	if facts.SHA != r.SHA {
		d.logger().Warn("a deployment delivery named another commit than its forge", "repo", r.Repo, "environment", r.Environment,
			"claimed", r.SHA, "forge", facts.SHA)
		r.SHA = facts.SHA
	}
	if r.Forge == patchgate.GitLab {
		if facts.Status != "blocked" {
			return patchgate.OutcomeIgnored, fmt.Sprintf("GitLab says deployment %d is %s, not blocked", r.DeploymentID, facts.Status), nil
		}
		if facts.Environment != r.Environment {
			return patchgate.OutcomeIgnored, fmt.Sprintf("GitLab says deployment %d is to %q, not %q", r.DeploymentID, facts.Environment, r.Environment), nil
		}
	}
	return "", "", nil
}

// decide decides r from the candidates at its commit, promoting one when
// the repository lets a deployment promote an approved, releasable candidate:
// then the verdict stays DeployPromote, and the promotion's announcement
// (Answers.Announce) has answered r and every other deployment of that commit
// (or the sweep will, if the forge could not be reached).
//
// weigh asks the gate about open candidates (their blockers, their
// approvals): for the first answer, which tells the deployment why it waits,
// and whenever an approved candidate could be promoted; a sweep under
// deploy_requires: promoted needs only the candidates' states, and spares the
// forge the reads of an evaluation.
func (d *Deployments) decide(ctx context.Context, repo *patchgate.Repository, r *patchgate.DeploymentReview, weigh bool) (patchgate.DeployDecision, error) {
	found, _, err := d.Candidates.FindCandidates(ctx, patchgate.CandidateFilter{Forge: &r.Forge, Repo: &r.Repo, SHA: &r.SHA, Limit: 20})
	if err != nil {
		return patchgate.DeployDecision{}, fmt.Errorf("find the candidates at %s: %w", patchgate.ShortSHA(r.SHA), err)
	}
	atSHA := make([]patchgate.DeployCandidate, 0, len(found))
	for _, c := range found {
		dc := patchgate.DeployCandidate{ID: c.ID, Name: c.Name, State: c.State}
		if c.State == patchgate.CandidateOpen && (weigh || repo.DeployRequires == patchgate.DeployRequiresApproved) {
			if dc, err = d.weigh(ctx, c.ID); err != nil {
				return patchgate.DeployDecision{}, err
			}
		}
		atSHA = append(atSHA, dc)
	}
	decision := patchgate.DecideDeployment(repo.DeployRequires, r.Repo, r.SHA, atSHA, d.now().Sub(r.RequestedAt))
	if decision.Verdict != patchgate.DeployPromote {
		return decision, nil
	}
	by := deployPromoter
	by.Users = []patchgate.ForgeUser{{Forge: r.Forge, Login: patchgate.AutoProposer}}
	if _, err := d.Gate.Promote(ctx, decision.Candidate, by); err != nil {
		// The candidate stays approved; the deployment waits for a
		// promotion by hand or the next sweep's.
		d.logger().Warn("deployment could not promote its candidate", "repo", r.Repo, "candidate", decision.Candidate, "err", err)
		decision.Verdict, decision.Reason = patchgate.DeployWait, patchgate.DeployAwaitingPromotion
		decision.Action = patchgate.DeployAwaitingPromotion.Action()
		decision.Message += ", but the promotion failed: " + patchgate.ErrorMessage(err)
		return decision, nil
	}
	return decision, nil
}

// weigh is an open candidate as the decision sees it: the gate's evaluation.
func (d *Deployments) weigh(ctx context.Context, id int64) (patchgate.DeployCandidate, error) {
	c, err := d.Candidates.FindCandidateByID(ctx, id)
	if err != nil {
		return patchgate.DeployCandidate{}, err
	}
	ev, err := d.Gate.Evaluate(ctx, c)
	if err != nil {
		return patchgate.DeployCandidate{}, fmt.Errorf("evaluate candidate %s: %w", c.Name, err)
	}
	return patchgate.DeployCandidate{ID: c.ID, Name: c.Name, State: c.State, Releasable: ev.Releasable,
		Approved: patchgate.EnoughApprovals(c, ev.Needed), Blockers: ev.Blockers}, nil
}

// Sweep decides every waiting deployment again: those whose candidate was
// promoted (where the announcement did not reach them), superseded, or
// waited 30 days are answered. It returns how many it answered.
func (d *Deployments) Sweep(ctx context.Context) (int, error) {
	pending, err := d.Answers.Reviews.PendingDeploymentReviews(ctx, "", "")
	if err != nil {
		return 0, err
	}
	answered := 0
	for _, r := range pending {
		if ctx.Err() != nil {
			return answered, ctx.Err()
		}
		repo, err := d.Repos.Find(r.Forge, r.Repo)
		if err != nil {
			// The repository is no longer configured: nobody else will answer.
			repo = &patchgate.Repository{Forge: r.Forge, Name: r.Repo}
		}
		decision, err := d.decide(ctx, repo, r, false)
		if err == nil && decision.Verdict != patchgate.DeployWait && decision.Verdict != patchgate.DeployPromote {
			err = d.Answers.Answer(ctx, r, decision)
			if err == nil {
				answered++
			}
		}
		if err != nil {
			d.logger().Warn("waiting deployment not decided; retried on the next sweep", "repo", r.Repo, "environment", r.Environment, "sha", r.SHA, "err", err)
		}
	}
	return answered, nil
}

func (d *Deployments) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

func (d *Deployments) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}
