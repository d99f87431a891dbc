package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// suiteView is one suite of a verification page.
type suiteView struct {
	*patchgate.SuiteRun
	Index int
	// Tests are the per-test results, failures first.
	Tests []patchgate.TestResult
	// Log is the log so far, up to its last complete line while it runs;
	// After is the byte offset it ends at, where the live log resumes.
	Log   string
	After int64
	Live  bool
	// Events is the URL of the live log.
	Events string
}

// verificationView is the verification page.
type verificationView struct {
	pageView
	V      *patchgate.Verification
	Suites []suiteView
	// Proof is the fail-to-pass proof; nil when the change fixes no ticket
	// or it has not run yet.
	Proof *patchgate.Proof
	// Flaky is the repository's flakiness history over its last
	// FlakyWindow verifications, the most often flaky first.
	Flaky       []flakyRow
	FlakyWindow int
	// Quarantines are the repository's quarantines created through the API
	// (those of .patchgate.yml are in the file).
	Quarantines []quarantineRow
}

// flakyRow is one test of the flakiness history.
type flakyRow struct {
	Suite, Name string
	// Times is how many suite runs it was flaky in; Last is the newest
	// verification it was flaky in.
	Times int
	Last  int64
}

// quarantineRow is one quarantine, Expired at the time of the page.
type quarantineRow struct {
	patchgate.Quarantine
	Expired bool
}

// pageLogLimit is how much of a log the page itself holds: the tail.
const pageLogLimit = 256 << 10

// handleVerificationPage serves GET /ui/verifications/:id: suites with state,
// timings, per-test results (failures first) and logs, live while running.
func (s *Server) handleVerificationPage(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	if s.Verifications == nil {
		s.dashboardError(c, patchgate.Errorf(patchgate.ENOTFOUND, "this server does not verify"))
		return
	}
	ctx := c.Request.Context()
	v, err := s.Verifications.FindVerificationByID(ctx, id)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	view := &verificationView{pageView: pageView{Title: fmt.Sprintf("Verification %d", v.ID), Nav: "releases"}, V: v}
	for i, sr := range v.Suites {
		sv := suiteView{SuiteRun: sr, Index: i, Live: !sr.State.Final(),
			Events: fmt.Sprintf("/ui/verifications/%d/suites/%s/events", v.ID, sr.Name)}
		if sv.Tests, err = s.Verifications.FindTests(ctx, sr.ID); err != nil {
			s.dashboardError(c, err)
			return
		}
		slices.SortStableFunc(sv.Tests, func(a, b patchgate.TestResult) int { return testRank(a.Status) - testRank(b.Status) })
		data, final, err := s.Verifications.ReadLog(ctx, sr.ID, 0)
		if err != nil {
			s.dashboardError(c, err)
			return
		}
		sv.Live = !final
		if !final {
			data = data[:bytes.LastIndexByte(data, '\n')+1]
		}
		sv.After = int64(len(data))
		if len(data) > pageLogLimit {
			data = data[len(data)-pageLogLimit:]
		}
		sv.Log = cleanLog(string(data))
		view.Suites = append(view.Suites, sv)
	}
	repo := patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}
	if s.FlakyTests != nil {
		view.FlakyWindow = patchgate.DefaultFlakyWindow
		history, err := s.FlakyTests.FindFlakyTests(ctx, repo, view.FlakyWindow)
		if err != nil {
			s.dashboardError(c, err)
			return
		}
		view.Flaky = flakyRows(history)
	}
	if s.Quarantines != nil {
		qs, err := s.Quarantines.FindQuarantines(ctx, repo)
		if err != nil {
			s.dashboardError(c, err)
			return
		}
		now := time.Now()
		for _, q := range qs {
			view.Quarantines = append(view.Quarantines, quarantineRow{Quarantine: q, Expired: q.Expired(now)})
		}
	}
	if view.Proof, err = s.proofOf(ctx, v.ID); err != nil {
		s.dashboardError(c, err)
		return
	}
	s.render(c, http.StatusOK, "verification", view)
}

// flakyRows counts the flaky results (newest verification first) per suite
// and test: the most often flaky first, then by name.
func flakyRows(history []patchgate.FlakyTest) []flakyRow {
	var rows []flakyRow
	at := map[string]int{}
	for _, f := range history {
		key := f.Suite + "\x00" + f.Name
		i, ok := at[key]
		if !ok {
			i = len(rows)
			at[key] = i
			rows = append(rows, flakyRow{Suite: f.Suite, Name: f.Name, Last: f.VerificationID})
		}
		rows[i].Times++
	}
	slices.SortStableFunc(rows, func(a, b flakyRow) int { return b.Times - a.Times })
	return rows
}

// testRank orders test results: failures and errors first, skipped last.
func testRank(st patchgate.TestStatus) int {
	switch st {
	case patchgate.TestFailed, patchgate.TestErrored:
		return 0
	case patchgate.TestPassed:
		return 1
	}
	return 2
}

// ansi matches terminal escape sequences, which the page shows no better than
// as noise.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// cleanLog drops escape sequences and carriage returns.
func cleanLog(s string) string {
	s = ansi.ReplaceAllString(s, "")
	return string(bytes.ReplaceAll([]byte(s), []byte("\r"), nil))
}

const (
	// logPoll is how often a live log reads the store for new lines: any
	// process may be appending, so the store, not a channel, is the source.
	logPoll = 500 * time.Millisecond
	// logPing keeps proxies from closing or buffering an idle stream.
	logPing = 30 * time.Second
	// logStreamMax ends a stream that runs this long; EventSource reconnects
	// where it left off.
	logStreamMax = 30 * time.Minute
)

// handleLogEvents serves GET /ui/verifications/:id/suites/:suite/events as
// Server-Sent Events: one event per log line from ?after= (or Last-Event-ID),
// whose id is the byte offset after it, then "end" when the suite is final. A
// finished log already read answers 204, so that EventSource stops.
func (s *Server) handleLogEvents(c *gin.Context) {
	sr, err := s.suiteRun(c)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	after, err := intQuery(c, "after", 0)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	pos := int64(after)
	if id := c.GetHeader("Last-Event-ID"); id != "" {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n >= 0 {
			pos = n
		}
	}
	ctx := c.Request.Context()
	data, final, err := s.Verifications.ReadLog(ctx, sr.ID, pos)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	if final && len(data) == 0 {
		c.Status(http.StatusNoContent)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	write := func(format string, args ...any) bool {
		// A server WriteTimeout would cut the stream: move it with each write.
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := fmt.Fprintf(c.Writer, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(": ping\n\n") {
		return
	}
	ping := time.NewTicker(logPing)
	defer ping.Stop()
	poll := time.NewTicker(logPoll)
	defer poll.Stop()
	deadline := time.After(logStreamMax)
	for {
		// Whole lines only, until the end: a line is never sent in halves.
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 && !final {
				break
			}
			line := data
			if i >= 0 {
				line = data[:i]
			}
			n := len(line)
			if i >= 0 {
				n++
			}
			pos += int64(n)
			data = data[n:]
			if !write("id: %d\ndata: %s\n\n", pos, cleanLog(string(line))) {
				return
			}
		}
		if final {
			write("event: end\ndata: %s\n\n", sr.State)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.streams:
			return // shutting down: EventSource reconnects to another server
		case <-deadline:
			return
		case <-ping.C:
			if !write(": ping\n\n") {
				return
			}
			continue
		case <-poll.C:
		}
		more, fin, err := s.Verifications.ReadLog(ctx, sr.ID, pos+int64(len(data)))
		if err != nil {
			if !errors.Is(err, ctx.Err()) {
				s.Logger.Warn("live log stopped", "suite_run", sr.ID, "err", err)
			}
			return
		}
		data, final = append(data, more...), fin
		if final {
			if cur, err := s.suiteRun(c); err == nil {
				sr = cur
			}
		}
	}
}

// CloseStreams ends the live log streams, which would otherwise keep an HTTP
// server's Shutdown waiting: register it with http.Server.RegisterOnShutdown.
func (s *Server) CloseStreams() {
	if s.streams != nil {
		s.streamsOnce.Do(func() { close(s.streams) })
	}
}

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }
