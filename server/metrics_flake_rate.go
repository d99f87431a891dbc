package server

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Bounds of patchgate_flake_rate.
const (
	// FlakeRateWindow is how many of each repository's latest verifications
	// a flake rate covers.
	FlakeRateWindow = 50
	// FlakeRateSeries caps the series one scrape exports: the highest rates.
	FlakeRateSeries = 100
)

// flakeRateCollector exports patchgate_flake_rate{repo,test} at scrape time,
// computed from the stored results. Why a gauge read from the database and
// not counters of runs per test: a counter per test, suite and repository
// would be a series for every test ever run (tens of thousands, most never
// flaky), reset by every restart and different on every server. Here only
// tests flaky in the window have a series, at most FlakeRateSeries of them,
// and every server exports the same values; the cost is one bounded query
// per scrape.
type flakeRateCollector struct {
	m    *Metrics
	rate *prometheus.Desc
}

func newFlakeRateCollector(m *Metrics) *flakeRateCollector {
	return &flakeRateCollector{m: m, rate: prometheus.NewDesc("patchgate_flake_rate",
		"Share of a test's suite runs, in its repository's last 50 verifications, in which it failed and then passed on a re-run; the 100 highest of the tests flaky there.",
		[]string{"repo", "test"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *flakeRateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.rate }

// Collect implements prometheus.Collector.
func (c *flakeRateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.m.FlakeRates == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), slaScrapeTimeout)
	defer cancel()
	rates, err := c.m.FlakeRates(ctx, FlakeRateWindow, FlakeRateSeries)
	if err != nil {
		if c.m.Logger != nil {
			c.m.Logger.Warn("flake rates left out of this scrape", "err", err)
		}
		return
	}
	for _, r := range rates {
		ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, r.Rate(), r.Repo.String(), r.Test)
	}
}
