package patchgate

import (
	"testing"
	"time"
)

func TestSupportLevelNext(t *testing.T) {
	for _, tc := range []struct {
		from, want SupportLevel
		top        bool
	}{{"", SupportL2, false}, {SupportL1, SupportL2, false}, {SupportL2, SupportL3, false},
		{SupportL3, SupportL4, false}, {SupportL4, SupportL4, true}} {
		if got, top := tc.from.Next(); got != tc.want || top != tc.top {
			t.Errorf("%q.Next() = %s, %v; want %s, %v", tc.from, got, top, tc.want, tc.top)
		}
	}
}

func TestParseSupportLevel(t *testing.T) {
	for in, want := range map[string]SupportLevel{"L2": SupportL2, " l3 ": SupportL3, "4": SupportL4, "Level 1": SupportL1,
		"2nd-level": SupportL2, "Help Desk": SupportL1, "supplier": SupportL4, "Experts": SupportL3} {
		if got, ok := ParseSupportLevel(in); !ok || got != want {
			t.Errorf("ParseSupportLevel(%q) = %q, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "L5", "urgent", "0"} {
		if got, ok := ParseSupportLevel(in); ok {
			t.Errorf("ParseSupportLevel(%q) = %s, want none", in, got)
		}
	}
	if err := SupportLevel("L5").Validate(); err == nil {
		t.Error("L5 validated")
	}
}

func TestSupportLevelFromLabels(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   SupportLevel
	}{
		{nil, ""},
		{[]string{"bug", "severity:high"}, ""},
		{[]string{"support:L2"}, SupportL2},
		{[]string{"support::l3", "level:L2"}, SupportL3},
		{[]string{"Support-Level/L4"}, SupportL4},
		{[]string{"level:urgent"}, ""},
		{[]string{"level:4", "level::L4", "Level/3"}, ""}, // a difficulty, say: only support labels name a support level
	} {
		if got := SupportLevelFromLabels(tc.labels); got != tc.want {
			t.Errorf("SupportLevelFromLabels(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}

func TestDefaultSupportLevel(t *testing.T) {
	d := NewRepositoryDirectory([]*Repository{
		{Forge: GitHub, Name: "acme/payments", TicketKeys: []string{"PAY"}, SupportLevel: SupportL2},
		{Forge: GitHub, Name: "acme/web"},
	})
	for _, tc := range []struct {
		t    Ticket
		want SupportLevel
	}{
		{Ticket{Tracker: TrackerExternal, Key: "PAY-1"}, SupportL2},
		{Ticket{Tracker: TrackerGitHub, Key: "acme/payments#1", Repo: "acme/payments", Number: 1}, SupportL2},
		{Ticket{Tracker: TrackerGitHub, Key: "acme/payments#2", Repo: "acme/payments", Number: 2, Labels: []string{"support:L3"}}, SupportL3},
		{Ticket{Tracker: TrackerGitHub, Key: "acme/web#1", Repo: "acme/web", Number: 1}, SupportL1},
		{Ticket{Tracker: TrackerExternal, Key: "OPS-1"}, SupportL1},
	} {
		if got := d.DefaultSupportLevel(&tc.t); got != tc.want {
			t.Errorf("DefaultSupportLevel(%s) = %s, want %s", tc.t.Key, got, tc.want)
		}
	}
}

// TestEscalationDue: at risk or breached escalates one level, from the phase
// that is at risk or missed its deadline; nothing else does.
func TestEscalationDue(t *testing.T) {
	opened := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	policy := SLAPolicy{SeverityCritical: {Verified: 8 * time.Hour, Released: 24 * time.Hour}}
	tk := func(verified time.Duration) *Ticket {
		t := &Ticket{ID: 7, Key: "PAY-7", Severity: SeverityCritical, OpenedAt: opened}
		if verified > 0 {
			t.VerifiedAt = opened.Add(verified)
		}
		return t
	}
	for _, tc := range []struct {
		name      string
		t         *Ticket
		level     SupportLevel
		at        time.Duration
		wantNil   bool
		wantPhase SLAPhase
		wantCause SLAState
		wantTo    SupportLevel
	}{
		{name: "on track", t: tk(0), level: SupportL1, at: time.Hour, wantNil: true},
		{name: "verify at risk", t: tk(0), level: SupportL1, at: 6 * time.Hour, wantPhase: SLAPhaseVerify, wantCause: SLAAtRisk, wantTo: SupportL2},
		{name: "unset level is L1", t: tk(0), level: "", at: 6 * time.Hour, wantPhase: SLAPhaseVerify, wantCause: SLAAtRisk, wantTo: SupportL2},
		{name: "verify breached", t: tk(0), level: SupportL2, at: 9 * time.Hour, wantPhase: SLAPhaseVerify, wantCause: SLABreached, wantTo: SupportL3},
		{name: "verified late: still the verify breach", t: tk(10 * time.Hour), level: SupportL3, at: 12 * time.Hour, wantPhase: SLAPhaseVerify, wantCause: SLABreached, wantTo: SupportL4},
		{name: "verified late, release missed too", t: tk(10 * time.Hour), level: SupportL3, at: 25 * time.Hour, wantPhase: SLAPhaseRelease, wantCause: SLABreached, wantTo: SupportL4},
		{name: "release at risk", t: tk(2 * time.Hour), level: SupportL2, at: 19 * time.Hour, wantPhase: SLAPhaseRelease, wantCause: SLAAtRisk, wantTo: SupportL3},
		{name: "L4 stays L4", t: tk(0), level: SupportL4, at: 9 * time.Hour, wantPhase: SLAPhaseVerify, wantCause: SLABreached, wantTo: SupportL4},
		{name: "release on track", t: tk(2 * time.Hour), level: SupportL1, at: 3 * time.Hour, wantNil: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := opened.Add(tc.at)
			e := EscalationDue(tc.t, tc.level, policy.Evaluate(tc.t, now), now)
			if tc.wantNil {
				if e != nil {
					t.Fatalf("got %+v, want none", e)
				}
				return
			}
			if e == nil {
				t.Fatal("got none")
			}
			if e.Phase != tc.wantPhase || e.Cause != tc.wantCause || e.To != tc.wantTo || e.TicketID != 7 || !e.OpenedAt.Equal(opened) {
				t.Fatalf("got %+v, want phase %s cause %s to %s", e, tc.wantPhase, tc.wantCause, tc.wantTo)
			}
		})
	}
	released := tk(2 * time.Hour)
	released.ReleasedAt = opened.Add(30 * time.Hour)
	if e := EscalationDue(released, SupportL1, policy.Evaluate(released, opened.Add(31*time.Hour)), opened.Add(31*time.Hour)); e != nil {
		t.Errorf("released ticket escalated: %+v", e)
	}
	if e := EscalationDue(tk(0), SupportL1, SLAStatus{State: SLANone}, opened); e != nil {
		t.Errorf("ticket without SLA escalated: %+v", e)
	}
}
