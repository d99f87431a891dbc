package forges_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// statusRoute is the path PostStatus posts to.
func (tc forgeCase) statusRoute(head string) string {
	if tc.forge == patchgate.GitHub {
		return "POST /api/v3/repos/" + tc.repo + "/statuses/" + head
	}
	return "POST /api/v4/projects/" + strings.ReplaceAll(tc.repo, "/", "%2F") + "/statuses/" + head
}

func TestRetry(t *testing.T) {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	tests := []struct {
		name     string
		fail     int
		status   int
		headers  map[string]string
		retry    forges.RetryPolicy
		attempts int
		code     string
		atLeast  time.Duration
		atMost   time.Duration
	}{
		{name: "429 with Retry-After 0", fail: 2, status: 429, headers: map[string]string{"Retry-After": "0"}, attempts: 3},
		{name: "429 with Retry-After 1 waits", fail: 1, status: 429, headers: map[string]string{"Retry-After": "1"}, attempts: 2, atLeast: 900 * time.Millisecond},
		{name: "403 rate limit until reset", fail: 1, status: 403,
			headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": now}, attempts: 2},
		{name: "429 with RateLimit-Reset", fail: 1, status: 429,
			headers: map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": now}, attempts: 2},
		{name: "502 twice", fail: 2, status: 502, attempts: 3},
		{name: "503 with Retry-After", fail: 1, status: 503, headers: map[string]string{"Retry-After": "0"}, attempts: 2},
		{name: "5xx gives up", fail: 10, status: 502, retry: forges.RetryPolicy{MaxRetries: 2}, attempts: 3, code: patchgate.EUNAVAILABLE},
		{name: "no retries", fail: 1, status: 502, retry: forges.RetryPolicy{MaxRetries: -1}, attempts: 1, code: patchgate.EUNAVAILABLE},
		{name: "rate limit beyond the budget fails at once", fail: 1, status: 429,
			headers: map[string]string{"Retry-After": "120"}, attempts: 1, code: patchgate.EUNAVAILABLE, atMost: time.Second},
		{name: "rate limit beyond a small budget", fail: 1, status: 429, headers: map[string]string{"Retry-After": "2"},
			retry: forges.RetryPolicy{MaxWait: time.Second}, attempts: 1, code: patchgate.EUNAVAILABLE, atMost: time.Second},
		{name: "403 without rate limit", fail: 1, status: 403, attempts: 1, code: patchgate.EFORBIDDEN},
		{name: "401", fail: 1, status: 401, attempts: 1, code: patchgate.EUNAUTHORIZED},
		{name: "422", fail: 1, status: 422, attempts: 1, code: patchgate.EINVALID},
		{name: "501 is not transient", fail: 1, status: 501, attempts: 1, code: patchgate.EINTERNAL},
	}
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ff := MustForge(t)
					cfg := fastConfig()
					if tt.retry.MaxRetries != 0 {
						cfg.Retry.MaxRetries = tt.retry.MaxRetries
					}
					if tt.retry.MaxWait != 0 {
						cfg.Retry.MaxWait = tt.retry.MaxWait
					}
					c := tc.new(t, ff, cfg)
					head := sha("retry")
					ff.AddCommit(tc.repo, head, nil, "m", "dev")
					ff.FailNext(tt.fail, tt.status, tt.headers)

					start := time.Now()
					err := c.PostStatus(context.Background(), tc.ref(), head,
						patchgate.CommitStatus{Context: "patchgate", State: patchgate.StatusPending})
					elapsed := time.Since(start)

					if got := patchgate.ErrorCode(err); got != tt.code {
						t.Errorf("code: got %q (%v), want %q", got, err, tt.code)
					}
					if got := count(ff, tc.statusRoute(head)); got != tt.attempts {
						t.Errorf("attempts: got %d, want %d", got, tt.attempts)
					}
					if elapsed < tt.atLeast {
						t.Errorf("elapsed: got %s, want at least %s", elapsed, tt.atLeast)
					}
					if tt.atMost > 0 && elapsed > tt.atMost {
						t.Errorf("elapsed: got %s, want at most %s", elapsed, tt.atMost)
					}
					if want := tt.code == ""; want != (len(ff.Statuses(tc.repo, head)) == 1) {
						t.Errorf("status recorded: got %d, want recorded=%v", len(ff.Statuses(tc.repo, head)), want)
					}
				})
			}
		})
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			ff.AddCommit(tc.repo, sha("x"), tree, "m", "dev")
			_, err := c.FileAt(context.Background(), tc.ref(), "missing.txt", sha("x"))
			wantCode(t, err, patchgate.ENOTFOUND)
			if got := len(ff.Requests()); got != 1 {
				t.Errorf("requests: got %d %q, want 1", got, ff.Requests())
			}
		})
	}
}

func TestWrongToken(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			cfg := fastConfig()
			cfg.Token = "wrong"
			c := tc.new(t, ff, cfg)
			ff.AddCommit(tc.repo, sha("x"), tree, "m", "dev")
			_, err := c.FileAt(context.Background(), tc.ref(), "go.mod", sha("x"))
			wantCode(t, err, patchgate.EUNAUTHORIZED)
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error: got %q, want no token in it", err)
			}
		})
	}
}

func TestRetryStopsWithContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ff := MustForge(t)
					cfg := fastConfig()
					cfg.Retry = forges.RetryPolicy{BaseDelay: 50 * time.Millisecond, MaxRetries: 1000, MaxWait: time.Hour}
					c := tc.new(t, ff, cfg)
					head := sha("ctx")
					ff.AddCommit(tc.repo, head, nil, "m", "dev")
					ff.FailNext(1000, 502, nil)

					ctx, cancel := tt.ctx()
					defer cancel()
					start := time.Now()
					err := c.PostStatus(ctx, tc.ref(), head, patchgate.CommitStatus{Context: "patchgate", State: patchgate.StatusPending})
					if !errors.Is(err, tt.want) {
						t.Errorf("error: got %v, want %v", err, tt.want)
					}
					// Without ctx the retries would go on for hours; allow for a loaded machine.
					if elapsed := time.Since(start); elapsed > 3*time.Second {
						t.Errorf("elapsed: got %s, want about 100ms", elapsed)
					}
					if got := count(ff, tc.statusRoute(head)); got < 1 || got > 10 {
						t.Errorf("attempts: got %d, want a few", got)
					}
				})
			}
		})
	}
}

func TestRetryLogsWithoutToken(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			var buf bytes.Buffer
			cfg := fastConfig()
			cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := tc.new(t, ff, cfg)
			head := sha("log")
			ff.AddCommit(tc.repo, head, nil, "m", "dev")
			ff.FailNext(1, 429, map[string]string{"Retry-After": "0"})
			if err := c.PostStatus(context.Background(), tc.ref(), head, patchgate.CommitStatus{Context: "patchgate", State: patchgate.StatusSuccess}); err != nil {
				t.Fatalf("PostStatus: %v", err)
			}
			logs := buf.String()
			if !strings.Contains(logs, "forge call retry") || !strings.Contains(logs, "status=429") {
				t.Errorf("logs: got %q, want a retry line with status=429", logs)
			}
			if strings.Contains(logs, fakeforge.Token) {
				t.Errorf("logs: got %q, want no token", logs)
			}
		})
	}
}

// TestUnavailableForgeSaysSo: a forge that cannot be reached, or answers 5xx
// until patchgate gives up, is EUNAVAILABLE with the forge and the cause in
// words, never an internal error, and the message names no URL.
func TestUnavailableForgeSaysSo(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			tests := []struct {
				name    string
				breakIt func(ff *fakeforge.Forge)
				want    string
			}{
				{"5xx", func(ff *fakeforge.Forge) { ff.FailNext(1000, 503, nil) }, string(tc.forge) + " answered 503 Service Unavailable; retry later"},
				{"down", func(ff *fakeforge.Forge) { ff.Close() }, string(tc.forge) + " is unreachable: dial tcp"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ff := MustForge(t)
					c := tc.MustClient(t, ff)
					head := sha("down")
					ff.AddCommit(tc.repo, head, nil, "m", "dev")
					tt.breakIt(ff)
					_, err := c.FileAt(context.Background(), tc.ref(), "go.mod", head)
					wantCode(t, err, patchgate.EUNAVAILABLE)
					msg := patchgate.ErrorMessage(err)
					if !strings.Contains(msg, tt.want) {
						t.Errorf("message %q, want it to contain %q", msg, tt.want)
					}
					if strings.Contains(msg, "http://") {
						t.Errorf("message %q names a URL", msg)
					}
				})
			}
		})
	}
}
