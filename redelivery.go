package patchgate

import (
	"slices"
	"time"
)

// HookDelivery is one attempt of a forge to deliver a webhook to patchgate, as
// the forge's hook delivery log lists it.
type HookDelivery struct {
	// HookID and ID name the attempt on the forge (what a redelivery asks for).
	HookID int64 `json:"hook_id"`
	ID     int64 `json:"id"`
	// GUID is the delivery's identity, the same for every attempt: what
	// patchgate deduplicates by (X-GitHub-Delivery).
	GUID        string    `json:"guid"`
	Event       string    `json:"event"`
	Action      string    `json:"action,omitempty"`
	StatusCode  int       `json:"status_code"`
	DeliveredAt time.Time `json:"delivered_at"`
}

// Succeeded reports whether patchgate answered the attempt 2xx (it stored the
// delivery); 0 is no answer at all.
func (d HookDelivery) Succeeded() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// ToRedeliver picks, from a hook's delivery log, the deliveries no attempt of
// which succeeded and that patchgate has not stored (stored says, by GUID),
// one attempt each (the newest), oldest delivery first, at most max. A
// delivery that arrived by another route (another instance, a redelivery by
// hand) is stored, so it is not asked for again.
func ToRedeliver(log []HookDelivery, stored func(guid string) bool, max int) []HookDelivery {
	byGUID := map[string]HookDelivery{}
	done := map[string]bool{}
	for _, d := range log {
		if d.GUID == "" {
			continue
		}
		if d.Succeeded() {
			done[d.GUID] = true
		}
		if prev, ok := byGUID[d.GUID]; !ok || d.DeliveredAt.After(prev.DeliveredAt) || d.DeliveredAt.Equal(prev.DeliveredAt) && d.ID > prev.ID {
			byGUID[d.GUID] = d
		}
	}
	var out []HookDelivery
	for guid, d := range byGUID {
		if !done[guid] && !stored(guid) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b HookDelivery) int {
		if c := a.DeliveredAt.Compare(b.DeliveredAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out
}

// NoHookLogError says a forge offers no delivery log of its hooks to read: a
// GitLab older than 17.x answers 404 on a project hook's events. Asking it
// again every run only repeats the 404; reconciliation corrects the heads.
type NoHookLogError struct {
	Forge Forge
	// Detail is the forge's answer.
	Detail string
}

func (e *NoHookLogError) Error() string {
	return "this " + string(e.Forge) + " does not offer hook events; reconciliation covers heads (" + e.Detail + ")"
}
