// Package reconcile orchestrates head reconciliation: for every open change
// (PR/MR) and tracked branch of the configured repositories, it asks the forge
// for the change's head and state now and, where they differ from what
// patchgate derived from webhooks (a push missed while patchgate was down),
// stores a delivery of source reconcile that the delivery processor applies
// like a forge's event. The new head is then verified and the old verdict
// stops counting, through the one path that derives heads.
package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// Changes finds stored changes (patchgate.ChangeService).
type Changes interface {
	FindChanges(ctx context.Context, filter patchgate.ChangeFilter) ([]*patchgate.Change, int, error)
}

// Deliveries stores deliveries once by (source, id) (patchgate.DeliveryService).
type Deliveries interface {
	CreateDelivery(ctx context.Context, d *patchgate.Delivery) (created bool, err error)
}

// HeadReader reads a change's or a branch's head from its forge now
// (forges.GitHub, forges.GitLab).
type HeadReader interface {
	ChangeHead(ctx context.Context, repo patchgate.RepoRef, number int) (*patchgate.ForgeHead, error)
	BranchHead(ctx context.Context, repo patchgate.RepoRef, branch string) (*patchgate.ForgeHead, error)
}

// Repos lists the configured repositories (patchgate.RepositoryDirectory).
type Repos interface {
	All() []*patchgate.Repository
}

// Waker wakes the delivery processor (delivery.Inbox).
type Waker interface {
	Notify()
}

// Settings bound a run; zero values take the defaults.
type Settings struct {
	// PageSize is how many stored changes are read at once.
	PageSize int
	// MaxChanges is the most changes one run asks the forges about, so that a
	// run's forge calls stay bounded; the rest wait for the next run.
	MaxChanges int
}

// Default bounds.
const (
	DefaultPageSize   = 100
	DefaultMaxChanges = 500
)

// Reconciler compares the forges' heads with the derived ones. Set the
// fields, then call Run from any number of goroutines or processes: a
// correction is a delivery whose id names the change and the new head, so it
// is stored, and applied, once.
type Reconciler struct {
	Changes    Changes
	Deliveries Deliveries
	// Readers read heads, one per forge; a forge without one is reported.
	Readers  map[patchgate.Forge]HeadReader
	Repos    Repos
	Wake     Waker
	Settings Settings
	Logger   *slog.Logger
	// Redeliver, when set, first asks the forges to redeliver what did not
	// arrive, so that what a redelivery brings is not corrected as missed.
	Redeliver *Redeliverer
}

// Options select what a run looks at.
type Options struct {
	// Repo limits the run to one repository ("" all); Forge to one forge.
	Repo  string
	Forge patchgate.Forge
	// DryRun reports the differences without storing any correction.
	DryRun bool
}

// Problem is a change or repository a run could not check, and why.
type Problem struct {
	Repo   string `json:"repo"`
	Change string `json:"change,omitempty"`
	Error  string `json:"error"`
}

// Report is what one run found.
type Report struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	DryRun     bool      `json:"dry_run"`
	// Checked is how many changes were compared with their forge.
	Checked     int                        `json:"checked"`
	Corrections []patchgate.HeadCorrection `json:"corrections"`
	// Redelivered are the deliveries the forges were asked to send again
	// (on a dry run: would be).
	Redelivered []Redelivery `json:"redelivered"`
	Problems    []Problem    `json:"problems"`
	// Truncated says the run stopped at MaxChanges.
	Truncated bool `json:"truncated"`
}

// Corrected is how many corrections this run stored (not those a dry run
// only found, nor those another run had stored already).
func (r *Report) Corrected() int {
	n := 0
	for _, c := range r.Corrections {
		if c.Applied {
			n++
		}
	}
	return n
}

// Run compares every open change of the selected repositories with its forge
// and stores the corrections. An unreachable forge, or a change the forge no
// longer has, is a Problem in the report, not an error: the other
// repositories are still checked. The error is for the database.
func (r *Reconciler) Run(ctx context.Context, opt Options) (*Report, error) {
	rep := &Report{StartedAt: time.Now().UTC(), DryRun: opt.DryRun, Corrections: []patchgate.HeadCorrection{}, Problems: []Problem{},
		Redelivered: []Redelivery{}}
	if r.Redeliver != nil {
		got, problems, err := r.Redeliver.Run(ctx, opt)
		rep.Redelivered, rep.Problems = got, append(rep.Problems, problems...)
		if err != nil {
			return rep, err
		}
	}
	budget := r.Settings.MaxChanges
	if budget <= 0 {
		budget = DefaultMaxChanges
	}
	matched := false
	for _, repo := range r.Repos.All() {
		if opt.Repo != "" && !equalFold(opt.Repo, repo.Name) || opt.Forge != "" && opt.Forge != repo.Forge {
			continue
		}
		matched = true
		if budget <= 0 {
			rep.Truncated = true // this repository waits for the next run
			break
		}
		reader, ok := r.Readers[repo.Forge]
		if !ok {
			rep.Problems = append(rep.Problems, Problem{Repo: repo.Name,
				Error: fmt.Sprintf("no %s API client is configured; set %s.token to reconcile this repository", repo.Forge, repo.Forge)})
			continue
		}
		var err error
		if budget, err = r.runRepo(ctx, repo, reader, opt, budget, rep); err != nil {
			return rep, err
		}
	}
	if opt.Repo != "" && !matched {
		return rep, patchgate.Errorf(patchgate.ENOTFOUND, "repository %s is not configured; name one of repos[] (patchgate config check lists them)", opt.Repo)
	}
	if len(rep.Corrections) > 0 && !opt.DryRun && r.Wake != nil {
		r.Wake.Notify()
	}
	rep.FinishedAt = time.Now().UTC()
	return rep, nil
}

// runRepo checks repo's open PRs/MRs, then its tracked branches, within
// budget; it returns what is left of the budget.
func (r *Reconciler) runRepo(ctx context.Context, repo *patchgate.Repository, reader HeadReader, opt Options, budget int, rep *Report) (int, error) {
	page := r.Settings.PageSize
	if page <= 0 {
		page = DefaultPageSize
	}
	ref := patchgate.RepoRef{Forge: repo.Forge, Name: repo.Name}
	open := patchgate.ChangeOpen
	for _, kind := range []patchgate.ChangeKind{patchgate.ReviewKind(repo.Forge), patchgate.ChangePush} {
		// Corrections change what the filter matches (a change closes): read
		// every page first, then ask the forge.
		var all []*patchgate.Change
		for offset := 0; len(all) < budget; offset += page {
			got, _, err := r.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &repo.Forge, Repo: &repo.Name,
				Kind: &kind, State: &open, Offset: offset, Limit: page})
			if err != nil {
				return budget, fmt.Errorf("list open changes of %s: %w", ref, err)
			}
			all = append(all, got...)
			if len(got) < page {
				break
			}
		}
		for _, c := range all {
			if budget <= 0 {
				rep.Truncated = true // the rest wait for the next run
				return 0, nil
			}
			budget--
			var head *patchgate.ForgeHead
			var err error
			if kind == patchgate.ChangePush {
				head, err = reader.BranchHead(ctx, ref, c.SourceBranch)
			} else {
				head, err = reader.ChangeHead(ctx, ref, c.Number)
			}
			if err != nil && kind == patchgate.ChangePush && patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
				// A deleted branch: its deletion is not a change to verify
				// (the processor ignores deletions too).
				continue
			}
			if err != nil {
				rep.Problems = append(rep.Problems, Problem{Repo: repo.Name, Change: c.Ref(), Error: err.Error()})
				if patchgate.ErrorCode(err) == patchgate.EUNAVAILABLE || ctx.Err() != nil {
					// The forge is down: asking about its other changes only
					// waits for more timeouts. The next run tries again.
					return budget, nil
				}
				continue
			}
			rep.Checked++
			if err := r.correct(ctx, c, head, opt.DryRun, rep); err != nil {
				return budget, err
			}
		}
	}
	return budget, nil
}

// correct stores the correction of c to head, when they differ.
func (r *Reconciler) correct(ctx context.Context, c *patchgate.Change, head *patchgate.ForgeHead, dryRun bool, rep *Report) error {
	ev, fix := patchgate.ReconcileEvent(c, *head, time.Now())
	if ev == nil {
		return nil
	}
	if !dryRun {
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("encode the correction of %s: %w", c.Ref(), err)
		}
		created, err := r.Deliveries.CreateDelivery(ctx, &patchgate.Delivery{
			ID: fix.DeliveryID, Source: patchgate.SourceReconcile, Event: ev.Name, Action: ev.Action, Repo: c.Repo,
			Status: patchgate.DeliveryAccepted, Outcome: patchgate.OutcomePending, Payload: payload, ReceivedAt: time.Now().UTC(),
		})
		if err != nil {
			return fmt.Errorf("store the correction of %s: %w", c.Ref(), err)
		}
		fix.Applied = created
		if created && r.Logger != nil {
			r.Logger.Info("reconciled a change with its forge", "change", fix.Change, "stored_head", fix.StoredHead,
				"forge_head", fix.ForgeHead, "stored_state", fix.StoredState, "forge_state", fix.ForgeState)
		}
	}
	rep.Corrections = append(rep.Corrections, *fix)
	return nil
}

// Parse decodes a stored reconcile delivery's payload into its event; it is
// the delivery processor's parser for source reconcile.
func Parse(body []byte) (*patchgate.Event, error) {
	var ev patchgate.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "reconcile delivery: %v; it was written by another patchgate version, run patchgate reconcile again", err)
	}
	if ev.Source != patchgate.SourceReconcile || (ev.Change == nil) == (ev.Push == nil) {
		return nil, patchgate.Errorf(patchgate.EINVALID, "reconcile delivery: not a change or push correction; run patchgate reconcile again")
	}
	return &ev, nil
}

// Parser is the delivery processor's parser with reconcile deliveries added:
// Next parses the forges' and trackers' (patchgate.WebhookSources).
type Parser struct {
	Next interface {
		Parse(source patchgate.DeliverySource, event string, body []byte) (*patchgate.Event, string, error)
	}
}

// Parse parses a stored delivery of any source.
func (p Parser) Parse(source patchgate.DeliverySource, event string, body []byte) (*patchgate.Event, string, error) {
	if source == patchgate.SourceReconcile {
		ev, err := Parse(body)
		return ev, "", err
	}
	return p.Next.Parse(source, event, body)
}

// Summary is the report summed up for the dashboard and /metrics.
func (r *Report) Summary() patchgate.ReconcileRun {
	redelivered := len(r.Redelivered)
	if r.DryRun {
		redelivered = 0
	}
	return patchgate.ReconcileRun{FinishedAt: r.FinishedAt, Checked: r.Checked, Corrected: r.Corrected(), Problems: len(r.Problems),
		Redelivered: redelivered}
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
