package runners

import (
	"context"
	"fmt"
	"log/slog"
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
type Reporter struct {
	Statuses map[patchgate.Forge]patchgate.StatusPoster
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
}

func (r *Reporter) box() *Outbox[statusPost] {
	r.once.Do(func() {
		r.outbox = &Outbox[statusPost]{Describe: "commit status", Logger: r.Logger,
			Send: func(ctx context.Context, _ string, p statusPost) error {
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

// Suite reports one suite's state.
func (r *Reporter) Suite(ctx context.Context, v *patchgate.Verification, s *patchgate.SuiteRun) {
	r.post(v, patchgate.CommitStatus{
		Context:     "patchgate/" + s.Name,
		State:       s.State.StatusState(),
		Description: s.Description,
	})
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
	poster := r.Statuses[v.Forge]
	if poster == nil {
		return
	}
	st.Description = patchgate.TruncateStatusDescription(st.Description)
	if r.PublicURL != "" {
		st.TargetURL = fmt.Sprintf("%s/api/v1/verifications/%d", strings.TrimSuffix(r.PublicURL, "/"), v.ID)
	}
	repo := patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}
	r.box().Put(repo.String()+"@"+v.SHA+"/"+st.Context, statusPost{poster: poster, repo: repo, sha: v.SHA, status: st})
}

// Wait waits until every status handed to the reporter was posted or given up.
func (r *Reporter) Wait() { r.box().Wait() }

// Close stops retrying statuses the forge refuses and waits for the posts in
// flight; call it at shutdown.
func (r *Reporter) Close() { r.box().Close() }
