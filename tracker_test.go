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
