package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// Parser parses a stored delivery's payload. It returns a non-empty ignored
// reason for events patchgate does not act on.
type Parser interface {
	Parse(source patchgate.DeliverySource, event string, body []byte) (ev *patchgate.Event, ignored string, err error)
}

// ParseFunc is a function that is a Parser.
type ParseFunc func(source patchgate.DeliverySource, event string, body []byte) (ev *patchgate.Event, ignored string, err error)

// Parse calls f.
func (f ParseFunc) Parse(source patchgate.DeliverySource, event string, body []byte) (*patchgate.Event, string, error) {
	return f(source, event, body)
}

// EventHandler applies one parsed event (Dispatcher).
type EventHandler interface {
	HandleEvent(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error)
}

// Observer is told the outcome of each processed delivery and how long it
// waited in the queue (server.Metrics).
type Observer interface {
	ObserveProcessed(d *patchgate.Delivery, outcome patchgate.DeliveryOutcome, queued time.Duration)
}

// Intake says whether webhook intake is under load (server.Server).
type Intake interface {
	IntakeBusy() bool
}

// Settings tune a Processor; zero values take the defaults Init sets.
type Settings struct {
	// Workers is how many deliveries are applied at once.
	Workers int
	// Poll is how often pending deliveries are looked for without a wake-up.
	Poll time.Duration
	// Attempts is how often a failing delivery is tried before it is marked failed.
	Attempts int
	// Holder names this process in repository leases; it must differ between
	// the processes that share a database.
	Holder string
	// Lease is how long a repository's lease lasts without renewal; it is
	// renewed before a delivery once half of it has passed, so half of it
	// bounds how long one delivery may take before another process may take
	// the repository over (a crashed holder's repositories wait this long).
	Lease time.Duration
	// MaxDefer bounds how long one delivery waits for a busy intake; it keeps
	// the processor going, slowly, under sustained overload.
	MaxDefer time.Duration
}

// Processor applies stored deliveries after they were acknowledged. The database
// is the queue: it works off pending deliveries oldest first, when woken and on
// a poll interval, so a crash loses nothing that was acknowledged. Any number of
// processes may share one database: each applies a repository's deliveries only
// while it holds that repository's lease (DeliveryService.LeaseRepository), so
// a delivery is applied by one of them, once.
type Processor struct {
	Deliveries patchgate.DeliveryService
	// Inbox is where the intake rings; Init makes one when it is nil.
	Inbox  *Inbox
	Parser Parser
	Events EventHandler
	// Observer, when set, is told each processed delivery (metrics).
	Observer Observer
	// Intake, when set, says webhook intake is under load: a worker then
	// waits, before each delivery, until it is not, or for MaxDefer at most,
	// so that acknowledgements keep the CPU and the database writer during a
	// burst and the backlog is worked off after it.
	Intake   Intake
	Logger   *slog.Logger
	Settings Settings

	mu      sync.Mutex
	retryAt map[string]time.Time
	tries   map[string]int
}

// Inbox is where the webhook intake says a delivery was stored, and where
// the processor keeps which repositories' deliveries it is applying. It is
// made before both, so neither needs the other to exist first.
type Inbox struct {
	wake chan struct{}
	mu   sync.Mutex
	// inFlight holds the repositories with a delivery being applied: deliveries
	// of one repository are applied one at a time, so that link extraction always
	// reads the change state its own update left (different repositories run in
	// parallel).
	inFlight map[string]bool
}

// NewInbox returns an empty inbox.
func NewInbox() *Inbox {
	return &Inbox{wake: make(chan struct{}, 1), inFlight: map[string]bool{}}
}

// Notify wakes the processor; it never blocks.
func (b *Inbox) Notify() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// NotifyRepo says a delivery of repo was stored. It wakes the processor
// unless that repository's deliveries are being applied: the scan of pending
// deliveries would skip it anyway, and the worker applying them scans again
// when it is done (processGroup), which finds the new one. Under load this
// spares one scan of the queue per delivery. It never blocks.
func (b *Inbox) NotifyRepo(source patchgate.DeliverySource, repo string) {
	b.mu.Lock()
	busy := b.inFlight[string(source)+":"+strings.ToLower(repo)]
	b.mu.Unlock()
	if !busy {
		b.Notify()
	}
}

// Init prepares the processor; call it before Run.
func (p *Processor) Init() {
	if p.Inbox == nil {
		p.Inbox = NewInbox()
	}
	p.retryAt, p.tries = map[string]time.Time{}, map[string]int{}
	st := &p.Settings
	if st.Workers < 1 {
		st.Workers = 1
	}
	if st.Poll <= 0 {
		st.Poll = 2 * time.Second
	}
	if st.Attempts < 1 {
		st.Attempts = 5
	}
	if st.Lease <= 0 {
		st.Lease = 2 * time.Minute
	}
	if st.MaxDefer <= 0 {
		st.MaxDefer = time.Second
	}
}

// Run processes deliveries until ctx is done, then waits for the deliveries in
// flight to finish.
func (p *Processor) Run(ctx context.Context) {
	work := make(chan leasedGroup)
	var wg sync.WaitGroup
	for range p.Settings.Workers {
		wg.Go(func() {
			for g := range work {
				p.processGroup(context.WithoutCancel(ctx), g)
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	ticker := time.NewTicker(p.Settings.Poll)
	defer ticker.Stop()
	for {
		for p.dispatch(ctx, work) {
		}
		select {
		case <-ctx.Done():
			return
		case <-p.Inbox.wake:
		case <-ticker.C:
		}
		// Under load every accepted delivery wakes the dispatcher; a short pause
		// lets wake-ups coalesce into one scan of the queue.
		select {
		case <-ctx.Done():
			return
		case <-time.After(dispatchPause):
		}
	}
}

// dispatchPause is the least time between two scans of the pending deliveries.
const dispatchPause = 10 * time.Millisecond

// leasedGroup is one repository's pending deliveries, oldest first, and when
// this process's lease on the repository was taken or last renewed.
type leasedGroup struct {
	deliveries []*patchgate.Delivery
	leased     time.Time
}

// dispatch reads a batch of pending deliveries and hands each repository's
// deliveries to one worker as a group, so that a backlog costs one query per
// batch, not one per delivery. It reports whether a full batch was handed out
// (so more may be waiting).
func (p *Processor) dispatch(ctx context.Context, work chan<- leasedGroup) bool {
	const batch = 200
	pending, err := p.Deliveries.PendingDeliveries(ctx, batch)
	if err != nil {
		if ctx.Err() == nil {
			p.Logger.Error("find pending deliveries", "err", err)
		}
		return false
	}
	groups := map[string][]*patchgate.Delivery{}
	var order []string
	now := time.Now()
	p.mu.Lock()
	p.Inbox.mu.Lock()
	for _, d := range pending {
		repo := repoKey(d)
		if p.Inbox.inFlight[repo] || now.Before(p.retryAt[deliveryKey(d)]) {
			continue
		}
		if groups[repo] == nil {
			order = append(order, repo)
		}
		groups[repo] = append(groups[repo], d)
	}
	for _, repo := range order {
		p.Inbox.inFlight[repo] = true
	}
	p.Inbox.mu.Unlock()
	p.mu.Unlock()
	// Another process may be applying a repository's deliveries: leave those to
	// it. A process that cannot lease at all (the database is down) waits for
	// the next scan.
	leased := order[:0]
	leasedAt := map[string]time.Time{}
	for _, repo := range order {
		d := groups[repo][0]
		leasedAt[repo] = time.Now()
		ok, err := p.Deliveries.LeaseRepository(ctx, d.Source, d.Repo, p.Settings.Holder, leasedAt[repo].Add(p.Settings.Lease))
		if err != nil && ctx.Err() == nil {
			p.Logger.Error("lease repository", "repo", d.Repo, "err", err)
		}
		if ok && err == nil {
			leased = append(leased, repo)
			continue
		}
		p.Inbox.mu.Lock()
		delete(p.Inbox.inFlight, repo)
		p.Inbox.mu.Unlock()
	}
	order = leased
	for i, repo := range order {
		select {
		case work <- leasedGroup{deliveries: groups[repo], leased: leasedAt[repo]}:
		case <-ctx.Done():
			for _, r := range order[i:] {
				p.release(groups[r][0])
			}
			return false
		}
	}
	return len(pending) == batch && len(order) > 0
}

// processGroup applies one repository's deliveries in order, renewing the
// repository's lease before a delivery once half of it has passed (a renewal
// is a write transaction; one per delivery was a tenth of the apply path's
// commits), then frees the repository and wakes the dispatcher for what
// arrived meanwhile.
func (p *Processor) processGroup(ctx context.Context, g leasedGroup) {
	group := g.deliveries
	defer func() {
		p.release(group[0])
		p.Inbox.Notify()
	}()
	leased := g.leased
	for _, d := range group {
		if time.Since(leased) >= p.Settings.Lease/2 {
			leased = time.Now()
			ok, err := p.Deliveries.LeaseRepository(ctx, d.Source, d.Repo, p.Settings.Holder, leased.Add(p.Settings.Lease))
			if err != nil || !ok {
				// Lost (it ran out while a delivery took too long) or unknown: the
				// rest waits for whoever holds the repository now.
				p.Logger.Warn("repository lease lost; leaving its deliveries", "repo", d.Repo, "err", err)
				return
			}
		}
		p.yield(ctx)
		p.process(ctx, d)
	}
}

// yield waits while intake is busy, MaxDefer at most.
func (p *Processor) yield(ctx context.Context) {
	if p.Intake == nil || !p.Intake.IntakeBusy() {
		return
	}
	deadline := time.Now().Add(p.Settings.MaxDefer)
	for p.Intake.IntakeBusy() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(yieldPoll)
	}
}

// yieldPoll is how often a deferring worker looks at the intake again.
const yieldPoll = 2 * time.Millisecond

// release gives up this process's lease on d's repository and frees it here.
func (p *Processor) release(d *patchgate.Delivery) {
	if err := p.Deliveries.ReleaseRepository(context.Background(), d.Source, d.Repo, p.Settings.Holder); err != nil {
		p.Logger.Warn("release repository lease", "repo", d.Repo, "err", err)
	}
	p.Inbox.mu.Lock()
	delete(p.Inbox.inFlight, repoKey(d))
	p.Inbox.mu.Unlock()
}

// process applies one delivery and records its outcome. A failure is retried
// with backoff a few times, then recorded as failed with its reason.
func (p *Processor) process(ctx context.Context, d *patchgate.Delivery) {
	key := deliveryKey(d)
	log := p.Logger.With("delivery_id", d.ID, "forge", d.Source, "event", d.Event, "repo", d.Repo)
	outcome, reason, err := p.apply(ctx, d)
	if errors.Is(err, errApplied) {
		log.Debug("delivery already applied by another process")
		return
	}
	if err != nil {
		p.mu.Lock()
		p.tries[key]++
		n := p.tries[key]
		if n < p.Settings.Attempts {
			p.retryAt[key] = time.Now().Add(time.Duration(1<<n) * time.Second)
			p.mu.Unlock()
			log.Warn("delivery failed; will retry", "attempt", n, "err", err)
			return
		}
		delete(p.tries, key)
		delete(p.retryAt, key)
		p.mu.Unlock()
		log.Error("delivery failed", "attempts", n, "err", err)
		outcome, reason = patchgate.OutcomeFailed, err.Error()
	}
	if err := p.Deliveries.FinishDelivery(ctx, d.Source, d.ID, outcome, reason); err != nil {
		log.Error("record delivery outcome", "outcome", outcome, "err", err)
		return
	}
	p.mu.Lock()
	delete(p.tries, key)
	delete(p.retryAt, key)
	p.mu.Unlock()
	if p.Observer != nil {
		p.Observer.ObserveProcessed(d, outcome, time.Since(d.ReceivedAt))
	}
	log.Debug("delivery processed", "outcome", outcome, "reason", reason)
}

// apply parses and applies one stored delivery; a panic is its error.
func (p *Processor) apply(ctx context.Context, d *patchgate.Delivery) (outcome patchgate.DeliveryOutcome, reason string, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic applying delivery: %v", v)
		}
	}()
	full, err := p.Deliveries.FindDelivery(ctx, d.Source, d.ID)
	if err != nil {
		return "", "", fmt.Errorf("load delivery: %w", err)
	}
	if full.Outcome != patchgate.OutcomePending {
		// Read as pending before the lease was taken, and applied meanwhile by
		// the process that held the repository then.
		return "", "", errApplied
	}
	ev, ignored, err := p.Parser.Parse(full.Source, full.Event, full.Payload)
	if err != nil {
		// The payload was verified and parsed once already; a parse error now is
		// permanent, so it is not retried.
		return patchgate.OutcomeFailed, fmt.Sprintf("parse: %v", err), nil
	}
	if ignored != "" {
		return patchgate.OutcomeIgnored, ignored, nil
	}
	return p.Events.HandleEvent(ctx, ev)
}

// errApplied says a delivery was no longer pending when its turn came.
var errApplied = errors.New("delivery already applied")

// deliveryKey identifies a delivery across forges.
func deliveryKey(d *patchgate.Delivery) string { return string(d.Source) + ":" + d.ID }

// repoKey identifies a delivery's repository across forges.
func repoKey(d *patchgate.Delivery) string { return string(d.Source) + ":" + strings.ToLower(d.Repo) }
