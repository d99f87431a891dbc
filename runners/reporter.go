package runners

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/patchgate/patchgate"
)

// VerdictContext is the commit status context of the overall verdict; each suite
// reports as "patchgate/<suite>".
const VerdictContext = "patchgate/verdict"

// Reporter posts commit statuses. Posting never blocks a run: statuses go
// through an Outbox keyed by (commit, context), so a forge outage delays them
// while suites keep running, they catch up when the forge is back, and a state
// that was overtaken before it was sent is never sent: at most two posts per
// (SHA, context) per run.
//
// Where a forge has a check run writer (GitHub in App mode), the reporter
// posts check runs there instead of statuses, under the same names: a
// status of the same context would be one anyone with write access can
// also post, and branch protection that requires "patchgate/verdict" is
// satisfied by the check run, which it can bind to the App. Check runs carry
// the summary, the failing tests' annotations and the "Re-run" button.
type Reporter struct {
	Statuses map[patchgate.Forge]patchgate.StatusPoster
	// Checks write check runs, per forge; a forge listed here gets no
	// statuses.
	Checks map[patchgate.Forge]patchgate.CheckRunPoster
	// PublicURL is patchgate's external URL, for the status links.
	PublicURL string
	Logger    *slog.Logger

	once   sync.Once
	outbox *Outbox[statusPost]
}

// statusPost is one status to post on a commit.
type statusPost struct {
	poster patchgate.StatusPoster
	repo   patchgate.RepoRef
	sha    string
	status patchgate.CommitStatus
	// checks and run are set instead of poster in App mode.
	checks patchgate.CheckRunPoster
	run    patchgate.CheckRun
}

func (r *Reporter) box() *Outbox[statusPost] {
	r.once.Do(func() {
		r.outbox = &Outbox[statusPost]{Describe: "commit status", Logger: r.Logger,
			Send: func(ctx context.Context, _ string, p statusPost) error {
				if p.checks != nil {
					return p.checks.PostCheckRun(ctx, p.repo, p.sha, p.run)
				}
				return p.poster.PostStatus(ctx, p.repo, p.sha, p.status)
			}}
	})
	return r.outbox
}

// Queued reports a verification waiting for a worker.
func (r *Reporter) Queued(ctx context.Context, v *patchgate.Verification) {
	names := make([]string, len(v.Suites))
	for i, s := range v.Suites {
		names[i] = s.Name
	}
	desc := "queued: " + strings.Join(names, ", ")
	if len(names) == 0 {
		desc = "queued; .patchgate.yml is read when it starts"
	}
	r.post(v, patchgate.CommitStatus{Context: VerdictContext, State: patchgate.StatusPending, Description: desc})
}

// Suite reports one suite's state; a check run also points at the failed
// tests' files and lines.
func (r *Reporter) Suite(ctx context.Context, v *patchgate.Verification, s *patchgate.SuiteRun) {
	r.postWith(v, patchgate.CommitStatus{
		Context:     "patchgate/" + s.Name,
		State:       s.State.StatusState(),
		Description: s.Description,
	}, patchgate.FailureAnnotations(v.Repo, s.Tests))
}

// Proof reports the verification's fail-to-pass proof (patchgate/proof).
func (r *Reporter) Proof(ctx context.Context, v *patchgate.Verification, p *patchgate.Proof) {
	r.post(v, patchgate.CommitStatus{Context: patchgate.ProofStatusContext, State: p.State.StatusState(), Description: p.Description})
}

// Verdict reports the verification's final state.
func (r *Reporter) Verdict(ctx context.Context, v *patchgate.Verification) {
	r.post(v, patchgate.CommitStatus{Context: VerdictContext, State: v.State.StatusState(), Description: v.Reason})
}

func (r *Reporter) post(v *patchgate.Verification, st patchgate.CommitStatus) {
	r.postWith(v, st, nil)
}

// postWith posts st, as a check run with annotations where the forge has a
// check run writer.
func (r *Reporter) postWith(v *patchgate.Verification, st patchgate.CommitStatus, annotations []patchgate.CheckAnnotation) {
	repo := patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}
	key := repo.String() + "@" + v.SHA + "/" + st.Context
	if checks := r.Checks[v.Forge]; checks != nil {
		r.box().Put(key, statusPost{checks: checks, repo: repo, sha: v.SHA, run: r.checkRun(v, st, annotations)})
		return
	}
	poster := r.Statuses[v.Forge]
	if poster == nil {
		return
	}
	st.Description = patchgate.TruncateStatusDescription(st.Description)
	if r.PublicURL != "" {
		st.TargetURL = fmt.Sprintf("%s/api/v1/verifications/%d", strings.TrimSuffix(r.PublicURL, "/"), v.ID)
	}
	r.box().Put(key, statusPost{poster: poster, repo: repo, sha: v.SHA, status: st})
}

// checkRun is st as a check run of verification v: tied to v by its id,
// linked to v's dashboard page, and offering "Re-run" once it failed.
func (r *Reporter) checkRun(v *patchgate.Verification, st patchgate.CommitStatus, annotations []patchgate.CheckAnnotation) patchgate.CheckRun {
	run := patchgate.CheckRun{Name: st.Context, ExternalID: strconv.FormatInt(v.ID, 10), State: st.State,
		Title: patchgate.TruncateStatusDescription(st.Description), Annotations: annotations}
	if r.PublicURL != "" {
		run.DetailsURL = fmt.Sprintf("%s/ui/verifications/%d", strings.TrimSuffix(r.PublicURL, "/"), v.ID)
	}
	switch {
	case st.State == patchgate.StatusFailure, st.State == patchgate.StatusError, st.State == patchgate.StatusCanceled:
		run.Rerun = true
	case v.ID == 0:
		// No verification yet: a change waiting for a maintainer's
		// ok-to-test, which the button gives as well.
		run.Rerun = true
	}
	run.Summary = patchgate.CheckSummary(st.State, st.Description, run.DetailsURL)
	return run
}

// Wait waits until every status handed to the reporter was posted or given up.
func (r *Reporter) Wait() { r.box().Wait() }

// Close stops retrying statuses the forge refuses and waits for the posts in
// flight; call it at shutdown.
func (r *Reporter) Close() { r.box().Close() }
