package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchgate/patchgate/server"
	"github.com/prometheus/client_golang/prometheus"
)

// TestDeliveryBacklogMetric: each scrape asks the store for the pending
// deliveries and exports how many there are and how long the oldest waits.
func TestDeliveryBacklogMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := server.NewMetrics(reg)
	gauges := func() map[string]float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, f := range families {
			for _, metric := range f.GetMetric() {
				if metric.GetGauge() != nil {
					out[f.GetName()] = metric.GetGauge().GetValue()
				}
			}
		}
		return out
	}
	if _, ok := gauges()["patchgate_deliveries_pending"]; ok {
		t.Error("backlog exported without a DeliveryBacklog to ask")
	}
	m.DeliveryBacklog = func(context.Context) (int, time.Time, error) {
		return 1200, time.Now().Add(-3 * time.Second), nil
	}
	g := gauges()
	if got := g["patchgate_deliveries_pending"]; got != 1200 {
		t.Errorf("patchgate_deliveries_pending: got %v, want 1200", got)
	}
	if got := g["patchgate_delivery_oldest_pending_seconds"]; got < 3 || got > 60 {
		t.Errorf("patchgate_delivery_oldest_pending_seconds: got %v, want about 3", got)
	}
	m.DeliveryBacklog = func(context.Context) (int, time.Time, error) { return 0, time.Time{}, nil }
	if g := gauges(); g["patchgate_deliveries_pending"] != 0 || g["patchgate_delivery_oldest_pending_seconds"] != 0 {
		t.Errorf("empty backlog: got %v, want both 0", g)
	}
}
