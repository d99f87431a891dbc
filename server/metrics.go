package server

import (
	"log/slog"
	"time"

	"github.com/patchgate/patchgate"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the server's Prometheus collectors.
type Metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
	processed  *prometheus.CounterVec
	queued     prometheus.Histogram
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchgate_http_requests_total",
			Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "patchgate_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchgate_webhook_deliveries_total",
			Help: "Webhook deliveries received, by forge, event and outcome (accepted, duplicate, ignored, rejected).",
		}, []string{"forge", "event", "outcome"}),
	}
	m.processed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "patchgate_deliveries_processed_total",
		Help: "Stored deliveries applied after the 202, by forge, event and outcome (processed, ignored, failed).",
	}, []string{"forge", "event", "outcome"})
	m.queued = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "patchgate_delivery_queue_seconds",
		Help:    "Time from a delivery's receipt to the end of its processing.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
	reg.MustRegister(m.requests, m.latency, m.deliveries, m.processed, m.queued)
	return m
}

// ObserveProcessed records a processed delivery; it fits pipelines.Processor's
// Observe hook.
func (m *Metrics) ObserveProcessed(d *patchgate.Delivery, outcome patchgate.DeliveryOutcome, queued time.Duration) {
	m.processed.WithLabelValues(string(d.Forge), d.Event, string(outcome)).Inc()
	m.queued.Observe(queued.Seconds())
}

func slogLevelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	if status >= 400 {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
