// Package runners executes verifications: for each suite of the exact commit it
// provisions a throwaway environment, runs the suite, streams the log to
// storage, reads the JUnit report, records the results and reports them to the
// forge as commit statuses. It speaks only root types; cmd wires in the queue,
// the forge clients and the environment runner.
package runners

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// Planner plans what a verification runs (verification.Planner).
type Planner interface {
	// Plan reads the verification's .patchgate.yml (at its ConfigRef) and
	// returns the suites to run; for a verification not planned yet it records
	// the plan and sets v's ConfigDigest and Suites, otherwise it checks the
	// digest. A *patchgate.ForgeUnreachableError is tried again like a suite
	// that could not run (Retries, RetryBackoff); any other error (no file, a
	// bad file) is the verdict at once.
	Plan(ctx context.Context, v *patchgate.Verification) ([]patchgate.SuitePlan, error)
	// ProofPlan plans the fail-to-pass proof of a verification whose change
	// fixes a ticket; ENOTFOUND when there is nothing to prove.
	ProofPlan(ctx context.Context, v *patchgate.Verification) (*patchgate.ProofPlan, error)
}

// VerdictHandler is told every final verdict, so that the ticket states that
// follow from it are derived (verification.Verdicts).
type VerdictHandler interface {
	OnVerdict(ctx context.Context, v *patchgate.Verification)
}

// Executor executes the verification attempts the queue hands it: it runs
// each planned suite in a throwaway environment and records the verdict.
type Executor struct {
	Verifications patchgate.VerificationService
	// Planner plans the suites and the proof of each verification.
	Planner Planner
	// Source returns the tree at the commit as a plain tar stream.
	Source       func(ctx context.Context, repo patchgate.RepoRef, sha string) (io.ReadCloser, error)
	Environments patchgate.EnvironmentRunner
	Reporter     *Reporter
	// Proofs, when set, stores the fail-to-pass proofs Planner plans.
	Proofs patchgate.ProofService
	// Verdicts, when set, is told every final verdict (ticket states follow it).
	Verdicts VerdictHandler
	// OnFlaky, when set, is told the tests of a suite run that failed and
	// then passed on a re-run on the same commit (metrics).
	OnFlaky func(repo patchgate.RepoRef, tests []string)
	// FlakyTests is the repository's flakiness history: a quarantine excuses
	// only a test seen passing on a re-run. Nil means no history: only a test
	// flaky in the run itself can be excused.
	FlakyTests patchgate.FlakyTestService
	// Worker names this process in claims and heartbeats; unique per process.
	Worker string
	// Owner names this instance's processes on this host in container labels;
	// stable across restarts, so leftovers of a dead process can be swept.
	Owner string
	// Heartbeat is how often a running verification says it is alive.
	Heartbeat time.Duration
	// Retries is how many more times a suite that could not run (an
	// infrastructure error, never the suite's own failure) is tried before the
	// error becomes its outcome; RetryBackoff is the pause before the first
	// retry, doubled before each next one.
	Retries      int
	RetryBackoff time.Duration
	Logger       *slog.Logger

	// Secrets are masked in every suite's log besides the plan's own.
	Secrets []string
}

// Run is the queue's handler: one attempt of one verification.
func (r *Executor) Run(ctx context.Context, id int64, attempt int) error {
	log := r.Logger.With("verification_id", id, "attempt", attempt)
	if err := r.Verifications.ClaimVerification(ctx, id, attempt, r.Worker); err != nil {
		if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
			log.Info("verification not claimed", "reason", patchgate.ErrorMessage(err))
			return nil
		}
		return fmt.Errorf("claim verification %d: %w", id, err)
	}
	v, err := r.Verifications.FindVerificationByID(ctx, id)
	if err != nil {
		return fmt.Errorf("load verification %d: %w", id, err)
	}
	log = log.With("repo", v.Repo, "sha", v.SHA)

	beatCtx, stopBeat := context.WithCancel(ctx)
	var beat sync.WaitGroup
	beat.Go(func() { r.heartbeat(beatCtx, v) })
	defer func() {
		stopBeat()
		beat.Wait()
	}()

	state, reason := r.runSuites(ctx, v, log)
	if (state == patchgate.RunSuccess || state == patchgate.RunFailure) && ctx.Err() == nil {
		// Before the verdict is final, so that the ticket state derived from
		// the verdict sees the proof.
		r.runProof(ctx, v, log)
	}
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		// Stopped without running out of time: superseded (the database already
		// says canceled) or this process is shutting down, in which case the
		// verification stays running and is re-run once its heartbeat goes stale.
		stored, err := r.Verifications.FindVerificationByID(context.WithoutCancel(ctx), v.ID)
		if err == nil && !stored.State.Final() {
			log.Warn("verification interrupted; it will re-run")
			return ctx.Err()
		}
	}
	// The verdict is recorded even when ctx was cancelled (a new head): the
	// record must say why the run stopped.
	finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := r.Verifications.FinishVerification(finishCtx, v.ID, state, reason); err != nil {
		if patchgate.ErrorCode(err) != patchgate.ECONFLICT {
			return fmt.Errorf("finish verification %d: %w", v.ID, err)
		}
		// Already final: superseded by a newer head while it ran, and the
		// superseding side has reported that.
		log.Info("verification was already final", "reason", patchgate.ErrorMessage(err))
		return nil
	}
	v.State, v.Reason = state, reason
	r.Reporter.Verdict(finishCtx, v)
	log.Info("verification finished", "state", state, "reason", reason)
	if r.Verdicts != nil {
		final, err := r.Verifications.FindVerificationByID(finishCtx, v.ID)
		if err != nil {
			return fmt.Errorf("reload verification %d: %w", v.ID, err)
		}
		r.Verdicts.OnVerdict(finishCtx, final)
	}
	return nil
}

// runSuites runs every suite in order and returns the verdict: success when every
// required suite passed, failure when one failed, error when the infrastructure
// broke, canceled when ctx was cancelled.
func (r *Executor) runSuites(ctx context.Context, v *patchgate.Verification, log *slog.Logger) (patchgate.RunState, string) {
	plans, err := r.plan(ctx, v, log)
	if err != nil {
		r.cancelSuites(ctx, v, patchgate.RunError, "not run: "+patchgate.ErrorMessage(err))
		return patchgate.RunError, planError(err)
	}
	byName := map[string]patchgate.SuitePlan{}
	for _, p := range plans {
		byName[p.Name] = p
	}
	var failed, broken, flaky, quarantined []string
	for _, s := range v.Suites {
		if ctx.Err() != nil {
			break
		}
		plan, ok := byName[s.Name]
		if !ok {
			r.finishSuite(ctx, v, s, patchgate.RunError, "suite is no longer in .patchgate.yml")
			broken = append(broken, s.Name)
			continue
		}
		attempts, names, excused := r.runSuite(ctx, v, s, plan, log)
		if len(excused) > 0 && s.Required {
			quarantined = append(quarantined, s.Name+" ("+strings.Join(excused, ", ")+")")
		}
		if len(names) > 0 && r.OnFlaky != nil {
			r.OnFlaky(patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}, names)
		}
		if s.State == patchgate.RunSuccess && s.Required && attempts > 1 && (len(names) > 0 || len(excused) == 0) {
			if len(names) == 0 {
				names = []string{"no test named"}
			}
			flaky = append(flaky, s.Name+" ("+strings.Join(names, ", ")+")")
		}
		if !s.Required {
			continue
		}
		switch s.State {
		case patchgate.RunFailure:
			failed = append(failed, s.Name)
		case patchgate.RunError:
			broken = append(broken, s.Name)
		}
	}
	switch {
	case ctx.Err() != nil:
		r.cancelSuites(ctx, v, patchgate.RunCanceled, "canceled")
		return patchgate.RunCanceled, "canceled: " + cancelCause(ctx)
	case len(broken) > 0:
		return patchgate.RunError, "could not run " + strings.Join(broken, ", ")
	case len(failed) > 0:
		return patchgate.RunFailure, strings.Join(failed, ", ") + " failed"
	}
	reason := "every required suite passed"
	if len(flaky) > 0 {
		reason += "; passed on retry; flaky: " + strings.Join(flaky, ", ")
	}
	if len(quarantined) > 0 {
		reason += "; quarantined failures: " + strings.Join(quarantined, ", ")
	}
	return patchgate.RunSuccess, reason
}

// plan calls Plan until it succeeds, fails for a reason other than an
// unreachable forge, ctx ends, or the attempts run out. The verification
// is claimed and heartbeating meanwhile, so a forge outage costs a worker's
// slot for a bounded time, never the delivery that planned it.
func (r *Executor) plan(ctx context.Context, v *patchgate.Verification, log *slog.Logger) ([]patchgate.SuitePlan, error) {
	attempts, delay := r.attempts(), r.RetryBackoff
	for try := 1; ; try++ {
		plans, err := r.Planner.Plan(ctx, v)
		var unreachable *patchgate.ForgeUnreachableError
		if err == nil || !errors.As(err, &unreachable) || ctx.Err() != nil || try == attempts {
			if err != nil && try > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, try)
			}
			return plans, err
		}
		log.Warn("could not read the configuration; retrying", "attempt", try, "attempts", attempts, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// runSuite runs one suite and records its outcome on s; it returns how many
// times the suite ran, the names of the tests that failed and then passed,
// and those whose failures a quarantine excused.
func (r *Executor) runSuite(ctx context.Context, v *patchgate.Verification, s *patchgate.SuiteRun, plan patchgate.SuitePlan, log *slog.Logger) (attempts int, flaky, excused []string) {
	log = log.With("suite", s.Name, "suite_run_id", s.ID)
	now := time.Now().UTC()
	s.State, s.StartedAt, s.Description = patchgate.RunRunning, &now, "running"
	if err := r.Verifications.UpdateSuiteRun(ctx, s); err != nil {
		log.Error("record suite start", "err", err)
	}
	r.Reporter.Suite(ctx, v, s)

	spec := plan.Spec
	spec.RunID = RunID(v, s)
	spec.Owner = r.Owner
	spec.Secrets = slices.Concat(spec.Secrets, r.Secrets)
	repo := patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}
	spec.Source = func(ctx context.Context) (io.ReadCloser, error) { return r.Source(ctx, repo, v.SHA) }

	logw := newLogWriter(r.Verifications, s.ID)
	finish := func(state patchgate.RunState, description string) {
		// The log is complete before the suite is final: a follower stops then.
		if cerr := logw.Close(); cerr != nil {
			log.Warn("suite log incomplete", "err", cerr)
		}
		r.finishSuite(ctx, v, s, state, description)
	}
	// A required suite that fails is re-run on the same commit, in a fresh
	// environment, up to its flaky_retries: a test that fails and then passes
	// is flaky, one that fails every time is broken.
	reruns := 0
	if s.Required {
		reruns = max(plan.FlakyRetries, 0)
	}
	var earlier [][]patchgate.TestResult // the tests of the failed attempts
	var first string                     // the first attempt's description
	for attempt := 1; ; attempt++ {
		spec.Env = withAttempt(plan.Spec.Env, attempt)
		var tests TestLog // names the failing tests when there is no JUnit report
		res, tries, err := r.runWithRetries(ctx, spec, io.MultiWriter(&tests, logw), log)
		switch {
		case ctx.Err() != nil:
			finish(patchgate.RunCanceled, "canceled: "+cancelCause(ctx))
			return attempt, nil, nil
		case err != nil && attempt > 1:
			// The suite failed on its own and its re-run could not run: it
			// stays failed, on the evidence of the attempts that ran.
			log.Warn("suite re-run could not run", "suite_attempt", attempt, "err", err)
			s.Tests, _ = mergeAttempts(earlier, nil)
			finish(patchgate.RunFailure, patchgate.TruncateStatusDescription(s.Description+"; its re-run could not run"))
			return attempt, nil, nil
		case err != nil:
			log.Warn("suite could not run", "attempts", tries, "err", err)
			desc := err.Error()
			if tries > 1 {
				desc = fmt.Sprintf("could not run in %d attempts: %s", tries, desc)
			}
			finish(patchgate.RunError, desc)
			return attempt, nil, nil
		}
		r.recordResult(s, res, &tests)
		if tries > 1 {
			s.Description += fmt.Sprintf(" (attempt %d of %d: earlier ones could not run; see the log)", tries, r.attempts())
		}
		stampAttempt(s.Tests, attempt)
		if attempt == 1 && (s.State != patchgate.RunFailure || reruns == 0) {
			excused := r.applyQuarantines(ctx, v, s, plan, log)
			finish(s.State, s.Description)
			return attempt, nil, excused
		}
		if s.State == patchgate.RunFailure && attempt <= reruns {
			if attempt == 1 {
				first = s.Description
			}
			earlier = append(earlier, s.Tests)
			log.Info("suite failed; re-running it to tell flaky tests from broken ones", "suite_attempt", attempt, "flaky_retries", reruns)
			fmt.Fprintf(logw, "\n[patchgate: attempt %d of %d failed: %s]\n[patchgate: re-running on the same commit in a fresh environment to tell flaky tests from broken ones (flaky_retries: %d; %s=%d)]\n",
				attempt, reruns+1, s.Description, reruns, AttemptEnv, attempt+1)
			continue
		}
		var flaky []string
		s.Tests, flaky = mergeAttempts(earlier, s.Tests)
		s.Description = describeRetry(s, attempt, flaky, first)
		excused := r.applyQuarantines(ctx, v, s, plan, log)
		finish(s.State, s.Description)
		return attempt, flaky, excused
	}
}

// applyQuarantines lets the quarantines in force now decide a failed suite
// run: when a quarantine excuses every failing test of its last attempt (each
// a flaky test), the suite passes, its excused results marked and its
// description naming each quarantine; otherwise it stays failed and its
// description leads with the expired quarantines and the broken tests no
// quarantine can excuse. A run that timed out, ran out of memory, or counts
// failures its report does not name is never excused: something beyond the
// quarantined tests failed. It returns the excused tests' names.
func (r *Executor) applyQuarantines(ctx context.Context, v *patchgate.Verification, s *patchgate.SuiteRun, plan patchgate.SuitePlan, log *slog.Logger) []string {
	if s.State != patchgate.RunFailure || len(plan.Quarantines) == 0 {
		return nil
	}
	flakyBefore := map[string]bool{}
	if r.FlakyTests != nil {
		history, err := r.FlakyTests.FindFlakyTests(ctx, patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}, patchgate.DefaultFlakyWindow)
		if err != nil {
			// Without the history no failure is excused: the suite stays
			// failed on its own evidence, which is true, and says why.
			log.Warn("read flakiness history for quarantines", "err", err)
			s.Description = patchgate.TruncateStatusDescription("quarantines not applied: flakiness history unreadable; " + s.Description)
			return nil
		}
		for _, f := range history {
			if f.Suite == s.Name {
				flakyBefore[f.Name] = true
			}
		}
	}
	qv := patchgate.ApplyQuarantines(s.Name, v.SHA, s.Tests, plan.Quarantines, flakyBefore, time.Now())
	s.Tests = qv.Tests
	last, named := 0, 0
	for _, t := range s.Tests {
		last = max(last, t.Attempt)
	}
	for _, t := range s.Tests {
		if t.Attempt == last && (t.Status == patchgate.TestFailed || t.Status == patchgate.TestErrored) {
			named++
		}
	}
	if qv.AllExcused() && !s.TimedOut && !s.OOMKilled && s.Failed <= named {
		s.State = patchgate.RunSuccess
		s.Description = patchgate.TruncateStatusDescription("passed with quarantined failures; " + strings.Join(qv.Excused, "; "))
		var names []string
		for _, t := range qv.Tests {
			if t.Quarantined && t.Attempt == last && !slices.Contains(names, t.Name) && !strings.Contains(t.Name, "/") {
				names = append(names, t.Name)
			}
		}
		log.Info("failures excused by quarantine", "tests", names)
		return names
	}
	notes := slices.Concat(qv.Expired, qv.Broken)
	if len(qv.Excused) > 0 {
		// Some failures are excused, not all: say which ones count.
		notes = append(notes, describeNames("not quarantined: ", qv.Failing, ""))
	}
	if len(notes) > 0 {
		s.Description = patchgate.TruncateStatusDescription(strings.Join(notes, "; ") + "; " + s.Description)
	}
	return nil
}

// attempts is how often a suite may be tried.
func (r *Executor) attempts() int { return 1 + max(r.Retries, 0) }

// runWithRetries runs the suite's environment until it yields a result (a
// pass or the suite's own failure), ctx ends, or the attempts run out, and
// returns the last outcome with the number of attempts made. An attempt that
// could not run is written into the suite's log, with its cause, before the
// next one, so that whoever reads the evidence sees it was retried.
func (r *Executor) runWithRetries(ctx context.Context, spec patchgate.EnvironmentSpec, logw io.Writer, log *slog.Logger) (*patchgate.EnvironmentResult, int, error) {
	attempts := r.attempts()
	delay := r.RetryBackoff
	for try := 1; ; try++ {
		res, err := r.Environments.Run(ctx, spec, logw)
		if err == nil || ctx.Err() != nil || try == attempts {
			return res, try, err
		}
		log.Warn("suite could not run; retrying", "attempt", try, "attempts", attempts, "retry_in", delay, "err", err)
		fmt.Fprintf(logw, "\n[patchgate: attempt %d of %d could not run: %v]\n[patchgate: retrying in %s]\n", try, attempts, err, delay)
		select {
		case <-ctx.Done():
			return nil, try, context.Cause(ctx)
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// recordResult turns an environment's result into the suite's state, counts,
// tests and one-line description; without a JUnit report the tests come from
// the log.
func (r *Executor) recordResult(s *patchgate.SuiteRun, res *patchgate.EnvironmentResult, log *TestLog) {
	code := res.ExitCode
	s.ExitCode, s.OOMKilled, s.TimedOut = &code, res.OOMKilled, res.TimedOut
	s.ImageDigests, s.Timings = res.ImageDigests, res.Timings
	s.Tests = []patchgate.TestResult{}
	s.Passed, s.Failed, s.Skipped = 0, 0, 0 // a re-run counts afresh
	var summary string
	var failedNames []string
	if res.JUnit != nil {
		report, err := ParseJUnit(res.JUnit)
		if err != nil {
			summary = "unreadable JUnit report: " + patchgate.ErrorMessage(err)
		} else {
			s.Tests = report.Tests
			s.Passed, s.Failed, s.Skipped = report.Passed, report.Failed+report.Errored, report.Skipped
			summary = report.Summary()
			failedNames = report.FailedNames(3)
		}
	}
	switch {
	case res.TimedOut:
		s.State, s.Description = patchgate.RunFailure, "timed out"
	case res.OOMKilled:
		s.State, s.Description = patchgate.RunFailure, "killed: out of memory"
	case code != 0:
		s.State, s.Description = patchgate.RunFailure, fmt.Sprintf("exit code %d", code)
	case s.Failed > 0:
		// The command passed but its report names failures: trust the report.
		s.State, s.Description = patchgate.RunFailure, "report has failures"
	default:
		s.State, s.Description = patchgate.RunSuccess, "passed"
	}
	if summary != "" {
		s.Description = summary + "; " + s.Description
	}
	if len(failedNames) > 0 {
		s.Description += "; failed: " + strings.Join(failedNames, ", ")
	}
	if res.JUnit == nil && log != nil {
		describeFromLog(s, log.Report())
	}
}

// finishSuite records a suite's final state and posts its status.
func (r *Executor) finishSuite(ctx context.Context, v *patchgate.Verification, s *patchgate.SuiteRun, state patchgate.RunState, description string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	now := time.Now().UTC()
	s.State, s.Description, s.FinishedAt = state, description, &now
	if err := r.Verifications.UpdateSuiteRun(ctx, s); err != nil {
		r.Logger.Error("record suite result", "verification_id", v.ID, "suite", s.Name, "err", err)
	}
	r.Reporter.Suite(ctx, v, s)
}

// cancelSuites marks the suites that never ran.
func (r *Executor) cancelSuites(ctx context.Context, v *patchgate.Verification, state patchgate.RunState, why string) {
	for _, s := range v.Suites {
		if !s.State.Final() && s.State != patchgate.RunRunning {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			now := time.Now().UTC()
			s.State, s.Description, s.FinishedAt = state, why, &now
			if err := r.Verifications.UpdateSuiteRun(ctx, s); err != nil {
				r.Logger.Error("record suite result", "verification_id", v.ID, "suite", s.Name, "err", err)
			}
			cancel()
		}
	}
}

func (r *Executor) heartbeat(ctx context.Context, v *patchgate.Verification) {
	every := r.Heartbeat
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Verifications.Heartbeat(ctx, v.ID, r.Worker); err != nil && ctx.Err() == nil {
				r.Logger.Warn("heartbeat", "verification_id", v.ID, "err", err)
			}
		}
	}
}

func cancelCause(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		return "the verification ran out of time"
	}
	return "superseded or stopped"
}

func planError(err error) string {
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		if msg := patchgate.ErrorMessage(err); strings.HasPrefix(msg, "no .patchgate.yml") {
			return msg
		}
		return "no .patchgate.yml: " + patchgate.ErrorMessage(err)
	}
	return err.Error()
}

// RunID names a suite run's environment in container labels:
// "<verification>-<attempt>-<suite>".
func RunID(v *patchgate.Verification, s *patchgate.SuiteRun) string {
	return fmt.Sprintf("%d-%d-%s", v.ID, v.Attempt, s.Name)
}

// Alive reports whether the environment labelled runID may belong to a live
// run: false only when the database knows the run is over (its verification
// is final, at a later attempt, or silent for longer than fresh). The sweeper
// removes only those. A run the database does not know (a run id it never
// made, a verification it does not have) may be another instance's: alive.
func (r *Executor) Alive(ctx context.Context, runID string, fresh time.Duration) bool {
	var id int64
	var attempt int
	var suite string
	if n, _ := fmt.Sscanf(runID, "%d-%d-%s", &id, &attempt, &suite); n != 3 {
		return true
	}
	v, err := r.Verifications.FindVerificationByID(ctx, id)
	if err != nil {
		return true // unknown, or the database is down: never sweep on doubt
	}
	if attempt > v.Attempt {
		return true // an attempt this database never made
	}
	return v.State == patchgate.RunRunning && v.Attempt == attempt &&
		v.HeartbeatAt != nil && time.Since(*v.HeartbeatAt) < fresh
}
