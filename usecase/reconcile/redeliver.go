package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// HookLog reads a forge's log of deliveries to patchgate's webhook and asks
// for redeliveries (forges.GitHub, forges.GitLab).
type HookLog interface {
	HookDeliveries(ctx context.Context, repo patchgate.RepoRef, hookURL string, since time.Time, max int) ([]patchgate.HookDelivery, error)
	Redeliver(ctx context.Context, repo patchgate.RepoRef, d patchgate.HookDelivery) error
}

// SharedHookLog is a HookLog whose one hook delivers every repository's
// events (a GitHub App's hook): its log is read once per run, not once per
// repository (forges.GitHub in App mode).
type SharedHookLog interface {
	SharedHook() bool
}

// Claims record who asks for which redelivery, so that the processes sharing
// one database ask for each failed attempt once (store.DeliveryService).
type Claims interface {
	ClaimRedelivery(ctx context.Context, source patchgate.DeliverySource, d patchgate.HookDelivery, holder string, ttl time.Duration) (bool, error)
	ReleaseRedelivery(ctx context.Context, source patchgate.DeliverySource, d patchgate.HookDelivery, holder string) error
	ForgetRedeliveriesBefore(ctx context.Context, t time.Time) (int, error)
}

// StoredDeliveries finds stored deliveries (patchgate.DeliveryService).
type StoredDeliveries interface {
	FindDelivery(ctx context.Context, source patchgate.DeliverySource, id string) (*patchgate.Delivery, error)
}

// Redeliverer asks the forges to deliver again what did not reach patchgate
// (it was down, or answered 5xx). What it asks for arrives through the
// webhook intake like any delivery: verified, and deduplicated by its id, so a
// delivery that did arrive is not applied twice. The progress several
// instances share is in the database: the deliveries stored, and the
// redeliveries asked for (Claims), one process asking for each failed attempt.
type Redeliverer struct {
	// Logs read the hook delivery logs, one per forge.
	Logs       map[patchgate.Forge]HookLog
	Deliveries StoredDeliveries
	Repos      Repos
	// HookURL is each forge's webhook URL of patchgate (public_url + path).
	HookURL map[patchgate.Forge]string
	// Window is how far back the logs are read (GitHub keeps three days);
	// MaxRedeliveries bounds the requests of one run.
	Window          time.Duration
	MaxRedeliveries int
	// Sharing, when its Claims are set, makes one process of those sharing
	// the database ask for each redelivery.
	Sharing Sharing

	// noLog remembers the forges that offer no hook log (a GitLab before
	// 17.x): said once, not asked again by this process.
	noLog sync.Map
}

// Sharing is how processes sharing one database split the redeliveries:
// Claims records who asked for each, Holder names this process. A
// redelivery asked for TTL ago (default an hour) whose attempt is still the
// log's newest was lost by the forge and is asked for again.
type Sharing struct {
	Claims Claims
	Holder string
	TTL    time.Duration
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
	if r.Sharing.Claims != nil && !opt.DryRun {
		if _, err := r.Sharing.Claims.ForgetRedeliveriesBefore(ctx, time.Now().Add(-2*window)); err != nil {
			return nil, nil, err
		}
	}
	out, problems := []Redelivery{}, []Problem{}
	shared := map[patchgate.Forge]bool{}
	for _, repo := range r.Repos.All() {
		if opt.Repo != "" && !equalFold(opt.Repo, repo.Name) || opt.Forge != "" && opt.Forge != repo.Forge {
			continue
		}
		log, ok := r.Logs[repo.Forge]
		if !ok || r.HookURL[repo.Forge] == "" {
			continue // the forge keeps no log patchgate can read: reconciliation covers it
		}
		if _, no := r.noLog.Load(repo.Forge); no {
			continue
		}
		name := repo.Name
		if s, ok := log.(SharedHookLog); ok && s.SharedHook() {
			// One log for all repositories: read once, whatever --repo says
			// (the intake ignores deliveries of repositories it does not serve).
			if shared[repo.Forge] {
				continue
			}
			shared[repo.Forge], name = true, "the "+string(repo.Forge)+" app's hook"
		}
		ref := patchgate.RepoRef{Forge: repo.Forge, Name: repo.Name}
		entries, err := log.HookDeliveries(ctx, ref, r.HookURL[repo.Forge], time.Now().Add(-window), 10*limit)
		if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
			continue // no hook to patchgate's URL (an App's hook, another URL): heads are still reconciled
		}
		var noLog *patchgate.NoHookLogError
		if errors.As(err, &noLog) {
			// Said once (a Problem of this run), then not asked again.
			r.noLog.Store(repo.Forge, true)
			problems = append(problems, Problem{Repo: name, Error: noLog.Error()})
			continue
		}
		if err != nil {
			problems = append(problems, Problem{Repo: name, Error: err.Error()})
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
				out = append(out, Redelivery{Repo: name, HookDelivery: d})
			}
			continue
		}
		for _, d := range picked {
			asked, forgeErr, err := r.redeliver(ctx, log, ref, d)
			if err != nil {
				return out, problems, err
			}
			if forgeErr != nil {
				problems = append(problems, Problem{Repo: name, Change: d.GUID, Error: forgeErr.Error()})
				break
			}
			if asked {
				out = append(out, Redelivery{Repo: name, HookDelivery: d})
			}
		}
		if len(out) >= limit {
			break
		}
	}
	return out, problems, nil
}

// redeliver asks the forge for d, once among the processes sharing the
// database: asked is false when another process claimed d. forgeErr is the
// forge's refusal (the claim is released, so that the next run asks again);
// err is the database's.
func (r *Redeliverer) redeliver(ctx context.Context, log HookLog, ref patchgate.RepoRef, d patchgate.HookDelivery) (asked bool, forgeErr, err error) {
	source := patchgate.SourceOf(ref.Forge)
	if r.Sharing.Claims != nil {
		ttl := r.Sharing.TTL
		if ttl <= 0 {
			ttl = time.Hour
		}
		mine, err := r.Sharing.Claims.ClaimRedelivery(ctx, source, d, r.Sharing.Holder, ttl)
		if err != nil || !mine {
			return false, nil, err
		}
	}
	if forgeErr := log.Redeliver(ctx, ref, d); forgeErr != nil {
		if r.Sharing.Claims != nil {
			if err := r.Sharing.Claims.ReleaseRedelivery(ctx, source, d, r.Sharing.Holder); err != nil {
				return false, forgeErr, err
			}
		}
		return false, forgeErr, nil
	}
	return true, nil, nil
}
