package patchgate

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// When a candidate's required suite fails although every fix in it passed
// alone, the fixes conflict: one of them breaks the release only together
// with those merged before it. On a release branch each merge commit of its
// first-parent history is the cumulative prefix "release base + the first k
// merges", so verifying those commits, bisecting, names the merge the
// release fails from in about log2(n) runs, each an ordinary verification.

// BisectOutcome is what a verification of one prefix says.
type BisectOutcome string

// Outcomes of a prefix's verification. The zero value is "not run yet".
const (
	BisectPassed  BisectOutcome = "passed"
	BisectFailed  BisectOutcome = "failed"
	BisectRunning BisectOutcome = "running" // queued or running
	// BisectBroken is a run that ended without a verdict (an
	// infrastructure error): it says nothing about the prefix.
	BisectBroken BisectOutcome = "broken"
)

// PrefixOutcome is the bisection's reading of a prefix's verification v
// (nil: not run).
func PrefixOutcome(v *Verification) BisectOutcome {
	switch {
	case v == nil:
		return ""
	case !v.State.Final():
		return BisectRunning
	case v.State == RunSuccess:
		return BisectPassed
	case v.State == RunFailure:
		return BisectFailed
	}
	return BisectBroken
}

// BisectStep is what to do next in a bisection. At most one of Next,
// Culprit and Inconclusive is set; none when there is nothing to bisect.
type BisectStep struct {
	// Next is the prefix (1..n-1) to verify next; Waiting says its
	// verification is already queued or running.
	Next    int
	Waiting bool
	// Culprit is the first prefix that fails: the k-th merge is the one the
	// release fails from.
	Culprit int
	// Inconclusive is the prefix whose run decides nothing (it broke, or the
	// last point passed although the candidate failed): the bisection stops.
	Inconclusive int
}

// Bisect decides the next step of a bisection of n cumulative prefixes,
// numbered 1..n: prefix k holds the release base and the first k merges, and
// prefix n is the failing candidate itself, so it fails unless tried says
// otherwise; prefix 0, the base, passed (it was released). tried holds the
// outcomes known so far. The culprit is the lowest failing prefix whose
// predecessor passed: the search window runs from the highest passing prefix
// below the lowest failing one to that failing one, and is halved until it
// holds one merge. A run that broke where the window needs it stops the
// bisection (Inconclusive) rather than guessing.
func Bisect(n int, tried map[int]BisectOutcome) BisectStep {
	if n <= 0 {
		return BisectStep{}
	}
	if tried[n] == BisectPassed {
		return BisectStep{Inconclusive: n}
	}
	hi := n
	for k := 1; k < n; k++ {
		if tried[k] == BisectFailed {
			hi = k
			break
		}
	}
	lo := 0
	for k := hi - 1; k >= 1; k-- {
		if tried[k] == BisectPassed {
			lo = k
			break
		}
	}
	if hi-lo == 1 {
		return BisectStep{Culprit: hi}
	}
	mid := (lo + hi) / 2
	switch tried[mid] {
	case BisectRunning:
		return BisectStep{Next: mid, Waiting: true}
	case BisectBroken:
		return BisectStep{Inconclusive: mid}
	}
	return BisectStep{Next: mid}
}

// BisectPoint is one cumulative prefix of a candidate: the commit of its
// k-th merge on the release branch, and the change and ticket merged there.
// The last point may be the candidate's own commit when commits were pushed
// after the last merge; Change is "" then.
type BisectPoint struct {
	SHA    string `json:"sha"`
	Change string `json:"change,omitempty"`
	Ticket string `json:"ticket,omitempty"`
}

// String names the point as a release manager knows it: "#43 (PAY-9)", or
// the commit when no change was merged there.
func (p BisectPoint) String() string {
	switch {
	case p.Change == "":
		return "the commits pushed up to " + ShortSHA(p.SHA)
	case p.Ticket == "":
		return p.Change
	}
	return p.Change + " (" + p.Ticket + ")"
}

// BisectState is where a candidate's culprit bisection stands.
type BisectState string

// Bisection states. Running is live; the others are final.
const (
	BisectionRunning      BisectState = "running"
	BisectionFound        BisectState = "found"
	BisectionInconclusive BisectState = "inconclusive"
	BisectionCanceled     BisectState = "canceled"
)

// Bisection is a candidate's search for the merge its release fails from.
// Its runs are the verifications of its points (stored as any other), so the
// record keeps only where it stands and, once found, the culprit.
type Bisection struct {
	CandidateID int64       `json:"candidate_id"`
	State       BisectState `json:"state"`
	// Points is the number of cumulative prefixes searched.
	Points int `json:"points"`
	// Culprit is the merge the release fails from, once found; Tests are
	// the required tests that fail from it on.
	Culprit        *BisectPoint `json:"culprit,omitempty"`
	Tests          []string     `json:"tests,omitempty"`
	VerificationID int64        `json:"verification_id,omitempty"`
	// Reason says why it ended without a culprit (inconclusive, canceled),
	// or what it waits for while running.
	Reason     string     `json:"reason,omitempty"`
	StartedBy  string     `json:"started_by"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// BisectionService stores candidates' bisections; each change of state is
// audited with it. Implementations are safe for concurrent use.
type BisectionService interface {
	// StartBisection starts candidate b.CandidateID's bisection, or restarts
	// one that ended without a culprit, and returns it; a running or found
	// one is returned as is (started is false then).
	StartBisection(ctx context.Context, b *Bisection) (stored *Bisection, started bool, err error)
	// FindBisection returns the candidate's bisection; ENOTFOUND when none.
	FindBisection(ctx context.Context, candidateID int64) (*Bisection, error)
	// FinishBisection records a running bisection's end (b.State final);
	// ECONFLICT when it is not running.
	FinishBisection(ctx context.Context, b *Bisection) error
	// RunningBisections lists the running bisections.
	RunningBisections(ctx context.Context) ([]*Bisection, error)
}

// Audit actions of bisections, with the candidate as subject: a start (by
// patchgate or a release manager), and an end with its state and, when
// found, the culprit, its commit, tests and run.
const (
	AuditBisectionStarted  = "bisection.started"
	AuditBisectionFinished = "bisection.finished"
)

// BisectTrigger is the trigger of the verification of a bisection's point.
func BisectTrigger(candidate string) string { return "bisect of candidate " + candidate }

// BisectionBlocker is how a candidate's bisection shows among its blockers:
// the culprit once found, the search while it runs, and why it stopped.
func BisectionBlocker(b *Bisection) Blocker {
	switch {
	case b.State == BisectionFound && b.Culprit == nil:
		// A row that says found but names no culprit (edited, or written by a
		// version that failed half-way) is no finding: the search stopped.
		return NewBlocker(ReasonReleaseBisectStopped, fmt.Sprintf("the bisection of its %d merges ended found but names no merge: restart it", b.Points))
	case b.State == BisectionFound:
		m := "the release fails from " + b.Culprit.String()
		if len(b.Tests) > 0 {
			m += " on: " + strings.Join(b.Tests, ", ")
		}
		return NewBlocker(ReasonReleaseCulpritFound, m).About(b.Culprit.Ticket, b.Culprit.Change)
	case b.State == BisectionRunning:
		m := fmt.Sprintf("every fix passed alone but the release fails: bisecting its %d merges to find the one it fails from", b.Points)
		if b.Reason != "" {
			m += " (" + b.Reason + ")"
		}
		return NewBlocker(ReasonReleaseBisecting, m)
	}
	return NewBlocker(ReasonReleaseBisectStopped, fmt.Sprintf("the bisection of its %d merges ended %s: %s", b.Points, b.State, b.Reason))
}

// BisectPoints returns the points of a candidate at sha whose new merges,
// in the order of its first-parent history, are merges: each merge's commit,
// and the candidate's own commit last when commits were pushed after the
// last merge (so that the last point is always the failing candidate).
func BisectPoints(sha string, merges []BisectPoint) []BisectPoint {
	out := append([]BisectPoint{}, merges...)
	if len(out) == 0 || out[len(out)-1].SHA != sha {
		out = append(out, BisectPoint{SHA: sha})
	}
	return out
}
