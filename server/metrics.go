package server

import (
	"context"
	"fmt"
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
	flaky      *prometheus.CounterVec
	// reconcileLast and reconcileCorrected follow head reconciliation.
	reconcileLast      prometheus.Gauge
	reconcileCorrected prometheus.Counter
	redelivered        prometheus.Counter

	// SLAReport is called at each scrape for the SLA metrics; nil exports
	// none. Set it before serving.
	SLAReport func(ctx context.Context) (*SLAReport, error)
	// FlakeRates is called at each scrape for patchgate_flake_rate with the
	// window (verifications per repository) and the most series to export;
	// nil exports none. Set it before serving.
	FlakeRates func(ctx context.Context, last, limit int) ([]patchgate.FlakeRate, error)
	// DeliveryBacklog is called at each scrape for patchgate_deliveries_pending
	// and patchgate_delivery_oldest_pending_seconds: how many deliveries wait
	// to be applied and when the oldest was received; nil exports neither.
	DeliveryBacklog func(ctx context.Context) (pending int, oldest time.Time, err error)
	// Logger logs a failed SLAReport or FlakeRates, which leaves those
	// metrics out of that scrape rather than failing it.
	Logger *slog.Logger
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
	m.flaky = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "patchgate_flaky_tests_total",
		Help: "Tests that failed and then passed when their suite was re-run on the same commit, by repository and test.",
	}, []string{"repo", "test"})
	m.reconcileLast = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "patchgate_reconcile_last_run_timestamp_seconds",
		Help: "When this process last finished comparing open changes' heads with the forges (Unix time).",
	})
	m.reconcileCorrected = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "patchgate_reconcile_heads_corrected_total",
		Help: "Changes whose head or state this process corrected from the forge's (missed webhooks).",
	})
	reg.MustRegister(m.requests, m.latency, m.deliveries, m.processed, m.queued, m.flaky, newSLACollector(m), newFlakeRateCollector(m))
	m.redelivered = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "patchgate_reconcile_redelivered_total",
		Help: "Webhook deliveries this process asked a forge to send again (they had not reached patchgate).",
	})
	reg.MustRegister(m.reconcileLast, m.reconcileCorrected, m.redelivered)
	reg.MustRegister(newBacklogCollector(m))
	return m
}

// ObserveProcessed records a processed delivery; it is delivery.Processor's
// Observer.
func (m *Metrics) ObserveProcessed(d *patchgate.Delivery, outcome patchgate.DeliveryOutcome, queued time.Duration) {
	m.processed.WithLabelValues(string(d.Source), d.Event, string(outcome)).Inc()
	m.queued.Observe(queued.Seconds())
}

// ObserveReconcile records a finished reconciliation run.
func (m *Metrics) ObserveReconcile(run patchgate.ReconcileRun) {
	m.reconcileLast.Set(float64(run.FinishedAt.UnixMilli()) / 1000)
	m.reconcileCorrected.Add(float64(run.Corrected))
	m.redelivered.Add(float64(run.Redelivered))
}

// ObserveFlaky counts the tests of one suite run that failed and then passed
// on a re-run; it fits runners.Executor's OnFlaky hook. The repository label
// is "forge:owner/name".
func (m *Metrics) ObserveFlaky(repo patchgate.RepoRef, tests []string) {
	for _, name := range tests {
		m.flaky.WithLabelValues(repo.String(), name).Inc()
	}
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

// SLAReport is the tickets' SLA as one scrape of /metrics sees it.
type SLAReport struct {
	// Open counts the tickets not yet released by SLA state.
	Open map[patchgate.SLAState]int
	// ToVerified and ToRelease are, for the tickets that got there, the times
	// from opened to first verified and from opened to released.
	ToVerified, ToRelease []time.Duration
}

// SLAScanLimit caps the tickets one SLA report reads for each of its parts, so
// that a scrape's work is bounded however many tickets there are.
const SLAScanLimit = 10_000

// TicketSLAReport returns a Metrics.SLAReport that counts the newest
// SLAScanLimit unreleased tickets by their state under sla, and takes the
// durations from the newest SLAScanLimit tickets with a verified time. Older
// tickets past the cap are left out.
func TicketSLAReport(tickets patchgate.TicketService, sla func(*patchgate.Ticket) patchgate.SLAStatus) func(ctx context.Context) (*SLAReport, error) {
	since := func(from, to time.Time) time.Duration { return max(to.Sub(from), 0) }
	return func(ctx context.Context) (*SLAReport, error) {
		released, verified := false, true
		open := patchgate.SLATally{Counts: map[patchgate.SLAState]int{}}
		if _, err := scanTickets(ctx, tickets, patchgate.TicketFilter{Released: &released}, SLAScanLimit, func(ts []*patchgate.Ticket) bool {
			return open.Add(ts, sla)
		}); err != nil {
			return nil, fmt.Errorf("count open tickets by SLA state: %w", err)
		}
		r := &SLAReport{Open: open.Counts}
		if _, err := scanTickets(ctx, tickets, patchgate.TicketFilter{Verified: &verified}, SLAScanLimit, func(ts []*patchgate.Ticket) bool {
			for _, t := range ts {
				r.ToVerified = append(r.ToVerified, since(t.OpenedAt, t.VerifiedAt))
				if !t.ReleasedAt.IsZero() {
					r.ToRelease = append(r.ToRelease, since(t.OpenedAt, t.ReleasedAt))
				}
			}
			return false
		}); err != nil {
			return nil, fmt.Errorf("read verified tickets: %w", err)
		}
		return r, nil
	}
}

// slaBuckets are the SLA histograms' upper bounds: 1h, 4h, 8h, 24h, 72h, 168h
// and 720h in seconds, the default targets' scale.
var slaBuckets = []float64{3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600, 168 * 3600, 720 * 3600}

// slaScrapeTimeout bounds the database reads of one scrape's SLA report.
const slaScrapeTimeout = 10 * time.Second

// slaCollector exports Metrics.SLAReport at scrape time. The histograms are
// built from the stored durations at each scrape (const histograms), not
// observed as tickets move: they describe the tickets in the database now, so
// they survive restarts and agree across servers, but a ticket past
// SLAScanLimit or reopened drops out of them.
type slaCollector struct {
	m                           *Metrics
	open, toVerified, toRelease *prometheus.Desc
}

func newSLACollector(m *Metrics) *slaCollector {
	return &slaCollector{
		m: m,
		open: prometheus.NewDesc("patchgate_tickets_sla",
			"Unreleased tickets by SLA state (on_track, at_risk, breached, none), at most the newest 10,000.",
			[]string{"state"}, nil),
		toVerified: prometheus.NewDesc("patchgate_ticket_time_to_verified_seconds",
			"Time from a ticket's opening to its first verified fix, over the newest 10,000 verified tickets.", nil, nil),
		toRelease: prometheus.NewDesc("patchgate_ticket_time_to_release_seconds",
			"Time from a ticket's opening to its release, over the released ones of the newest 10,000 verified tickets.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *slaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.toVerified
	ch <- c.toRelease
}

// Collect implements prometheus.Collector.
func (c *slaCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.SLAReport == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), slaScrapeTimeout)
	defer cancel()
	r, err := c.m.SLAReport(ctx)
	if err != nil {
		if c.m.Logger != nil {
			c.m.Logger.Warn("SLA metrics left out of this scrape", "err", err)
		}
		return
	}
	for _, st := range []patchgate.SLAState{patchgate.SLAOnTrack, patchgate.SLAAtRisk, patchgate.SLABreached, patchgate.SLANone} {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(r.Open[st]), string(st))
	}
	ch <- constHistogram(c.toVerified, r.ToVerified)
	ch <- constHistogram(c.toRelease, r.ToRelease)
}

// constHistogram builds a histogram of ds in seconds over slaBuckets.
func constHistogram(desc *prometheus.Desc, ds []time.Duration) prometheus.Metric {
	buckets := make(map[float64]uint64, len(slaBuckets))
	for _, b := range slaBuckets {
		buckets[b] = 0 // every bound appears, empty ones too
	}
	var sum float64
	for _, d := range ds {
		s := d.Seconds()
		sum += s
		for _, b := range slaBuckets {
			if s <= b {
				buckets[b]++
			}
		}
	}
	return prometheus.MustNewConstHistogram(desc, uint64(len(ds)), sum, buckets)
}
