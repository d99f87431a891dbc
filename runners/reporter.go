package runners

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// VerdictContext is the commit status context of the overall verdict; each suite
// reports as "patchgate/<suite>".
const VerdictContext = "patchgate/verdict"

// Reporter posts commit statuses. Posting never blocks a run: each (commit,
// context) has its own background sender that posts the newest state it has,
// so a forge outage delays statuses (the forge client retries with backoff)
// while suites keep running, and a state that was overtaken before it was sent
// is never sent: at most two posts per (SHA, context) per run.
type Reporter struct {
	Statuses map[patchgate.Forge]patchgate.StatusPoster
	// PublicURL is patchgate's external URL, for the status links.
	PublicURL string
	Logger    *slog.Logger

	mu      sync.Mutex
	pending map[string]*patchgate.CommitStatus // newest unsent state per key
	wg      sync.WaitGroup
}

// Queued reports a verification waiting for a worker.
func (r *Reporter) Queued(ctx context.Context, v *patchgate.Verification) {
	names := make([]string, len(v.Suites))
	for i, s := range v.Suites {
		names[i] = s.Name
	}
	r.post(v, patchgate.CommitStatus{
		Context:     VerdictContext,
		State:       patchgate.StatusPending,
		Description: "queued: " + strings.Join(names, ", "),
	})
}

// Suite reports one suite's state.
func (r *Reporter) Suite(ctx context.Context, v *patchgate.Verification, s *patchgate.SuiteRun) {
	r.post(v, patchgate.CommitStatus{
		Context:     "patchgate/" + s.Name,
		State:       s.State.StatusState(),
		Description: s.Description,
	})
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
	key := repo.String() + "@" + v.SHA + "/" + st.Context

	r.mu.Lock()
	if r.pending == nil {
		r.pending = map[string]*patchgate.CommitStatus{}
	}
	_, busy := r.pending[key]
	r.pending[key] = &st
	r.mu.Unlock()
	if busy {
		return // the sender for this key will post st next
	}
	r.wg.Go(func() {
		for {
			r.mu.Lock()
			next := r.pending[key]
			if next == nil {
				delete(r.pending, key)
				r.mu.Unlock()
				return
			}
			r.pending[key] = nil
			r.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			err := poster.PostStatus(ctx, repo, v.SHA, *next)
			cancel()
			if err != nil {
				r.Logger.Warn("commit status not posted", "repo", repo.Name, "sha", v.SHA, "context", next.Context,
					"state", next.State, "verification_id", v.ID, "err", err)
			}
		}
	})
}

// Wait waits until every status handed to the reporter was posted or given up.
func (r *Reporter) Wait() { r.wg.Wait() }
