package patchgate_test

import (
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestTicketUpdateCheckTimes(t *testing.T) {
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		updated  time.Time
		opened   time.Time
		wantCode string
	}{
		{"no times", time.Time{}, time.Time{}, ""},
		{"now", now, now, ""},
		{"long ago", now.AddDate(-3, 0, 0), now.AddDate(-4, 0, 0), ""},
		{"clock drift of a minute", now.Add(time.Minute), now.Add(time.Minute), ""},
		{"exactly the allowance", now.Add(patchgate.MaxTrackerClockAhead), time.Time{}, ""},
		{"updated just past the allowance", now.Add(patchgate.MaxTrackerClockAhead + time.Second), time.Time{}, patchgate.EUNPROCESSABLE},
		{"updated in 2099", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, patchgate.EUNPROCESSABLE},
		{"opened in 2099", now, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), patchgate.EUNPROCESSABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := patchgate.TicketUpdate{Key: "PAY-1", UpdatedAt: tc.updated, OpenedAt: tc.opened}
			if got := patchgate.ErrorCode(u.CheckTimes(now)); got != tc.wantCode {
				t.Fatalf("got code %q, want %q (err %v)", got, tc.wantCode, u.CheckTimes(now))
			}
		})
	}
}

func TestMayUpdateTicket(t *testing.T) {
	tracker := func(name string, projects ...string) patchgate.Principal {
		return patchgate.Principal{Name: name, Role: patchgate.RoleTracker, Token: name, Projects: projects}
	}
	admin := patchgate.Principal{Name: "root", Role: patchgate.RoleAdmin, Token: "root"}
	for _, tc := range []struct {
		name      string
		p         patchgate.Principal
		key       string
		managedBy string
		wantCode  string
	}{
		{"unlimited token, unmanaged project", tracker("helpdesk"), "OPS-1", "", ""},
		{"limited token, its project", tracker("desk", "PAY", "OPS"), "OPS-1", "", ""},
		{"limited token, another project", tracker("desk", "PAY"), "OPS-1", "", patchgate.EFORBIDDEN},
		{"unlimited token, a Jira-managed project", tracker("helpdesk"), "JIR-1", "acme", patchgate.EFORBIDDEN},
		{"the Jira tracker's token", tracker("acme"), "JIR-1", "acme", ""},
		{"another Jira tracker's token", tracker("beta"), "JIR-1", "acme", patchgate.EFORBIDDEN},
		{"a forge user named as the tracker", patchgate.Principal{Name: "acme", Role: patchgate.RoleTracker}, "JIR-1", "acme", patchgate.EFORBIDDEN},
		{"the Jira tracker's token limited elsewhere", tracker("acme", "PAY"), "JIR-1", "acme", patchgate.EFORBIDDEN},
		{"admin, a Jira-managed project", admin, "JIR-1", "acme", ""},
		{"admin limited to PAY", patchgate.Principal{Name: "root", Role: patchgate.RoleAdmin, Projects: []string{"PAY"}}, "OPS-1", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := patchgate.MayUpdateTicket(tc.p, tc.key, tc.managedBy)
			if got := patchgate.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("got code %q (%v), want %q", got, err, tc.wantCode)
			}
		})
	}
}
