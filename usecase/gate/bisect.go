package gate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/patchgate/patchgate"
)

// BisectRecorder records and stops the verifications of a bisection's
// points (store.VerificationService).
type BisectRecorder interface {
	CreateVerification(ctx context.Context, v *patchgate.Verification) (stored *patchgate.Verification, created bool, err error)
	FinishVerification(ctx context.Context, id int64, state patchgate.RunState, reason string) error
}

// BisectCandidates reads the candidates a bisection is about.
type BisectCandidates interface {
	FindCandidateByID(ctx context.Context, id int64) (*patchgate.Candidate, error)
	FindCandidates(ctx context.Context, filter patchgate.CandidateFilter) ([]*patchgate.Candidate, int, error)
}

// Bisector names the merge a failing candidate fails from, when every fix in
// it passed alone: it verifies the cumulative prefixes of its merges (the
// merge commits of the release branch), one at a time, as patchgate.Bisect
// decides, through the ordinary verification queue and its runner limits.
// It advances on every verdict (OnVerdict) and on every new candidate
// (CandidateCreated), so it holds no goroutine of its own; a new candidate
// or Cancel stops it. Set the fields, then use it from any number of
// goroutines.
type Bisector struct {
	Configs    ConfigReader
	Candidates BisectCandidates
	Evidence   Evidence
	Bisections patchgate.BisectionService
	Runs       BisectRecorder
	Queue      patchgate.VerificationQueue
	// Comparers order the merges as the release branch's history has them.
	Comparers map[patchgate.Forge]patchgate.Comparer
	Logger    *slog.Logger
}

// OnVerdict advances the bisections a final verdict may move: those of the
// repository's open candidates at its commit or already bisecting.
func (b *Bisector) OnVerdict(ctx context.Context, v *patchgate.Verification) {
	open := patchgate.CandidateOpen
	cs, _, err := b.Candidates.FindCandidates(ctx, patchgate.CandidateFilter{Forge: &v.Forge, Repo: &v.Repo, State: &open, Limit: 20})
	if err != nil {
		b.Logger.Error("find candidates to bisect after a verdict", "verification_id", v.ID, "repo", v.Repo, "err", err)
		return
	}
	for _, c := range cs {
		if c.SHA != v.SHA {
			if bis, err := b.Bisections.FindBisection(ctx, c.ID); err != nil || bis.State != patchgate.BisectionRunning {
				continue
			}
		}
		if err := b.Advance(ctx, c.ID); err != nil {
			b.Logger.Error("advance the bisection", "candidate_id", c.ID, "verification_id", v.ID, "repo", v.Repo, "err", err)
		}
	}
}

// CandidateCreated stops the bisections of the candidates c superseded and
// starts c's own when its commit already failed.
func (b *Bisector) CandidateCreated(ctx context.Context, c *patchgate.Candidate) {
	running, err := b.Bisections.RunningBisections(ctx)
	if err != nil {
		b.Logger.Error("list running bisections", "candidate_id", c.ID, "err", err)
	}
	for _, bis := range running {
		if bis.CandidateID == c.ID {
			continue
		}
		if err := b.Advance(ctx, bis.CandidateID); err != nil {
			b.Logger.Error("advance the bisection", "candidate_id", bis.CandidateID, "err", err)
		}
	}
	if err := b.Advance(ctx, c.ID); err != nil {
		b.Logger.Error("advance the bisection", "candidate_id", c.ID, "repo", c.Repo, "err", err)
	}
}

// Start (re)starts candidate id's bisection by hand, after it ended without
// a culprit; EUNPROCESSABLE, saying why, when there is nothing to bisect.
func (b *Bisector) Start(ctx context.Context, id int64, by string) (*patchgate.Bisection, error) {
	c, err := b.Candidates.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s, why, err := b.situation(ctx, c)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, patchgate.Errorf(patchgate.EUNPROCESSABLE, "candidate %s: nothing to bisect: %s", c.Name, why)
	}
	if _, _, err := b.Bisections.StartBisection(ctx, &patchgate.Bisection{CandidateID: id, Points: len(s.points), StartedBy: by}); err != nil {
		return nil, err
	}
	if err := b.Advance(ctx, id); err != nil {
		return nil, err
	}
	return b.Bisections.FindBisection(ctx, id)
}

// Cancel stops candidate id's running bisection and its live runs.
// ECONFLICT when it is not running, ENOTFOUND when there is none.
func (b *Bisector) Cancel(ctx context.Context, id int64, by string) (*patchgate.Bisection, error) {
	c, err := b.Candidates.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := b.stop(ctx, c, patchgate.BisectionCanceled, "canceled by "+by); err != nil {
		return nil, err
	}
	return b.Bisections.FindBisection(ctx, id)
}

// stop ends c's running bisection in state, saying why, and cancels the
// live verifications it started.
func (b *Bisector) stop(ctx context.Context, c *patchgate.Candidate, state patchgate.BisectState, why string) error {
	if err := b.Bisections.FinishBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, State: state, Reason: why}); err != nil {
		return err
	}
	live := []patchgate.RunState{patchgate.RunQueued, patchgate.RunRunning}
	var ids []int64
	for _, st := range live {
		vs, _, err := b.Evidence.FindVerifications(ctx, patchgate.VerificationFilter{Forge: &c.Forge, Repo: &c.Repo, State: &st, Limit: 100})
		if err != nil {
			return fmt.Errorf("find the live runs of the bisection of %s: %w", c.Name, err)
		}
		for _, v := range vs {
			if v.Trigger != patchgate.BisectTrigger(c.Name) {
				continue
			}
			if err := b.Runs.FinishVerification(ctx, v.ID, patchgate.RunCanceled, "bisection "+why); err != nil && patchgate.ErrorCode(err) != patchgate.ECONFLICT {
				return fmt.Errorf("cancel verification %d of the bisection of %s: %w", v.ID, c.Name, err)
			}
			ids = append(ids, v.ID)
		}
	}
	if err := b.Queue.Cancel(ctx, ids...); err != nil {
		b.Logger.Warn("cancel the jobs of a stopped bisection", "candidate_id", c.ID, "err", err)
	}
	return nil
}

// bisectSituation is what a candidate's bisection works on.
type bisectSituation struct {
	c      *patchgate.Candidate
	digest string
	own    *patchgate.Verification
	points []patchgate.BisectPoint
}

// situation says whether c is a candidate to bisect: open, its own run
// failed under its .patchgate.yml, every fix passed alone; why says what is
// missing when not.
func (b *Bisector) situation(ctx context.Context, c *patchgate.Candidate) (s bisectSituation, why string, err error) {
	if c.State != patchgate.CandidateOpen {
		return s, "the candidate is " + string(c.State), nil
	}
	ref := patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}
	cfg, err := b.Configs.Read(ctx, ref, c.SHA)
	if err != nil {
		return s, "no usable .patchgate.yml: " + patchgate.ErrorMessage(err), nil
	}
	s = bisectSituation{c: c, digest: cfg.Digest}
	if s.own, err = b.counted(ctx, c.Forge, c.Repo, c.SHA, cfg.Digest); err != nil {
		return s, "", err
	}
	if s.own == nil || s.own.State != patchgate.RunFailure {
		return s, "its own run did not fail", nil
	}
	for _, item := range c.Items {
		if item.Ticket == nil || item.Change == nil {
			continue
		}
		v, err := b.counted(ctx, item.Change.Forge, item.Change.Repo, item.Change.HeadSHA, cfg.Digest)
		if err != nil {
			return s, "", err
		}
		if v == nil || v.State != patchgate.RunSuccess {
			return s, item.Ticket.Key + "'s fix in " + changeName(item.Change) + " did not pass alone", nil
		}
	}
	if s.points, err = b.points(ctx, c); err != nil {
		return s, "", err
	}
	return s, "", nil
}

// Advance moves candidate id's bisection one step: it starts it when the
// candidate qualifies, verifies the next prefix, or records the culprit or
// why it stopped. A bisection of a candidate that no longer qualifies (a
// newer candidate superseded it) is canceled.
func (b *Bisector) Advance(ctx context.Context, id int64) error {
	c, err := b.Candidates.FindCandidateByID(ctx, id)
	if err != nil {
		return err
	}
	bis, err := b.Bisections.FindBisection(ctx, id)
	if err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		return err
	}
	s, why, err := b.situation(ctx, c)
	if err != nil {
		return err
	}
	if why != "" {
		if bis != nil && bis.State == patchgate.BisectionRunning && c.State != patchgate.CandidateOpen {
			return b.stop(ctx, c, patchgate.BisectionCanceled, "canceled: "+why)
		}
		return nil
	}
	if bis == nil {
		started, _, err := b.Bisections.StartBisection(ctx, &patchgate.Bisection{CandidateID: id, Points: len(s.points), StartedBy: patchgate.SystemActor})
		if err != nil {
			return err
		}
		bis = started
	}
	if bis.State != patchgate.BisectionRunning {
		return nil
	}
	n := len(s.points)
	tried := map[int]patchgate.BisectOutcome{n: patchgate.BisectFailed}
	runs := map[int]*patchgate.Verification{n: s.own}
	for k := 1; k < n; k++ {
		v, err := b.prefixRun(ctx, c, s.points[k-1].SHA, s.digest)
		if err != nil {
			return err
		}
		out := patchgate.PrefixOutcome(v)
		// A run that broke before this bisection was (re)started is run again.
		if out == patchgate.BisectBroken && v.CreatedAt.Before(bis.StartedAt) {
			continue
		}
		tried[k], runs[k] = out, v
	}
	step := patchgate.Bisect(n, tried)
	switch {
	case step.Culprit > 0:
		v := runs[step.Culprit]
		tests, err := b.failingTests(ctx, v)
		if err != nil {
			return err
		}
		culprit := s.points[step.Culprit-1]
		return b.finish(ctx, &patchgate.Bisection{CandidateID: id, State: patchgate.BisectionFound, Culprit: &culprit, Tests: tests, VerificationID: v.ID,
			Reason: fmt.Sprintf("prefix %d of %d fails (verification %d) and the one before it passes", step.Culprit, n, v.ID)})
	case step.Inconclusive > 0:
		k := step.Inconclusive
		why := fmt.Sprintf("%s passes although the candidate fails", s.points[k-1])
		if v := runs[k]; v != nil && v.State != patchgate.RunSuccess {
			why = fmt.Sprintf("verification %d of %s ended %s: %s", v.ID, s.points[k-1], v.State, v.Reason)
		}
		return b.finish(ctx, &patchgate.Bisection{CandidateID: id, State: patchgate.BisectionInconclusive, Reason: why})
	case step.Next > 0 && !step.Waiting:
		return b.verify(ctx, c, s, step.Next)
	}
	return nil
}

// finish records the end of a bisection; one canceled meanwhile stays so.
func (b *Bisector) finish(ctx context.Context, bis *patchgate.Bisection) error {
	if err := b.Bisections.FinishBisection(ctx, bis); err != nil && patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		return err
	}
	return nil
}

// verify queues the verification of prefix k under the candidate's
// .patchgate.yml (read at the candidate's commit, so that its digest is the
// one the gate holds the candidate to).
func (b *Bisector) verify(ctx context.Context, c *patchgate.Candidate, s bisectSituation, k int) error {
	p := s.points[k-1]
	v, created, err := b.Runs.CreateVerification(ctx, &patchgate.Verification{Forge: c.Forge, Repo: c.Repo, SHA: p.SHA,
		ConfigRef: c.SHA, Trigger: patchgate.BisectTrigger(c.Name)})
	if err != nil {
		return fmt.Errorf("record the verification of %s for the bisection of %s: %w", p, c.Name, err)
	}
	if !created {
		return nil
	}
	b.Logger.Info("bisecting a failing release", "candidate_id", c.ID, "repo", c.Repo, "prefix", k, "points", len(s.points), "sha", p.SHA, "verification_id", v.ID)
	return b.Queue.Enqueue(ctx, v)
}

// counted returns the verification of sha that counts under digest
// (patchgate.ReleaseVerdict), nil when none.
func (b *Bisector) counted(ctx context.Context, forge patchgate.Forge, repo, sha, digest string) (*patchgate.Verification, error) {
	vs, _, err := b.Evidence.FindVerifications(ctx, patchgate.VerificationFilter{Forge: &forge, Repo: &repo, SHA: &sha, Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("find verifications of %s: %w", sha, err)
	}
	evidence := make([]patchgate.VerdictEvidence, len(vs))
	for i, v := range vs {
		evidence[i] = patchgate.VerdictEvidence{State: v.State, Stale: v.Stale, ConfigDigest: v.ConfigDigest}
	}
	if i := patchgate.ReleaseVerdict(evidence, digest); i >= 0 {
		return vs[i], nil
	}
	return nil, nil
}

// prefixRun is the run of prefix sha that speaks for the bisection: the one
// that counts under digest, or the bisection's own while not planned yet.
func (b *Bisector) prefixRun(ctx context.Context, c *patchgate.Candidate, sha, digest string) (*patchgate.Verification, error) {
	vs, _, err := b.Evidence.FindVerifications(ctx, patchgate.VerificationFilter{Forge: &c.Forge, Repo: &c.Repo, SHA: &sha, Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("find verifications of %s: %w", sha, err)
	}
	for _, v := range vs {
		if v.State == patchgate.RunCanceled || v.Stale {
			continue
		}
		if v.ConfigDigest == digest || (v.ConfigDigest == "" && !v.State.Final() && v.Trigger == patchgate.BisectTrigger(c.Name)) {
			return v, nil
		}
	}
	return nil, nil
}

// failingTests names the required tests that failed in v, each once; the
// failed suites when their runs name no test.
func (b *Bisector) failingTests(ctx context.Context, v *patchgate.Verification) ([]string, error) {
	var tests, suites []string
	for _, s := range v.Suites {
		if !s.Required || s.State != patchgate.RunFailure {
			continue
		}
		suites = append(suites, "`"+s.Name+"`")
		ts, err := b.Evidence.FindTests(ctx, s.ID)
		if err != nil {
			return nil, fmt.Errorf("read the tests of suite %s of verification %d: %w", s.Name, v.ID, err)
		}
		for _, t := range ts {
			if (t.Status == patchgate.TestFailed || t.Status == patchgate.TestErrored) && !t.Flaky && !t.Quarantined && !slices.Contains(tests, t.Name) {
				tests = append(tests, t.Name)
			}
		}
	}
	if len(tests) == 0 {
		return suites, nil
	}
	return tests, nil
}

// points lists c's cumulative prefixes: the merge commits of the changes it
// newly contains, in the order of the release branch's history (the forge's
// compare from the last release, oldest first; merge time for a first
// release), then its own commit when commits followed the last merge.
func (b *Bisector) points(ctx context.Context, c *patchgate.Candidate) ([]patchgate.BisectPoint, error) {
	type merge struct {
		p     patchgate.BisectPoint
		ch    *patchgate.Change
		order int
	}
	var merges []*merge
	byChange := map[int64]*merge{}
	for _, item := range c.Items {
		ch := item.Change
		if ch == nil || ch.MergeCommitSHA == "" {
			continue
		}
		m := byChange[ch.ID]
		if m == nil {
			m = &merge{p: patchgate.BisectPoint{SHA: ch.MergeCommitSHA, Change: changeName(ch)}, ch: ch, order: -1}
			byChange[ch.ID] = m
			merges = append(merges, m)
		}
		if item.Ticket != nil {
			m.p.Ticket = strings.TrimPrefix(m.p.Ticket+", "+item.Ticket.Key, ", ")
		}
	}
	if c.BaseSHA != "" {
		cmp := b.Comparers[c.Forge]
		if cmp == nil {
			return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", c.Forge)
		}
		diff, err := cmp.Compare(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, c.BaseSHA, c.SHA)
		if err != nil {
			return nil, fmt.Errorf("compare %s...%s to order the merges: %w", patchgate.ShortSHA(c.BaseSHA), patchgate.ShortSHA(c.SHA), err)
		}
		for i, commit := range diff.Commits {
			for _, m := range merges {
				if m.p.SHA == commit.SHA {
					m.order = i
				}
			}
		}
		// A merge commit the release's history does not hold is no prefix.
		merges = slices.DeleteFunc(merges, func(m *merge) bool { return m.order < 0 })
	}
	slices.SortStableFunc(merges, func(x, y *merge) int {
		if x.order != y.order {
			return x.order - y.order
		}
		if c := x.ch.MergedAt.Compare(y.ch.MergedAt); c != 0 {
			return c
		}
		return int(x.ch.ID - y.ch.ID)
	})
	out := make([]patchgate.BisectPoint, len(merges))
	for i, m := range merges {
		out[i] = m.p
	}
	return patchgate.BisectPoints(c.SHA, out), nil
}
