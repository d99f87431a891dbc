package patchgate

import (
	"fmt"
	"time"
)

// ForgeHead is what a forge says about a change right now: its PR/MR
// (GET pull / merge request) or its branch (GET branch). It is the truth the
// webhooks should have told patchgate; reconciliation compares the two.
type ForgeHead struct {
	HeadSHA string `json:"head_sha"`
	// State is the PR/MR's state; "" for a branch.
	State          ChangeState `json:"state,omitempty"`
	MergeCommitSHA string      `json:"merge_commit_sha,omitempty"`
	// UpdatedAt is the forge's own time of the PR/MR, when it says.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// HeadCorrection is one difference reconciliation found between a change as
// patchgate derived it and as the forge reports it.
type HeadCorrection struct {
	ChangeID    int64       `json:"change_id"`
	Change      string      `json:"change"`
	StoredHead  string      `json:"stored_head"`
	ForgeHead   string      `json:"forge_head"`
	StoredState ChangeState `json:"stored_state"`
	ForgeState  ChangeState `json:"forge_state"`
	// DeliveryID is the reconcile delivery that applies it; its (source, id)
	// identity makes the correction apply once, whoever finds it.
	DeliveryID string `json:"delivery_id"`
	// Applied is false on a dry run, and when another run (or instance) had
	// already stored the same correction.
	Applied bool `json:"applied"`
}

// ReconcileEvent decides whether the forge's view f of c differs from what
// patchgate derived and, if so, returns the event that corrects it, to be
// applied like a forge's (through Change.Apply and DeriveHead, so a new head is
// verified and the old verdict stops counting), and the correction it makes.
// now is when the forge was read.
//
// A new head is applied as a move from the derived head to the forge's: a move
// whose Before is the current head always advances it, whatever its time. Its
// time is when the forge was read (or the forge's own, if later): patchgate saw
// that head then, so reports older than the read cannot bring back the old one.
// A merged change is final and is not reopened by a stale read.
func ReconcileEvent(c *Change, f ForgeHead, now time.Time) (*Event, *HeadCorrection) {
	if f.HeadSHA == "" || !ValidSHA(f.HeadSHA) {
		return nil, nil
	}
	headMoved := f.HeadSHA != c.HeadSHA
	stateMoved := c.Kind != ChangePush && f.State != "" && f.State != c.State && c.State != ChangeMerged
	if !headMoved && !stateMoved {
		return nil, nil
	}
	at := now.UTC()
	if f.UpdatedAt.After(at) {
		at = f.UpdatedAt.UTC()
	}
	before := ""
	if headMoved && ValidSHA(c.HeadSHA) {
		before = c.HeadSHA
	}
	ev := &Event{Source: SourceReconcile, Forge: c.Forge, Name: "reconcile", Action: "reconcile", Repo: c.Repo}
	if c.Kind == ChangePush {
		ev.Kind = EventPush
		ev.Push = &PushEvent{Ref: "refs/heads/" + c.SourceBranch, Branch: c.SourceBranch, Before: before,
			After: f.HeadSHA, PushedAt: at}
	} else {
		state := f.State
		if state == "" {
			state = c.State
		}
		ev.Kind = EventChange
		ev.Change = &ChangeEvent{Number: c.Number, SourceBranch: c.SourceBranch, TargetBranch: c.TargetBranch,
			HeadSHA: f.HeadSHA, BeforeSHA: before, State: state, MergeCommitSHA: f.MergeCommitSHA,
			FromFork: c.FromFork, UpdatedAt: at}
	}
	id := fmt.Sprintf("reconcile:%d:%s", c.ID, f.HeadSHA)
	if stateMoved {
		// A close, merge or reopen is a correction of its own, apart from a
		// head moved earlier to the same commit.
		id += ":" + string(f.State)
	}
	return ev, &HeadCorrection{ChangeID: c.ID, Change: c.Ref(), StoredHead: c.HeadSHA, ForgeHead: f.HeadSHA,
		StoredState: c.State, ForgeState: f.State, DeliveryID: id}
}

// ReconcileRun sums one reconciliation up, for the dashboard and /metrics.
type ReconcileRun struct {
	FinishedAt time.Time `json:"finished_at"`
	// Checked changes were compared with their forge; Corrected of them were
	// corrected by this run; Problems could not be checked.
	Checked   int `json:"checked"`
	Corrected int `json:"corrected"`
	Problems  int `json:"problems"`
	// Redelivered deliveries the forges were asked to send again.
	Redelivered int `json:"redelivered"`
}
