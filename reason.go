package patchgate

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ReasonCode names why something is blocked or refused. Codes are stable:
// scripts, dashboards and bots match on them, so a code is never renamed or
// reused for another meaning; new ones are added to Reasons.
type ReasonCode string

// The reason codes. Each has its meaning and next action in Reasons.
const (
	ReasonConfigUnusable      ReasonCode = "config_unusable"
	ReasonPolicyLoosened      ReasonCode = "policy_loosened"
	ReasonCandidateUnverified ReasonCode = "candidate_unverified"
	ReasonFixUnverified       ReasonCode = "fix_unverified"
	ReasonSuiteNotRun         ReasonCode = "suite_not_run"
	ReasonSuiteRunning        ReasonCode = "suite_running"
	ReasonSuiteFailed         ReasonCode = "suite_failed"
	ReasonVerificationError   ReasonCode = "verification_error"
	ReasonRunnerUnavailable   ReasonCode = "runner_unavailable"
	ReasonProofMissing        ReasonCode = "proof_missing"
	ReasonProofNotFailing     ReasonCode = "proof_not_failing"
	// The fix's proof held alone but its proving test does not pass in the
	// candidate's own run: another fix in the release undid it.
	ReasonProofBrokenInRelease   ReasonCode = "proof_broken_in_release"
	ReasonProofUnlistedInRelease ReasonCode = "proof_unlisted_in_release"
	ReasonTicketReopened         ReasonCode = "ticket_reopened"
	ReasonQuarantineExpired      ReasonCode = "quarantine_expired"
	ReasonApprovalsMissing       ReasonCode = "approvals_missing"
	ReasonSuperseded             ReasonCode = "superseded"
	ReasonAlreadyPromoted        ReasonCode = "already_promoted"
	ReasonNotEvaluated           ReasonCode = "not_evaluated"
	// Every fix passed alone but the candidate fails: the culprit bisection.
	ReasonReleaseBisecting     ReasonCode = "release_bisecting"
	ReasonReleaseCulpritFound  ReasonCode = "release_culprit_found"
	ReasonReleaseBisectStopped ReasonCode = "release_bisect_stopped"
)

// The codes of a deployment refused or kept waiting (DecideDeployment),
// which the forge shows with the answer.
const (
	ReasonDeploySHANotPromoted      ReasonCode = "deploy_sha_not_promoted"
	ReasonDeployCandidateSuperseded ReasonCode = "deploy_candidate_superseded"
	ReasonDeployAwaitingPromotion   ReasonCode = "deploy_awaiting_promotion"
	ReasonDeployReviewExpired       ReasonCode = "deploy_review_expired"
)

// Reason is one row of the table of codes: what the code means and what to
// do about it, as the README, the API and every rendering say it.
type Reason struct {
	Code    ReasonCode
	Meaning string
	// Action is the next step, the same for every blocker of the code so that
	// a user who learnt it once recognises it everywhere.
	Action string
}

// Reasons is the table of codes, in the order the README lists them.
var Reasons = []Reason{
	{ReasonConfigUnusable, "the commit's `.patchgate.yml` cannot be read or is invalid, so nothing under it counts",
		"fix `.patchgate.yml` on the release branch, then cut a new candidate"},
	{ReasonPolicyLoosened, "`.patchgate.yml` asks for less than the server's release policy (the floor)",
		"tighten `.patchgate.yml` to the server's policy, or ask the operator to lower the floor"},
	{ReasonCandidateUnverified, "the candidate's own commit has no verdict under its `.patchgate.yml` yet",
		"wait for the run, or start one with `patchgate verify`"},
	{ReasonFixUnverified, "a fix the candidate includes has no passing verdict on its change's final head",
		"wait for the run or `/patchgate retest`"},
	{ReasonSuiteNotRun, "a required suite did not run on the commit",
		"add the suite to `.patchgate.yml` (release.required names it), then re-run"},
	{ReasonSuiteRunning, "a required suite is still queued or running on the commit",
		"wait for the run to finish"},
	{ReasonSuiteFailed, "a required suite failed on the commit",
		"read the suite's log, fix the code or the test and push; or `/patchgate retest` if it was the infrastructure"},
	{ReasonVerificationError, "the verification ended without a verdict (an infrastructure error or a cancellation)",
		"re-run it: `/patchgate retest` or `patchgate verify`"},
	{ReasonRunnerUnavailable, "no runner started a required suite within `runners.max_queue_wait`",
		"check that workers run (`runners.workers`, `patchgate worker`) and reach Docker, then `/patchgate retest`"},
	{ReasonProofMissing, "release.require_proof: the fix has no fail-to-pass proof that holds",
		"wait for the proof run, or re-run it: `/patchgate retest`"},
	{ReasonProofNotFailing, "release.require_proof: the fix adds no test that fails without it",
		"add a test that fails without the fix and passes with it"},
	{ReasonProofBrokenInRelease, "release.require_proof: a test that proved the fix alone fails (or did not run) in the candidate's own run, with the other fixes",
		"find which other fix in the release breaks it (or make a suite run it, if it did not run), fix the combination on the release branch, then cut a new candidate"},
	{ReasonProofUnlistedInRelease, "release.require_proof: the candidate's own run lists no passing tests, so the fixes' proof tests cannot be checked in it",
		"make the suite report each test (`go test -v` or `-json`, a JUnit report), then re-run: `patchgate verify`"},
	{ReasonTicketReopened, "the ticket was reopened after its fix was merged: the fix did not hold",
		"merge a new fix for the ticket, then cut a new candidate"},
	{ReasonQuarantineExpired, "a quarantine of a failing test has ended: its failures count again",
		"fix the test and remove the quarantine, or renew it"},
	{ReasonApprovalsMissing, "the candidate has fewer approvals than its release policy needs",
		"ask a release manager who wrote none of it to approve: `patchgate release approve` or `/patchgate approve`"},
	{ReasonSuperseded, "a newer candidate of the repository replaced this one",
		"release the newer candidate"},
	{ReasonAlreadyPromoted, "the candidate was promoted: it cannot ship again",
		"nothing; cut a new candidate for newer fixes"},
	{ReasonNotEvaluated, "the candidate was not evaluated (only open and promoting candidates are)",
		"open the candidate (`patchgate release show`) to evaluate it"},
	{ReasonReleaseBisecting, "every fix passed alone but the candidate's required suite fails: patchgate verifies the cumulative prefixes of its merges to find the one it fails from",
		"wait for the bisection, or stop it: `patchgate release bisect --cancel`"},
	{ReasonReleaseCulpritFound, "every fix passed alone but the candidate fails from this merge on, with the fixes merged before it",
		"fix the named merge's conflict with the earlier fixes on the release branch (or revert it), then cut a new candidate"},
	{ReasonReleaseBisectStopped, "the search for the merge the candidate fails from ended without a culprit (a run broke, the history contradicts the failure, or it was canceled)",
		"read the reason, then restart it: `patchgate release bisect`"},
	{ReasonDeploySHANotPromoted, "a deployment's commit is not the commit of a release patchgate promoted",
		"propose a release candidate at this commit, have it approved and promoted, then deploy"},
	{ReasonDeployCandidateSuperseded, "the release candidate at a deployment's commit was superseded by a newer one",
		"deploy the promoted release, or promote the newer candidate"},
	{ReasonDeployAwaitingPromotion, "a deployment's commit is a release candidate's that is not promoted yet: the deployment waits",
		"approve and promote it in patchgate; this deployment is answered then"},
	{ReasonDeployReviewExpired, "a deployment waited 30 days without its candidate being promoted",
		"promote the release in patchgate, then deploy again"},
}

// ReasonFor returns the table's row of code; ok is false for an unknown code.
func ReasonFor(code ReasonCode) (r Reason, ok bool) {
	for _, r := range Reasons {
		if r.Code == code {
			return r, true
		}
	}
	return Reason{}, false
}

// Blocker is one reason why a candidate cannot ship or a request was refused:
// a stable code, a sentence, the next action, and the ticket and change it is
// about when it is about one fix.
type Blocker struct {
	Code ReasonCode `json:"code"`
	// Message says what stands in the way, in words:
	// "PAY-7: fix in #42 failed `integration` on 9c1af72".
	Message string `json:"message"`
	// Action is the code's next step (Reasons).
	Action string `json:"action"`
	// Ticket is the key of the ticket it is about (PAY-7): the fix's, or the
	// one tracking a quarantined test; "" when none.
	Ticket string `json:"ticket,omitempty"`
	// Change is the change of that fix as its forge writes it (#42, !42).
	Change string `json:"change,omitempty"`
}

// NewBlocker returns a blocker of code saying message, with the code's action.
func NewBlocker(code ReasonCode, message string) Blocker {
	r, _ := ReasonFor(code)
	return Blocker{Code: code, Message: message, Action: r.Action}
}

// About returns b about the fix of ticket in change.
func (b Blocker) About(ticket, change string) Blocker {
	b.Ticket, b.Change = ticket, change
	return b
}

// String renders b on one line: "message (code) → action".
func (b Blocker) String() string {
	return fmt.Sprintf("%s (%s) → %s", b.Message, b.Code, b.Action)
}

// Markdown renders b as one Markdown list item, for comments on changes and
// check run summaries: "- message (`code`) → action".
func (b Blocker) Markdown() string {
	return fmt.Sprintf("- %s (`%s`) → %s", b.Message, b.Code, b.Action)
}

// BlockersMarkdown renders bs as a Markdown list, one item a line.
func BlockersMarkdown(bs []Blocker) string {
	lines := make([]string, len(bs))
	for i, b := range bs {
		lines[i] = b.Markdown()
	}
	return strings.Join(lines, "\n")
}

// BlockerMessages returns the messages of bs: the blockers in words, as
// patchgate wrote them before they had codes.
func BlockerMessages(bs []Blocker) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Message
	}
	return out
}

// Fix names one fix a candidate includes: the ticket it fixes and the change
// (#42, !42) that fixes it. The zero Fix is the candidate's own commit.
type Fix struct {
	Ticket string
	Change string
}

// prefix is how blockers about f begin: "PAY-7: fix in #42 ", "" for the
// candidate's own commit.
func (f Fix) prefix() string {
	if f.Ticket == "" && f.Change == "" {
		return ""
	}
	return f.Ticket + ": fix in " + f.Change + " "
}

func (f Fix) blocker(code ReasonCode, message string) Blocker {
	return NewBlocker(code, message).About(f.Ticket, f.Change)
}

// ConfigUnusableBlocker says that the .patchgate.yml at sha cannot be used,
// and why (the configuration error's message).
func ConfigUnusableBlocker(sha, why string) Blocker {
	return NewBlocker(ReasonConfigUnusable, "no usable .patchgate.yml at "+ShortSHA(sha)+": "+why)
}

// UnverifiedBlocker says that f (the candidate's own commit when zero) has no
// verification at sha that counts under the release branch's .patchgate.yml.
func UnverifiedBlocker(f Fix, sha string) Blocker {
	code := ReasonCandidateUnverified
	if f.prefix() != "" {
		code = ReasonFixUnverified
	}
	return f.blocker(code, f.prefix()+"not verified on "+ShortSHA(sha)+" under the release branch's .patchgate.yml yet")
}

// SuiteBlockers says why v (nil: none counts) does not show that every
// required suite passed on sha for f: nil when it does.
func SuiteBlockers(f Fix, v *Verification, required []string, sha string) []Blocker {
	if v == nil {
		return []Blocker{UnverifiedBlocker(f, sha)}
	}
	prefix, short := f.prefix(), ShortSHA(sha)
	var out []Blocker
	byName := map[string]*SuiteRun{}
	for _, run := range v.Suites {
		byName[run.Name] = run
	}
	for _, name := range required {
		run := byName[name]
		switch {
		case run == nil:
			out = append(out, f.blocker(ReasonSuiteNotRun, fmt.Sprintf("%s`%s` was not run on %s", prefix, name, short)))
		case run.State == RunSuccess:
		case !run.State.Final():
			out = append(out, f.blocker(ReasonSuiteRunning, fmt.Sprintf("%s`%s` still running on %s", prefix, name, short)))
		case run.State == RunError && strings.HasPrefix(run.Description, string(ReasonRunnerUnavailable)):
			out = append(out, f.blocker(ReasonRunnerUnavailable, fmt.Sprintf("%s`%s` never started on %s: %s", prefix, name, short, run.Description)))
		case run.State == RunError || run.State == RunCanceled:
			out = append(out, f.blocker(ReasonVerificationError, fmt.Sprintf("%s`%s` ended %s on %s", prefix, name, run.State, short)))
		default:
			out = append(out, f.blocker(ReasonSuiteFailed, fmt.Sprintf("%sfailed `%s` on %s", prefix, name, short)))
		}
	}
	if len(out) == 0 && neverStarted(v) {
		out = append(out, RunnerUnavailableBlocker(f, v))
	}
	if len(out) == 0 && v.State != RunSuccess {
		out = append(out, f.blocker(ReasonVerificationError, fmt.Sprintf("%sverification %d on %s ended %s: %s", prefix, v.ID, short, v.State, v.Reason)))
	}
	return out
}

// HeadBlockers says what stands between f's change head sha and a passing
// verdict, given v, the head's newest verification (nil: none): the
// required suites it records (RequiredSuites) that did not pass, or that it
// has not run yet. Unlike the gate, which holds a fix to the release
// branch's .patchgate.yml, it judges v by its own plan: it serves reports on
// a fix's progress (the tracker comment), not the release decision.
func HeadBlockers(f Fix, v *Verification, sha string) []Blocker {
	if v == nil {
		return []Blocker{f.blocker(ReasonFixUnverified, f.prefix()+"has no verdict on "+ShortSHA(sha)+" yet")}
	}
	return SuiteBlockers(f, v, v.RequiredSuites(), sha)
}

// RequiredSuites returns the names of v's required suites, in plan order.
func (v *Verification) RequiredSuites() []string {
	var out []string
	for _, s := range v.Suites {
		if s.Required {
			out = append(out, s.Name)
		}
	}
	return out
}

// neverStarted reports whether v ended because no runner started it.
func neverStarted(v *Verification) bool {
	return v.State == RunError && strings.HasPrefix(v.Reason, string(ReasonRunnerUnavailable)+":")
}

// NeverStarted returns, of a commit's verifications newest first, the one
// that says what became of its latest run when that run ended because no
// runner started it (runners.max_queue_wait): the newest neither canceled nor
// stale, if it ended so; nil otherwise (a newer run is queued, or it ran).
// Such a verification was never planned, so it is no release evidence
// (ReleaseVerdict), but it tells why there is none.
func NeverStarted(newestFirst []*Verification) *Verification {
	for _, v := range newestFirst {
		if v.State == RunCanceled || v.Stale {
			continue
		}
		if neverStarted(v) {
			return v
		}
		return nil
	}
	return nil
}

// RunnerUnavailableBlocker says that f's (the candidate's own commit when
// zero) verification v ended because no runner started it.
func RunnerUnavailableBlocker(f Fix, v *Verification) Blocker {
	return f.blocker(ReasonRunnerUnavailable, fmt.Sprintf("%sverification %d on %s never started: %s", f.prefix(), v.ID, ShortSHA(v.SHA), v.Reason))
}

// ProofBlocker says why f's fix does not count under release.require_proof;
// ok is false when its proof holds. proof is nil when none was recorded.
func ProofBlocker(f Fix, proof *Proof) (b Blocker, ok bool) {
	who := strings.TrimSuffix(f.prefix(), " ")
	switch {
	case proof == nil:
		return f.blocker(ReasonProofMissing, who+" has no fail-to-pass proof"), true
	case proof.State == ProofHolds:
		return Blocker{}, false
	case proof.State == ProofNone && len(proof.Tests) == 0:
		return f.blocker(ReasonProofNotFailing, who+" adds no test that fails without it"), true
	case proof.State == ProofNone:
		return f.blocker(ReasonProofNotFailing, who+" adds no test that fails without it ("+proof.Description+")"), true
	}
	return f.blocker(ReasonProofMissing, who+" has no proof: "+proof.Description), true
}

// ReopenedBlocker says that the ticket f fixes was reopened after its fix
// was merged.
func ReopenedBlocker(f Fix) Blocker {
	return f.blocker(ReasonTicketReopened, f.Ticket+": reopened after merge")
}

// ApprovalsBlocker says that candidate name has approvals of the needed, and
// names the logins whose live approvals were stored before ids were pinned
// (Candidate.UnpinnedApprovers): they count for nobody until given again.
func ApprovalsBlocker(name string, approvals, needed int, unpinned ...string) Blocker {
	msg := fmt.Sprintf("candidate %s has %d of the %d approvals it needs", name, approvals, needed)
	switch len(unpinned) {
	case 0:
	case 1:
		msg += "; the approval by " + unpinned[0] + " has no forge user id (given before ids were pinned) and does not count: " +
			"withdraw it and approve again with a token that pins the id"
	default:
		msg += "; the approvals by " + strings.Join(unpinned, ", ") + " have no forge user id (given before ids were pinned) and do not count: " +
			"withdraw them and approve again with a token that pins the id"
	}
	return NewBlocker(ReasonApprovalsMissing, msg)
}

// SupersededBlocker says that a newer candidate of repo replaced this one.
func SupersededBlocker(repo string) Blocker {
	return NewBlocker(ReasonSuperseded, "superseded by a newer candidate of "+repo+": release that one")
}

// PromotedBlocker says that the candidate was promoted (at, when known, as
// the release at url, when known).
func PromotedBlocker(at *time.Time, url string) Blocker {
	m := "already promoted"
	if at != nil {
		m += " on " + at.UTC().Format("2006-01-02 15:04 MST")
	}
	if url != "" {
		m += ": " + url
	}
	return NewBlocker(ReasonAlreadyPromoted, m)
}

// RunnerUnavailableDescription is a suite run's description when no runner
// started it within wait: it begins with the code, so that the gate, reading
// the run back, gives its blocker that code.
func RunnerUnavailableDescription(wait time.Duration) string {
	return fmt.Sprintf("%s: no runner started it within %s", ReasonRunnerUnavailable, wait)
}

// Unreleasable is the refusal of an act (approve, promote) on candidate name
// that is not releasable: ECONFLICT, the blockers in its message and, for
// the API to return them, in Blockers.
func Unreleasable(name string, blockers []Blocker) *Error {
	return &Error{Code: ECONFLICT, Blockers: blockers,
		Message: fmt.Sprintf("candidate %s is not releasable: %s", name, strings.Join(BlockerMessages(blockers), "; "))}
}

// Blocked is a refusal for one blocker: code is the error code (ECONFLICT),
// the message the blocker's.
func Blocked(code string, b Blocker) *Error {
	return &Error{Code: code, Message: b.Message, Blockers: []Blocker{b}}
}

// RefusalMarkdown renders a refusal for a comment on a change: its message,
// and when it carries blockers, the sentence that introduces them followed by
// them as a Markdown list (BlockersMarkdown), each with its code and action.
func RefusalMarkdown(err error) string {
	msg, bs := ErrorMessage(err), ErrorBlockers(err)
	if len(bs) == 0 {
		return msg
	}
	joined := strings.Join(BlockerMessages(bs), "; ")
	head := strings.TrimSuffix(strings.TrimSuffix(msg, joined), ": ")
	if head == "" && len(bs) == 1 {
		return strings.TrimPrefix(bs[0].Markdown(), "- ")
	}
	if head == "" {
		return "\n\n" + BlockersMarkdown(bs)
	}
	return head + ":\n\n" + BlockersMarkdown(bs)
}

// ErrorBlockers returns the blockers of the first *Error in err's chain: why
// it refused, with codes and next actions; nil when it names none.
func ErrorBlockers(err error) []Blocker {
	var e *Error
	if errors.As(err, &e) {
		return e.Blockers
	}
	return nil
}
