package main

import (
	"context"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/enforcement"
	"github.com/patchgate/patchgate/usecase/gate"
)

// enforcementAnswers makes what answers the forges' deployment reviews: the
// forge clients that can answer them, and the store of reviews. The gate's
// announcement of a promotion reaches it, so it is made before the gate.
func (m *Main) enforcementAnswers(clients forgeAPIs) *enforcement.Answers {
	reviewers := map[patchgate.Forge]enforcement.DeploymentReviewer{}
	for forge, c := range clients.releasers {
		if r, ok := c.(enforcement.DeploymentReviewer); ok {
			reviewers[forge] = r
		}
	}
	return &enforcement.Answers{Reviews: store.NewEnforcementService(m.DB), Reviewers: reviewers,
		PublicURL: m.Config.PublicURL, Logger: m.Logger}
}

// enforcer makes the use cases answering deployments and status checks.
func (m *Main) enforcer(st *stores, repos repositories, clients forgeAPIs, g *gate.Gate, answers *enforcement.Answers) *enforcement.Enforcer {
	readers := map[patchgate.Forge]enforcement.DeploymentReader{}
	for forge, c := range clients.releasers {
		if r, ok := c.(enforcement.DeploymentReader); ok {
			readers[forge] = r
		}
	}
	e := &enforcement.Enforcer{Deployments: &enforcement.Deployments{Repos: repos.dir, Candidates: st.releases, Gate: g,
		Answers: answers, Readers: readers, Logger: m.Logger}}
	if gl, ok := clients.releasers[patchgate.GitLab].(enforcement.StatusCheckAnswerer); ok {
		e.StatusChecks = &enforcement.StatusChecks{Checks: store.NewEnforcementService(m.DB), Verifications: st.verifications,
			GitLab: gl, Logger: m.Logger}
	}
	return e
}

// announcers tell each of theirs every promotion, in order.
type announcers []gate.Announcer

// Announce implements gate.Announcer.
func (as announcers) Announce(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease) {
	for _, a := range as {
		a.Announce(ctx, c, r)
	}
}

// sweepEnforcement answers, every enforcement.sweep_interval, what waited:
// deployments whose decision is now known, status checks whose verdict
// arrived or whose pending answer nears GitLab's two minutes.
func (m *Main) sweepEnforcement(ctx context.Context, e *enforcement.Enforcer) {
	t := time.NewTicker(m.Config.Enforcement.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.Sweep(ctx)
	}
}
