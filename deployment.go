package patchgate

import (
	"fmt"
	"strings"
	"time"
)

// DeployRequirement is what a deployment's commit must be before patchgate
// lets it reach a protected environment (repos[].deploy_requires).
type DeployRequirement string

// Deploy requirements.
const (
	// DeployRequiresPromoted approves only the commit of a promoted candidate:
	// release managers promote first, then deploy.
	DeployRequiresPromoted DeployRequirement = "promoted"
	// DeployRequiresApproved also approves the commit of an approved,
	// releasable candidate, which the deployment then promotes.
	DeployRequiresApproved DeployRequirement = "approved"
)

// Validate reports whether r is a known requirement; "" means promoted.
func (r DeployRequirement) Validate() error {
	switch r {
	case "", DeployRequiresPromoted, DeployRequiresApproved:
		return nil
	}
	return Errorf(EINVALID, "deploy_requires %q: want promoted or approved", string(r))
}

// DeployVerdict is what patchgate answers a forge that asks whether a
// deployment may proceed.
type DeployVerdict string

// Deploy verdicts. Wait keeps the deployment waiting until the decision is
// known; Promote promotes the candidate first, then approves.
const (
	DeployApprove DeployVerdict = "approved"
	DeployReject  DeployVerdict = "rejected"
	DeployWait    DeployVerdict = "pending"
	DeployPromote DeployVerdict = "promote"
	// DeployUndelivered is a review's state when the forge refused its
	// answer for good (the token may not review the rule, the deployment is
	// gone or decided by someone else): it is not sent again.
	DeployUndelivered DeployVerdict = "undelivered"
)

// DeployReason is the stable code of a deployment decision, the word scripts
// and users search for; RenderDeployDecision puts it before the sentence.
type DeployReason string

// Deploy reasons. A deployment refused or kept waiting has a registered
// code (Reasons), whose next action the decision gives.
const (
	DeployOKPromoted          DeployReason = "deploy_promoted"
	DeployOKPromotedByDeploy  DeployReason = "deploy_promoted_by_deployment"
	DeploySHANotPromoted                   = DeployReason(ReasonDeploySHANotPromoted)
	DeployCandidateSuperseded              = DeployReason(ReasonDeployCandidateSuperseded)
	DeployAwaitingPromotion                = DeployReason(ReasonDeployAwaitingPromotion)
	DeployReviewExpired                    = DeployReason(ReasonDeployReviewExpired)
)

// Action is the next step of a deployment refused or kept waiting for r, as
// Reasons registers it; "" for an approval.
func (r DeployReason) Action() string {
	reason, _ := ReasonFor(ReasonCode(r))
	return reason.Action
}

// DeployReviewTimeout is how long a deployment may wait for its decision:
// GitHub's protection rules wait at most 30 days, and a deployment still
// undecided then is rejected rather than left to time out unexplained.
const DeployReviewTimeout = 30 * 24 * time.Hour

// DeployCandidate is one candidate at the deployment's commit, as the
// decision weighs it.
type DeployCandidate struct {
	ID    int64
	Name  string
	State CandidateState
	// Releasable and Approved are the gate's evaluation of an open
	// candidate: no blockers, and enough approvals.
	Releasable bool
	Approved   bool
	Blockers   []Blocker
}

// DeployDecision is the answer to one deployment and why.
type DeployDecision struct {
	Verdict DeployVerdict
	Reason  DeployReason
	// Message says in words what was decided; Action what to do next ("" when
	// nothing is to be done).
	Message string
	Action  string
	// Candidate is the candidate the decision rests on (0 for none).
	Candidate int64
}

// DecideDeployment decides whether a deployment of sha from repo may proceed
// under requires, given every candidate of repo at sha and how long the
// deployment has waited: a promoted candidate approves it; with
// DeployRequiresApproved an open, releasable, approved one is promoted by it;
// an open or promoting one keeps it waiting, up to DeployReviewTimeout; no
// candidate, or only superseded ones, rejects it.
func DecideDeployment(requires DeployRequirement, repo, sha string, atSHA []DeployCandidate, waited time.Duration) DeployDecision {
	short := ShortSHA(sha)
	var waiting *DeployCandidate
	superseded := false
	for i := range atSHA {
		c := &atSHA[i]
		switch c.State {
		case CandidatePromoted:
			return DeployDecision{Verdict: DeployApprove, Reason: DeployOKPromoted, Candidate: c.ID,
				Message: fmt.Sprintf("%s is release %s of %s, promoted in patchgate", short, c.Name, repo)}
		case CandidateSuperseded:
			superseded = true
		default:
			if waiting == nil || c.State == CandidatePromoting {
				waiting = c
			}
		}
	}
	switch {
	case waiting != nil && waiting.State == CandidateOpen && requires == DeployRequiresApproved && waiting.Releasable && waiting.Approved:
		return DeployDecision{Verdict: DeployPromote, Reason: DeployOKPromotedByDeploy, Candidate: waiting.ID,
			Message: fmt.Sprintf("%s is release %s of %s, approved and releasable; this deployment promotes it", short, waiting.Name, repo)}
	case waiting != nil && waited >= DeployReviewTimeout:
		return DeployDecision{Verdict: DeployReject, Reason: DeployReviewExpired, Candidate: waiting.ID,
			Message: fmt.Sprintf("release %s at %s was not promoted within %d days", waiting.Name, short, int(DeployReviewTimeout.Hours()/24)),
			Action:  DeployReviewExpired.Action()}
	case waiting != nil:
		d := DeployDecision{Verdict: DeployWait, Reason: DeployAwaitingPromotion, Candidate: waiting.ID,
			Message: fmt.Sprintf("%s is release candidate %s of %s, not promoted yet", short, waiting.Name, repo),
			Action:  DeployAwaitingPromotion.Action()}
		if len(waiting.Blockers) > 0 {
			coded := make([]string, len(waiting.Blockers))
			for i, b := range waiting.Blockers {
				coded[i] = b.Message + " (" + string(b.Code) + ")"
			}
			d.Message += ": " + strings.Join(coded, "; ")
		} else if !waiting.Approved && waiting.State == CandidateOpen {
			d.Message += ": it needs its approvals"
		}
		return d
	case superseded:
		return DeployDecision{Verdict: DeployReject, Reason: DeployCandidateSuperseded,
			Message: fmt.Sprintf("the release candidate at %s of %s was superseded by a newer one", short, repo),
			Action:  DeployCandidateSuperseded.Action()}
	}
	return DeployDecision{Verdict: DeployReject, Reason: DeploySHANotPromoted,
		Message: fmt.Sprintf("%s is not the commit of a release of %s that patchgate promoted", short, repo),
		Action:  DeploySHANotPromoted.Action()}
}

// maxDeployComment is GitHub's bound on a protection rule's comment.
const maxDeployComment = 1024

// RenderDeployDecision is the comment a forge shows with the answer: the
// code, the sentence, the next step and the link to patchgate's page, within
// the 1,024 characters GitHub takes. It is the one place a decision becomes
// words, so its codes can move to the shared blocker codes in one edit.
func RenderDeployDecision(d DeployDecision, link string) string {
	tail := ""
	if d.Action != "" {
		tail += " Next: " + d.Action + "."
	}
	if link != "" {
		tail += " " + link
	}
	head := "[" + string(d.Reason) + "] " + d.Message + "."
	if len(head)+len(tail) > maxDeployComment {
		head = head[:max(0, maxDeployComment-len(tail)-3)] + "..."
	}
	return head + tail
}

// DeploymentFacts are what the forge's API says of a deployment a delivery
// asks about: the commit it deploys, its environment and status. A
// delivery's own fields are claims: whoever holds a webhook secret could
// name a promoted commit for a deployment of another.
type DeploymentFacts struct {
	SHA         string
	Environment string
	Status      string
}

// DeploymentReview is a forge's question whether a deployment may proceed,
// kept while its answer is not known and after it is given.
type DeploymentReview struct {
	ID          int64  `json:"id"`
	Forge       Forge  `json:"forge"`
	Repo        string `json:"repo"`
	Environment string `json:"environment"`
	SHA         string `json:"sha"`
	// RunID is the GitHub Actions run whose deployment waits (GitHub);
	// DeploymentID the forge's deployment (both forges, when known).
	RunID        int64  `json:"run_id,omitempty"`
	DeploymentID int64  `json:"deployment_id,omitempty"`
	CallbackURL  string `json:"callback_url,omitempty"`
	// State is pending until answered, then approved or rejected.
	State       DeployVerdict `json:"state"`
	Reason      DeployReason  `json:"reason,omitempty"`
	Comment     string        `json:"comment,omitempty"`
	RequestedAt time.Time     `json:"requested_at"`
	AnsweredAt  *time.Time    `json:"answered_at,omitempty"`
}

// GuardsEnvironment reports whether patchgate answers deployments of r to
// environment (repos[].environments, compared case-insensitively as GitHub
// does).
func (r *Repository) GuardsEnvironment(environment string) bool {
	for _, e := range r.Environments {
		if strings.EqualFold(e, environment) {
			return true
		}
	}
	return false
}
