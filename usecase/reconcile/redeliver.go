package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// HookLog reads a forge's log of deliveries to patchgate's webhook and asks
// for redeliveries (forges.GitHub).
type HookLog interface {
	HookDeliveries(ctx context.Context, repo patchgate.RepoRef, hookURL string, since time.Time, max int) ([]patchgate.HookDelivery, error)
	Redeliver(ctx context.Context, repo patchgate.RepoRef, d patchgate.HookDelivery) error
}

// StoredDeliveries finds stored deliveries (patchgate.DeliveryService).
type StoredDeliveries interface {
	FindDelivery(ctx context.Context, source patchgate.DeliverySource, id string) (*patchgate.Delivery, error)
}

// Redeliverer asks the forges to deliver again what did not reach patchgate
// (it was down, or answered 5xx). What it asks for arrives through the
// webhook intake like any delivery: verified, and deduplicated by its id, so a
// delivery that did arrive is not applied twice, and the deliveries table is
// the progress several instances share.
type Redeliverer struct {
	// Logs read the hook delivery logs, one per forge; GitLab offers none.
	Logs       map[patchgate.Forge]HookLog
	Deliveries StoredDeliveries
	Repos      Repos
	// HookURL is each forge's webhook URL of patchgate (public_url + path).
	HookURL map[patchgate.Forge]string
	// Window is how far back the logs are read (GitHub keeps three days);
	// MaxRedeliveries bounds the requests of one run.
	Window          time.Duration
	MaxRedeliveries int
}

// Redelivery is one delivery the forge was asked to send again.
type Redelivery struct {
	Repo string `json:"repo"`
	patchgate.HookDelivery
}

// Run asks for the redeliveries of the selected repositories' hooks and
// returns them; a forge that cannot be read is a Problem.
func (r *Redeliverer) Run(ctx context.Context, opt Options) ([]Redelivery, []Problem, error) {
	window := r.Window
	if window <= 0 {
		window = 72 * time.Hour
	}
	limit := r.MaxRedeliveries
	if limit <= 0 {
		limit = 100
	}
	out, problems := []Redelivery{}, []Problem{}
	for _, repo := range r.Repos.All() {
		if opt.Repo != "" && !equalFold(opt.Repo, repo.Name) || opt.Forge != "" && opt.Forge != repo.Forge {
			continue
		}
		log, ok := r.Logs[repo.Forge]
		if !ok || r.HookURL[repo.Forge] == "" {
			continue // the forge keeps no log patchgate can read: reconciliation covers it
		}
		ref := patchgate.RepoRef{Forge: repo.Forge, Name: repo.Name}
		entries, err := log.HookDeliveries(ctx, ref, r.HookURL[repo.Forge], time.Now().Add(-window), 10*limit)
		if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
			continue // no hook to patchgate's URL (an App's hook, another URL): heads are still reconciled
		}
		if err != nil {
			problems = append(problems, Problem{Repo: repo.Name, Error: err.Error()})
			continue
		}
		var findErr error
		stored := func(guid string) bool {
			_, err := r.Deliveries.FindDelivery(ctx, patchgate.SourceOf(repo.Forge), guid)
			if err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				findErr = err
				return true // unknown: asking again is not worth a wrong answer
			}
			return err == nil
		}
		picked := patchgate.ToRedeliver(entries, stored, limit-len(out))
		if findErr != nil {
			return out, problems, fmt.Errorf("look deliveries of %s up: %w", ref, findErr)
		}
		if opt.DryRun {
			for _, d := range picked {
				out = append(out, Redelivery{Repo: repo.Name, HookDelivery: d})
			}
			continue
		}
		for _, d := range picked {
			if err := log.Redeliver(ctx, ref, d); err != nil {
				problems = append(problems, Problem{Repo: repo.Name, Change: d.GUID, Error: err.Error()})
				break
			}
			out = append(out, Redelivery{Repo: repo.Name, HookDelivery: d})
		}
		if len(out) >= limit {
			break
		}
	}
	return out, problems, nil
}
