package patchgate

import "time"

// TicketEvidence is everything a ticket's state is derived from. A store
// gathers it in the transaction that writes the derived state.
type TicketEvidence struct {
	// ReopenedAt is the forge time of the ticket's latest reopen; zero if it was
	// never reopened.
	ReopenedAt time.Time
	// Fixes are the changes that claim to fix the ticket (its fixes links).
	Fixes []FixEvidence
	// Releases are when each promoted release that contains the ticket was
	// promoted.
	Releases []time.Time
}

// FixEvidence is one change that claims to fix a ticket, with its verdicts.
type FixEvidence struct {
	Change *Change
	// CommitSHA is the commit the link names (a direct push's fix); "" when
	// the link is to the change as a whole.
	CommitSHA string
	// LinkedAt is when the link was made; it dates a direct push's fix.
	LinkedAt time.Time
	// Head is the newest verdict on the change's current head that is neither
	// stale nor canceled ("" if none).
	Head RunState
	// Merged is the newest final verdict on the commit the fix landed as: the
	// merge commit of a merged pull/merge request, or the linked commit of a
	// direct push ("" if none).
	Merged RunState
	// Proof is the fail-to-pass proof of the verdict on the head ("" if it
	// has none); ProofRequired is release.require_proof as recorded with it.
	// With ProofRequired, the fix counts only when its proof holds.
	Proof         ProofState
	ProofRequired bool
}

// proven reports whether the fix may count: its proof holds, or none is
// required.
func (f FixEvidence) proven() bool { return !f.ProofRequired || f.Proof == ProofHolds }

// landed reports whether the fix is in its target branch, and since when.
func (f FixEvidence) landed() (bool, time.Time) {
	switch {
	case f.Change.Kind == ChangePush:
		return true, f.LinkedAt
	case f.Change.State == ChangeMerged:
		return true, f.Change.MergedAt
	}
	return false, time.Time{}
}

// ticketStateRank orders the states a fix can bring a ticket to.
var ticketStateRank = map[TicketState]int{
	TicketOpen: 0, TicketReopened: 0, TicketFixProposed: 1, TicketFixVerified: 2, TicketFixMerged: 3, TicketReleased: 4,
}

// DeriveTicketState is a ticket's state as its evidence says, whatever the
// order in which the evidence arrived:
//
//   - released: a promoted release contains it;
//   - fix_merged: a fix landed and passed on the commit it landed as;
//   - fix_verified: a fix passed on its change's current head (open, or merged
//     and not yet verified after the merge);
//   - with release.require_proof (recorded with the head's proof), fix_merged
//     and fix_verified also need the head's fail-to-pass proof to hold;
//   - fix_proposed: an open change claims to fix it, or a fix landed without
//     a verdict yet;
//   - reopened: the forge reopened it after a fix landed or was released, and
//     no fix has come since;
//   - open: nothing claims to fix it.
//
// A reopen discards the evidence from before it: fixes that landed and
// releases promoted before the reopen no longer count, since they did not
// hold. A closed, unmerged change counts for nothing.
func DeriveTicketState(e TicketEvidence) TicketState {
	counts := func(at time.Time) bool { return e.ReopenedAt.IsZero() || at.After(e.ReopenedAt) }
	didNotHold := false
	for _, at := range e.Releases {
		if counts(at) {
			return TicketReleased
		}
		didNotHold = true
	}
	best := TicketOpen
	raise := func(s TicketState) {
		if ticketStateRank[s] > ticketStateRank[best] {
			best = s
		}
	}
	for _, f := range e.Fixes {
		if f.Change == nil {
			continue
		}
		landed, at := f.landed()
		switch {
		case landed && !counts(at):
			didNotHold = true
		case landed && f.Merged == RunSuccess && f.proven():
			raise(TicketFixMerged)
		case f.Change.State == ChangeClosed:
		case f.Head == RunSuccess && f.Change.Kind != ChangePush && f.proven():
			raise(TicketFixVerified)
		default:
			raise(TicketFixProposed)
		}
	}
	if best == TicketOpen && didNotHold {
		return TicketReopened
	}
	return best
}

// Settle moves t to state, derived from evidence e at now, and keeps its SLA
// clock; it reports whether anything changed. The clock restarts at a reopen
// that followed a landed or released fix (the old fix did not hold), and the
// first time since the clock started that the ticket reaches fix_verified (or
// later) and released is kept in VerifiedAt and ReleasedAt: a fix taken back
// does not clear them.
func (t *Ticket) Settle(state TicketState, e TicketEvidence, now time.Time) bool {
	before := *t
	if !e.ReopenedAt.IsZero() && e.ReopenedAt.After(t.OpenedAt) && reopenRestarts(e) {
		t.OpenedAt = e.ReopenedAt
	}
	if t.VerifiedAt.Before(t.OpenedAt) {
		t.VerifiedAt = time.Time{}
	}
	if t.ReleasedAt.Before(t.OpenedAt) {
		t.ReleasedAt = time.Time{}
	}
	if ticketStateRank[state] >= ticketStateRank[TicketFixVerified] && t.VerifiedAt.IsZero() {
		t.VerifiedAt = now
	}
	if state == TicketReleased && t.ReleasedAt.IsZero() {
		t.ReleasedAt = now
	}
	t.State = state
	return t.State != before.State || !t.OpenedAt.Equal(before.OpenedAt) ||
		!t.VerifiedAt.Equal(before.VerifiedAt) || !t.ReleasedAt.Equal(before.ReleasedAt)
}

// reopenRestarts reports whether the reopen in e followed a fix that had
// landed or been released: only then did the promise to the customer break.
func reopenRestarts(e TicketEvidence) bool {
	for _, at := range e.Releases {
		if !at.After(e.ReopenedAt) {
			return true
		}
	}
	for _, f := range e.Fixes {
		if f.Change == nil {
			continue
		}
		if landed, at := f.landed(); landed && !at.After(e.ReopenedAt) {
			return true
		}
	}
	return false
}
