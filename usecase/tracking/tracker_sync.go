package tracking

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// TrackerSite is one external tracker: its API, and the transitions to apply
// when a ticket reaches a state.
type TrackerSite struct {
	Name        string
	API         patchgate.TrackerAPI
	Transitions map[patchgate.TicketState]string
	// ReadTimeout bounds one read of an issue (default 5s).
	ReadTimeout time.Duration
}

// TrackerSync keeps external trackers and patchgate in step, in the
// background: it reads an issue the first time patchgate sees its key, and
// as the ticket's state and evidence change it keeps one comment on the issue
// with the evidence and applies the configured transitions. Work is per
// ticket key, coalesced (a report always says the newest state, and states
// overtaken while a report was being sent are never sent) and retried with
// backoff, so a tracker outage delays the tracker, never patchgate's own
// processing. Call Start before use and Close to stop and wait.
type TrackerSync struct {
	Tickets       TicketFinder
	Links         LinkFinder
	Verifications VerificationFinder // nil: verdicts are not shown
	// Updater applies what an issue read from its tracker says.
	Updater TicketUpdater
	// Site returns the tracker of a ticket key (PAY-7), nil when none is
	// configured for its project.
	Site func(key string) *TrackerSite
	// SLA returns a ticket's SLA status now; nil shows none.
	SLA    func(t *patchgate.Ticket) patchgate.SLAStatus
	Logger *slog.Logger
	Retry  Retry

	mu          sync.Mutex
	pending     map[string]*syncWork
	posted      map[string]string                // key → last comment body posted
	transitions map[string]patchgate.TicketState // key → state last transitioned for
	releases    map[int64]string                 // ticket id → release line
	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// TicketFinder reads tickets.
type TicketFinder interface {
	FindTicket(ctx context.Context, tracker patchgate.Tracker, key string) (*patchgate.Ticket, error)
	FindTicketByID(ctx context.Context, id int64) (*patchgate.Ticket, error)
}

// LinkFinder reads a ticket's links.
type LinkFinder interface {
	FindLinks(ctx context.Context, filter patchgate.LinkFilter) ([]*patchgate.Link, error)
}

// VerificationFinder reads verdicts.
type VerificationFinder interface {
	FindVerifications(ctx context.Context, filter patchgate.VerificationFilter) ([]*patchgate.Verification, int, error)
}

// TicketUpdater applies a tracker's news about a ticket (Trackers).
type TicketUpdater interface {
	UpdateTicket(ctx context.Context, u patchgate.TicketUpdate) (*patchgate.Ticket, error)
}

// Retry bounds the tries of one piece of work: Attempts (default 8), the
// first wait Backoff between them, doubled each time (default 1s, at most 1m).
type Retry struct {
	Attempts int
	Backoff  time.Duration
}

// syncWork is what is due for one key; running says a sender owns the key.
type syncWork struct {
	read, report, running bool
}

// CommentMarker is in patchgate's comment on an issue: Jira's anchor macro,
// which renders as nothing.
const CommentMarker = "{anchor:patchgate-evidence}"

// Start prepares the sync; work handed to it before is dropped.
func (s *TrackerSync) Start() {
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.pending, s.posted = map[string]*syncWork{}, map[string]string{}
	s.transitions, s.releases = map[string]patchgate.TicketState{}, map[int64]string{}
	if s.Retry.Attempts <= 0 {
		s.Retry.Attempts = 8
	}
	if s.Retry.Backoff <= 0 {
		s.Retry.Backoff = time.Second
	}
}

// Close stops retrying and waits for the work in flight.
func (s *TrackerSync) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// Wait waits until no work is pending (for tests).
func (s *TrackerSync) Wait() { s.wg.Wait() }

// Referenced is told every ticket a forge event referenced: an external
// ticket no tracker has told patchgate about yet is read from its tracker.
func (s *TrackerSync) Referenced(t *patchgate.Ticket) {
	if t.Tracker == patchgate.TrackerExternal && t.ForgeUpdatedAt.IsZero() {
		s.enqueue(t.Key, true, false)
	}
}

// Changed is told every ticket that was reconciled: its tracker gets the
// newest state and evidence, when they differ from what it was last sent.
func (s *TrackerSync) Changed(t *patchgate.Ticket) {
	if t.Tracker == patchgate.TrackerExternal {
		s.enqueue(t.Key, false, true)
	}
}

// Released is told every promotion: the release and its tag join the
// comments of the tickets it contains.
func (s *TrackerSync) Released(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease) {
	line := fmt.Sprintf("Released in *%s*: tag %s at %s", c.Name, r.Tag, patchgate.ShortSHA(r.SHA))
	if r.URL != "" {
		line += " — " + r.URL
	}
	s.mu.Lock()
	for _, it := range c.Items {
		if it.TicketID != 0 {
			s.releases[it.TicketID] = line
		}
	}
	s.mu.Unlock()
	for _, it := range c.Items {
		t := it.Ticket
		if t == nil && it.TicketID != 0 {
			var err error
			if t, err = s.Tickets.FindTicketByID(ctx, it.TicketID); err != nil {
				s.Logger.Warn("tracker sync: find released ticket", "ticket_id", it.TicketID, "err", err)
				continue
			}
		}
		if t != nil {
			s.Changed(t)
		}
	}
}

func (s *TrackerSync) enqueue(key string, read, report bool) {
	if s.Site == nil || s.Site(key) == nil || s.ctx == nil {
		return
	}
	s.mu.Lock()
	w := s.pending[key]
	if w == nil {
		w = &syncWork{}
		s.pending[key] = w
	}
	w.read, w.report = w.read || read, w.report || report
	start := !w.running
	w.running = true
	s.mu.Unlock()
	if start {
		s.wg.Go(func() { s.run(key) })
	}
}

// run works off key's pending work until there is none.
func (s *TrackerSync) run(key string) {
	for {
		s.mu.Lock()
		w := s.pending[key]
		read, report := w.read, w.report
		w.read, w.report = false, false
		if !read && !report {
			delete(s.pending, key)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		site := s.Site(key)
		if read {
			s.retry(key, "read issue", func(ctx context.Context) error { return s.read(ctx, site, key) })
		}
		if report || read {
			s.retry(key, "report to tracker", func(ctx context.Context) error { return s.report(ctx, site, key) })
		}
	}
}

// retry runs fn until it succeeds, fails permanently, runs out of attempts,
// or the sync is closed.
func (s *TrackerSync) retry(key, what string, fn func(ctx context.Context) error) {
	wait := s.Retry.Backoff
	for attempt := 1; ; attempt++ {
		err := fn(s.ctx)
		if err == nil {
			return
		}
		code := patchgate.ErrorCode(err)
		permanent := code == patchgate.ENOTFOUND || code == patchgate.EUNAUTHORIZED || code == patchgate.EFORBIDDEN || code == patchgate.EINVALID ||
			code == patchgate.EUNPROCESSABLE
		if permanent || attempt >= s.Retry.Attempts || s.ctx.Err() != nil {
			s.Logger.Warn("tracker sync gave up", "ticket", key, "what", what, "attempts", attempt, "err", err)
			return
		}
		s.Logger.Debug("tracker sync failed; will retry", "ticket", key, "what", what, "attempt", attempt, "err", err)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// read reads the issue with the site's timeout and applies what it says.
func (s *TrackerSync) read(ctx context.Context, site *TrackerSite, key string) error {
	timeout := site.ReadTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	issue, err := site.API.ReadIssue(rctx, key)
	if err != nil {
		return err
	}
	issue.Key = key
	u := issue.Update(site.Name)
	_, err = s.Updater.UpdateTicket(patchgate.NewContextWithPrincipal(ctx, patchgate.Principal{Name: site.Name}), u)
	return err
}

// report posts the ticket's evidence as the one comment, when it changed,
// and applies the transition of its state, once per state reached.
func (s *TrackerSync) report(ctx context.Context, site *TrackerSite, key string) error {
	t, err := s.Tickets.FindTicket(ctx, patchgate.TrackerExternal, key)
	if err != nil {
		return err
	}
	if t.ForgeState == string(patchgate.TrackerDeleted) {
		return nil
	}
	if t.State == patchgate.TicketOpen && t.VerifiedAt.IsZero() {
		// Nothing to say yet: no fix has ever been proposed.
		if links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &t.ID, Limit: 1}); err == nil && len(links) == 0 {
			return nil
		}
	}
	body, err := s.comment(ctx, t)
	if err != nil {
		return err
	}
	s.mu.Lock()
	same := s.posted[key] == body
	s.mu.Unlock()
	if !same {
		if err := site.API.UpsertComment(ctx, key, CommentMarker, body); err != nil {
			return fmt.Errorf("comment on %s: %w", key, err)
		}
		s.mu.Lock()
		s.posted[key] = body
		s.mu.Unlock()
	}
	name := site.Transitions[t.State]
	s.mu.Lock()
	done := s.transitions[key] == t.State
	s.mu.Unlock()
	if name == "" || done {
		return nil
	}
	applied, err := site.API.Transition(ctx, key, name)
	if err != nil {
		return fmt.Errorf("transition %s to %q: %w", key, name, err)
	}
	if !applied {
		s.Logger.Info("tracker transition not available", "ticket", key, "transition", name, "state", t.State)
	}
	s.mu.Lock()
	s.transitions[key] = t.State
	s.mu.Unlock()
	return nil
}

// comment is the body of patchgate's comment on t's issue (Jira wiki
// markup): state, SLA, each change that claims the fix with its head and
// verdicts, and the release.
func (s *TrackerSync) comment(ctx context.Context, t *patchgate.Ticket) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n*patchgate*: %s is *%s*", CommentMarker, t.Key, t.State)
	if s.SLA != nil {
		st := s.SLA(t)
		fmt.Fprintf(&b, " — SLA %s", st.State)
		if st.VerifyBy != nil && st.ReleaseBy != nil {
			fmt.Fprintf(&b, " (verify by %s, release by %s)", st.VerifyBy.UTC().Format(time.RFC3339), st.ReleaseBy.UTC().Format(time.RFC3339))
		}
	}
	b.WriteString("\n")
	links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &t.ID, Limit: 100})
	if err != nil {
		return "", fmt.Errorf("find links of %s: %w", t.Key, err)
	}
	seen := map[int64]bool{}
	header := false
	var blockers []patchgate.Blocker
	for _, l := range links {
		ch := l.Change
		if ch == nil || l.Kind != patchgate.LinkFixes || seen[ch.ID] {
			continue
		}
		seen[ch.ID] = true
		if !header {
			b.WriteString("||Change||State||Head||Verdict||Landed as||Verdict||\n")
			header = true
		}
		head, landed := ch.HeadSHA, ch.MergeCommitSHA
		if ch.Kind == patchgate.ChangePush {
			head, landed = l.CommitSHA, l.CommitSHA
		}
		title := strings.NewReplacer("|", "/", "\n", " ").Replace(ch.Title)
		fmt.Fprintf(&b, "|%s %s|%s|%s|%s|%s|%s|\n", ch.Ref(), title, ch.State, shortOr(head), s.verdict(ctx, ch, head),
			shortOr(landed), s.verdict(ctx, ch, landed))
		if s.Verifications != nil && head != "" && (ch.State == patchgate.ChangeOpen || ch.State == patchgate.ChangeMerged) {
			fix := patchgate.Fix{Ticket: t.Key, Change: changeName(ch)}
			blockers = append(blockers, patchgate.HeadBlockers(fix, s.newest(ctx, ch, head), head)...)
		}
	}
	// What holds each fix up, with its code and what to do, as everywhere
	// else patchgate says so.
	if len(blockers) > 0 && t.State != patchgate.TicketReleased {
		b.WriteString("Waiting on:\n")
		for _, bl := range blockers {
			fmt.Fprintf(&b, "* %s ({{%s}}) → %s\n", bl.Message, bl.Code, bl.Action)
		}
	}
	s.mu.Lock()
	rel := s.releases[t.ID]
	s.mu.Unlock()
	if rel != "" && t.State == patchgate.TicketReleased {
		b.WriteString(rel + "\n")
	}
	return b.String(), nil
}

// verdict is the newest verification's state on sha, "-" when none.
func (s *TrackerSync) verdict(ctx context.Context, ch *patchgate.Change, sha string) string {
	if v := s.newest(ctx, ch, sha); v != nil {
		return string(v.State)
	}
	return "-"
}

// newest is the newest verification of sha in ch's repository, nil when
// none (or it cannot be read: the comment says what it knows).
func (s *TrackerSync) newest(ctx context.Context, ch *patchgate.Change, sha string) *patchgate.Verification {
	if s.Verifications == nil || sha == "" {
		return nil
	}
	vs, _, err := s.Verifications.FindVerifications(ctx, patchgate.VerificationFilter{Forge: &ch.Forge, Repo: &ch.Repo, SHA: &sha, Limit: 1})
	if err != nil || len(vs) == 0 {
		return nil
	}
	return vs[0]
}

// changeName is a change as its forge writes it: #42 or !42, or the short
// SHA of a direct push.
func changeName(ch *patchgate.Change) string {
	switch ch.Kind {
	case patchgate.ChangeMergeRequest:
		return fmt.Sprintf("!%d", ch.Number)
	case patchgate.ChangePush:
		return patchgate.ShortSHA(ch.HeadSHA)
	}
	return fmt.Sprintf("#%d", ch.Number)
}

// shortOr is a short SHA, "-" when there is none.
func shortOr(sha string) string {
	if sha == "" {
		return "-"
	}
	return patchgate.ShortSHA(sha)
}
