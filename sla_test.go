package patchgate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestSLAEvaluate(t *testing.T) {
	opened := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return opened.Add(d) }
	h := time.Hour
	policy := patchgate.SLAPolicy{patchgate.SeverityCritical: {Verified: 8 * h, Released: 24 * h}}
	// critical: verify-by 8h (at risk from 6h), release-by 24h (at risk from 18h).
	tests := []struct {
		name               string
		severity           patchgate.Severity
		verified, released time.Duration // 0: not yet
		now                time.Duration
		want               patchgate.SLAState
		phase              patchgate.SLAPhase
	}{
		{name: "just opened", now: 0, want: patchgate.SLAOnTrack, phase: patchgate.SLAPhaseVerify},
		{name: "before the verify risk point", now: 6*h - time.Nanosecond, want: patchgate.SLAOnTrack, phase: patchgate.SLAPhaseVerify},
		{name: "at the verify risk point", now: 6 * h, want: patchgate.SLAAtRisk, phase: patchgate.SLAPhaseVerify},
		{name: "at the verify deadline", now: 8 * h, want: patchgate.SLAAtRisk, phase: patchgate.SLAPhaseVerify},
		{name: "past the verify deadline", now: 8*h + time.Nanosecond, want: patchgate.SLABreached, phase: patchgate.SLAPhaseVerify},
		{name: "verified, release on track", verified: 2 * h, now: 18*h - time.Nanosecond, want: patchgate.SLAOnTrack, phase: patchgate.SLAPhaseRelease},
		{name: "verified, at the release risk point", verified: 2 * h, now: 18 * h, want: patchgate.SLAAtRisk, phase: patchgate.SLAPhaseRelease},
		{name: "verified, at the release deadline", verified: 2 * h, now: 24 * h, want: patchgate.SLAAtRisk, phase: patchgate.SLAPhaseRelease},
		{name: "verified, past the release deadline", verified: 2 * h, now: 24*h + time.Nanosecond, want: patchgate.SLABreached, phase: patchgate.SLAPhaseRelease},
		{name: "verified exactly at the deadline", verified: 8 * h, now: 9 * h, want: patchgate.SLAOnTrack, phase: patchgate.SLAPhaseRelease},
		{name: "verified late stays breached", verified: 8*h + time.Nanosecond, now: 9 * h, want: patchgate.SLABreached, phase: patchgate.SLAPhaseRelease},
		{name: "verified late, released in time", verified: 9 * h, released: 10 * h, now: 11 * h, want: patchgate.SLABreached},
		{name: "both in time", verified: 2 * h, released: 20 * h, now: 100 * h, want: patchgate.SLAMet},
		{name: "released exactly at the deadline", verified: 2 * h, released: 24 * h, now: 100 * h, want: patchgate.SLAMet},
		{name: "released late", verified: 2 * h, released: 24*h + time.Nanosecond, now: 100 * h, want: patchgate.SLABreached},
		{name: "released without a verified time", released: 7 * h, now: 100 * h, want: patchgate.SLAMet},
		{name: "released late without a verified time", released: 9 * h, now: 100 * h, want: patchgate.SLABreached},
		{name: "severity without a target", severity: patchgate.SeverityLow, now: 1000 * h, want: patchgate.SLANone},
		{name: "unknown severity", severity: patchgate.SeverityUnknown, now: 1000 * h, want: patchgate.SLANone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := &patchgate.Ticket{Severity: patchgate.SeverityCritical, OpenedAt: opened}
			if tt.severity != "" {
				tk.Severity = tt.severity
			}
			if tt.verified != 0 {
				tk.VerifiedAt = at(tt.verified)
			}
			if tt.released != 0 {
				tk.ReleasedAt = at(tt.released)
			}
			got := policy.Evaluate(tk, at(tt.now))
			if got.State != tt.want || got.Phase != tt.phase {
				t.Fatalf("got %s in phase %q, want %s in phase %q", got.State, got.Phase, tt.want, tt.phase)
			}
			if tt.want == patchgate.SLANone {
				if got.VerifyBy != nil || got.ReleaseBy != nil {
					t.Fatalf("got deadlines %v, %v; want none", got.VerifyBy, got.ReleaseBy)
				}
				return
			}
			if got.VerifyBy == nil || !got.VerifyBy.Equal(at(8*h)) || got.ReleaseBy == nil || !got.ReleaseBy.Equal(at(24*h)) {
				t.Fatalf("got deadlines %v, %v; want %v, %v", got.VerifyBy, got.ReleaseBy, at(8*h), at(24*h))
			}
		})
	}
}

func TestSLAEvaluateEdges(t *testing.T) {
	created := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tk := &patchgate.Ticket{Severity: patchgate.SeverityHigh, CreatedAt: created}
	got := patchgate.DefaultSLAPolicy().Evaluate(tk, created.Add(time.Hour))
	if got.State != patchgate.SLAOnTrack || got.VerifyBy == nil || !got.VerifyBy.Equal(created.Add(24*time.Hour)) {
		t.Errorf("without OpenedAt: got %+v, want on track, verify by CreatedAt+24h", got)
	}
	var none patchgate.SLAPolicy
	if got := none.Evaluate(tk, created); got.State != patchgate.SLANone {
		t.Errorf("nil policy: got %s, want none", got.State)
	}
	if got := patchgate.DefaultSLAPolicy().Evaluate(&patchgate.Ticket{Severity: patchgate.SeverityHigh}, created); got.State != patchgate.SLANone {
		t.Errorf("no times at all: got %s, want none", got.State)
	}
}

func TestSLAPolicyValidate(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name   string
		policy patchgate.SLAPolicy
		want   string // "" for valid
	}{
		{"defaults", patchgate.DefaultSLAPolicy(), ""},
		{"empty", patchgate.SLAPolicy{}, ""},
		{"equal targets", patchgate.SLAPolicy{patchgate.SeverityLow: {Verified: h, Released: h}}, ""},
		{"zero verified", patchgate.SLAPolicy{patchgate.SeverityLow: {Released: h}}, "verified must be positive"},
		{"released before verified", patchgate.SLAPolicy{patchgate.SeverityHigh: {Verified: 2 * h, Released: h}}, "at least verified"},
		{"unknown severity", patchgate.SLAPolicy{patchgate.SeverityUnknown: {Verified: h, Released: h}}, `"unknown"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if patchgate.ErrorCode(err) != patchgate.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an invalid error containing %q", err, tt.want)
			}
		})
	}
}

func TestSLAStateValidate(t *testing.T) {
	for _, s := range patchgate.SLAStates {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: got %v, want nil", s, err)
		}
	}
	if err := patchgate.SLAState("late").Validate(); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Errorf("late: got %v, want invalid", err)
	}
}

func TestSLAPolicyFor(t *testing.T) {
	pay := patchgate.SLAPolicy{patchgate.SeverityCritical: {Verified: time.Hour, Released: 2 * time.Hour}}
	ops := patchgate.DefaultSLAPolicy()
	dir := patchgate.NewRepositoryDirectory([]*patchgate.Repository{
		{Forge: patchgate.GitHub, Name: "acme/payments", TicketKeys: []string{"PAY"}, SLA: pay},
		{Forge: patchgate.GitLab, Name: "acme/platform/api", TicketKeys: []string{"OPS", "PAY"}, SLA: ops},
	})
	tests := []struct {
		name string
		t    patchgate.Ticket
		want patchgate.SLAPolicy
	}{
		{"forge issue", patchgate.Ticket{Tracker: patchgate.TrackerGitLab, Repo: "Acme/Platform/API", Key: "acme/platform/api#3"}, ops},
		{"forge issue of another forge", patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Repo: "acme/platform/api", Key: "acme/platform/api#3"}, nil},
		{"unconfigured repo", patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Repo: "acme/other", Key: "acme/other#1"}, nil},
		{"external key: first repo with the prefix", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-12"}, pay},
		{"external key of a later repo", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "OPS-1"}, ops},
		{"external key nobody claims", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PA-1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dir.SLAPolicyFor(&tt.t)
			if len(got) != len(tt.want) || got[patchgate.SeverityCritical] != tt.want[patchgate.SeverityCritical] {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
