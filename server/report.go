package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// Reporter computes the SLA and delivery reports (reporting.Reports).
type Reporter interface {
	// SLA reports on the SLA over period; EINVALID for a bad period or filter.
	SLA(ctx context.Context, period patchgate.ReportPeriod, filter patchgate.ReportFilter) (patchgate.SLAReport, error)
	// Delivery reports the delivery measures over period; EINVALID likewise.
	Delivery(ctx context.Context, period patchgate.ReportPeriod, filter patchgate.ReportFilter) (patchgate.DeliveryReport, error)
}

// reportDefaultDays is the period a report covers when the request names
// none: the last 28 days up to the end of today, four whole weeks.
const reportDefaultDays = 28

// reportQuery reads ?from=&to=&repo=&severity=&level=. from and to are RFC 3339
// times or YYYY-MM-DD dates (midnight UTC); to is exclusive, so
// from=2026-11-01&to=2026-12-01 is November. Without them the period is the
// last 28 days up to the end of today (UTC); with only one, the other is 28
// days away.
func reportQuery(c *gin.Context, now time.Time) (patchgate.ReportPeriod, patchgate.ReportFilter, error) {
	var p patchgate.ReportPeriod
	var f patchgate.ReportFilter
	var err error
	if p.From, err = reportTime(c, "from"); err != nil {
		return p, f, err
	}
	if p.To, err = reportTime(c, "to"); err != nil {
		return p, f, err
	}
	span := reportDefaultDays * 24 * time.Hour
	switch {
	case p.From.IsZero() && p.To.IsZero():
		p.To = now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		p.From = p.To.Add(-span)
	case p.From.IsZero():
		p.From = p.To.Add(-span)
	case p.To.IsZero():
		p.To = p.From.Add(span)
	}
	f.Repo = strings.TrimSpace(c.Query("repo"))
	if sev := strings.TrimSpace(c.Query("severity")); sev != "" {
		f.Severity = patchgate.Severity(sev)
	}
	if level := strings.TrimSpace(c.Query("level")); level != "" {
		f.Level = patchgate.SupportLevel(level)
	}
	if err := p.Validate(); err != nil {
		return p, f, err
	}
	return p, f, f.Validate()
}

// reportTime reads one bound of the period; zero when absent.
func reportTime(c *gin.Context, key string) (time.Time, error) {
	v := strings.TrimSpace(c.Query(key))
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, patchgate.Errorf(patchgate.EINVALID, "query %s: %q is neither a date (2026-11-01) nor an RFC 3339 time (2026-11-01T00:00:00Z)", key, v)
	}
	return t.UTC(), nil
}

// reporter returns the configured Reporter, or ENOTFOUND saying the server
// has none (a build without the report wiring).
func (s *Server) reporter() (Reporter, error) {
	if s.Reports == nil {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "reports are not served by this server")
	}
	return s.Reports, nil
}

func (s *Server) handleSLAReport(c *gin.Context) {
	s.serveReport(c, func(ctx context.Context, r Reporter, p patchgate.ReportPeriod, f patchgate.ReportFilter) (any, error) {
		return r.SLA(ctx, p, f)
	})
}

func (s *Server) handleDeliveryReport(c *gin.Context) {
	s.serveReport(c, func(ctx context.Context, r Reporter, p patchgate.ReportPeriod, f patchgate.ReportFilter) (any, error) {
		return r.Delivery(ctx, p, f)
	})
}

// serveReport answers a report request with the report run makes of the
// query's period and filter, or the error of whichever step refused.
func (s *Server) serveReport(c *gin.Context, run func(context.Context, Reporter, patchgate.ReportPeriod, patchgate.ReportFilter) (any, error)) {
	r, err := s.reporter()
	if err != nil {
		s.writeError(c, err)
		return
	}
	p, f, err := reportQuery(c, time.Now())
	if err != nil {
		s.writeError(c, err)
		return
	}
	rep, err := run(c.Request.Context(), r, p, f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
