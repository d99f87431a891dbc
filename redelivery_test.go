package patchgate_test

import (
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestToRedeliver: a delivery is asked for again only when no attempt of it
// succeeded and patchgate has not stored it; the newest attempt is named;
// oldest delivery first, at most max.
func TestToRedeliver(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	log := []patchgate.HookDelivery{
		{ID: 9, GUID: "retried-ok", StatusCode: 202, DeliveredAt: at(5)},
		{ID: 8, GUID: "late", StatusCode: 0, DeliveredAt: at(4)},
		{ID: 7, GUID: "stored", StatusCode: 504, DeliveredAt: at(3)},
		{ID: 6, GUID: "twice", StatusCode: 503, DeliveredAt: at(2)},
		{ID: 5, GUID: "retried-ok", StatusCode: 503, DeliveredAt: at(1)},
		{ID: 4, GUID: "twice", StatusCode: 503, DeliveredAt: at(0)},
		{ID: 3, GUID: "", StatusCode: 500, DeliveredAt: at(0)},
	}
	stored := func(guid string) bool { return guid == "stored" }
	got := patchgate.ToRedeliver(log, stored, 0)
	if len(got) != 2 || got[0].GUID != "twice" || got[0].ID != 6 || got[1].GUID != "late" {
		t.Fatalf("got %+v, want twice (its newest attempt, 6) then late", got)
	}
	if got := patchgate.ToRedeliver(log, stored, 1); len(got) != 1 || got[0].GUID != "twice" {
		t.Fatalf("max 1: got %+v, want the oldest only", got)
	}
}
