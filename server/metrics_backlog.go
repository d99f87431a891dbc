package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// backlogCollector exports the deliveries acknowledged but not applied yet,
// read from the database at each scrape: the database is the queue, so every
// process sharing it reports the same backlog.
type backlogCollector struct {
	m              *Metrics
	pending, after *prometheus.Desc
}

func newBacklogCollector(m *Metrics) *backlogCollector {
	return &backlogCollector{m: m,
		pending: prometheus.NewDesc("patchgate_deliveries_pending",
			"Webhook deliveries acknowledged and stored but not applied yet (the processor's backlog).", nil, nil),
		after: prometheus.NewDesc("patchgate_delivery_oldest_pending_seconds",
			"How long the oldest pending delivery has waited since its receipt; 0 without a backlog.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.pending; ch <- c.after }

// Collect implements prometheus.Collector.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.DeliveryBacklog == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), slaScrapeTimeout)
	defer cancel()
	n, oldest, err := c.m.DeliveryBacklog(ctx)
	if err != nil {
		if c.m.Logger != nil {
			c.m.Logger.Warn("delivery backlog left out of this scrape", "err", err)
		}
		return
	}
	var age float64
	if n > 0 && !oldest.IsZero() {
		age = max(0, time.Since(oldest).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.after, prometheus.GaugeValue, age)
}
