package patchgate

import (
	"time"
)

// SLAState says how a ticket stands against its SLA targets.
type SLAState string

// SLA states. A ticket is at risk in the last quarter of its active phase's
// time, breached once a deadline passed before the phase was done, and met when
// it was both verified and released in time. It has no SLA (none) when its
// severity has no target or its repository is not configured.
const (
	SLAOnTrack  SLAState = "on_track"
	SLAAtRisk   SLAState = "at_risk"
	SLABreached SLAState = "breached"
	SLAMet      SLAState = "met"
	SLANone     SLAState = "none"
)

// SLAStates lists every SLA state, in the order a dashboard shows them.
var SLAStates = []SLAState{SLAOnTrack, SLAAtRisk, SLABreached, SLAMet, SLANone}

// Validate reports whether s is a known SLA state.
func (s SLAState) Validate() error {
	switch s {
	case SLAOnTrack, SLAAtRisk, SLABreached, SLAMet, SLANone:
		return nil
	}
	return Errorf(EINVALID, "unknown SLA state %q: want on_track, at_risk, breached, met or none", string(s))
}

// SLAPhase is the part of a ticket's SLA whose deadline is running.
type SLAPhase string

// SLA phases: the fix must be verified, then released.
const (
	SLAPhaseVerify  SLAPhase = "verify"
	SLAPhaseRelease SLAPhase = "release"
)

// SLATarget is how long after a ticket is opened its fix must be verified and
// released.
type SLATarget struct {
	Verified time.Duration `json:"verified"`
	Released time.Duration `json:"released"`
}

// SLAPolicy maps a severity to its targets. A severity missing from the policy
// (always SeverityUnknown in the defaults) has no SLA; a nil policy has none at
// all.
type SLAPolicy map[Severity]SLATarget

// DefaultSLAPolicy returns the targets a repository gets when its
// configuration names none: critical 8h/24h, high 24h/72h, medium 72h/168h and
// low 168h/720h to verified/released.
func DefaultSLAPolicy() SLAPolicy {
	return SLAPolicy{
		SeverityCritical: {Verified: 8 * time.Hour, Released: 24 * time.Hour},
		SeverityHigh:     {Verified: 24 * time.Hour, Released: 72 * time.Hour},
		SeverityMedium:   {Verified: 72 * time.Hour, Released: 168 * time.Hour},
		SeverityLow:      {Verified: 168 * time.Hour, Released: 720 * time.Hour},
	}
}

// Validate checks that every severity is a classified one and that every
// target has 0 < Verified ≤ Released.
func (p SLAPolicy) Validate() error {
	for sev, t := range p {
		switch sev {
		case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow:
		default:
			return Errorf(EINVALID, "SLA severity %q: want critical, high, medium or low", string(sev))
		}
		if t.Verified <= 0 {
			return Errorf(EINVALID, "SLA %s: verified must be positive, got %s", sev, t.Verified)
		}
		if t.Released < t.Verified {
			return Errorf(EINVALID, "SLA %s: released (%s) must be at least verified (%s)", sev, t.Released, t.Verified)
		}
	}
	return nil
}

// SLAStatus is a ticket's SLA at one moment.
type SLAStatus struct {
	State SLAState `json:"state"`
	// Phase is the phase whose deadline is running; "" when the ticket has no
	// SLA or was released.
	Phase SLAPhase `json:"phase,omitempty"`
	// VerifyBy and ReleaseBy are the deadlines, nil when there is no SLA.
	VerifyBy  *time.Time `json:"verify_by,omitempty"`
	ReleaseBy *time.Time `json:"release_by,omitempty"`
}

// slaRiskNum/slaRiskDen is the share of a deadline's time after which a
// ticket is at risk.
const slaRiskNum, slaRiskDen = 3, 4

// Evaluate returns t's SLA status at now. Both deadlines count from t.OpenedAt
// (CreatedAt when that is unset): verify-by is OpenedAt+Verified, release-by
// OpenedAt+Released. The active phase is verify until VerifiedAt is set, then
// release until ReleasedAt is. Within a phase the ticket is on track, then at
// risk once 75% of the time to that phase's deadline has elapsed, then breached
// after the deadline. Finishing a phase exactly at its deadline is in time.
// A phase finished late leaves the ticket breached for good (until a reopen
// restarts the clock); a released ticket whose phases were both in time is met.
func (p SLAPolicy) Evaluate(t *Ticket, now time.Time) SLAStatus {
	target, ok := p[t.Severity]
	opened := t.OpenedAt
	if opened.IsZero() {
		opened = t.CreatedAt
	}
	if !ok || opened.IsZero() {
		return SLAStatus{State: SLANone}
	}
	verifyBy, releaseBy := opened.Add(target.Verified), opened.Add(target.Released)
	st := SLAStatus{VerifyBy: &verifyBy, ReleaseBy: &releaseBy}
	verified, released := t.VerifiedAt, t.ReleasedAt
	if verified.IsZero() && !released.IsZero() {
		verified = released // released counts as verified
	}
	late := func(done, by time.Time) bool { return done.After(by) }
	switch {
	case verified.IsZero():
		st.Phase = SLAPhaseVerify
		st.State = slaRunning(opened, verifyBy, target.Verified, now)
	case late(verified, verifyBy):
		st.State = SLABreached
		if released.IsZero() {
			st.Phase = SLAPhaseRelease
		}
	case released.IsZero():
		st.Phase = SLAPhaseRelease
		st.State = slaRunning(opened, releaseBy, target.Released, now)
	case late(released, releaseBy):
		st.State = SLABreached
	default:
		st.State = SLAMet
	}
	return st
}

// slaRunning is the state of a phase still running at now whose deadline, by,
// is d after opened.
func slaRunning(opened, by time.Time, d time.Duration, now time.Time) SLAState {
	switch {
	case now.After(by):
		return SLABreached
	case !now.Before(opened.Add(d / slaRiskDen * slaRiskNum)):
		return SLAAtRisk
	}
	return SLAOnTrack
}

// SLAPolicyFor returns the policy that governs t: its own repository's for a
// forge issue, and for an external ticket (PAY-123) that of the first
// configured repository whose ticket keys include the key's prefix. It returns
// nil, no SLA, when no configured repository claims the ticket.
func (d *RepositoryDirectory) SLAPolicyFor(t *Ticket) SLAPolicy {
	if r := d.RepositoryFor(t); r != nil {
		return r.SLA
	}
	return nil
}
