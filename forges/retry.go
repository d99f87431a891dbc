package forges

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// retrier runs forge calls with the shared retry rules.
type retrier struct {
	forge  patchgate.Forge
	max    int
	budget time.Duration
	base   time.Duration
	log    *slog.Logger
}

func newRetrier(forge patchgate.Forge, p RetryPolicy, log *slog.Logger) *retrier {
	rt := &retrier{forge: forge, max: p.MaxRetries, budget: p.MaxWait, base: p.BaseDelay, log: log}
	switch {
	case rt.max == 0:
		rt.max = 4
	case rt.max < 0:
		rt.max = 0
	}
	if rt.budget <= 0 {
		rt.budget = 30 * time.Second
	}
	if rt.base <= 0 {
		rt.base = 500 * time.Millisecond
	}
	return rt
}

// do calls op until it succeeds, fails for good, or the retry budget or ctx
// runs out. op returns the HTTP response it got, if any, so that do can read
// the status and rate-limit headers. action describes the call in lower case
// ("post status on github:acme/app"); it starts every error message.
func (rt *retrier) do(ctx context.Context, action string, op func() (*http.Response, error)) error {
	var waited time.Duration
	for attempt := 0; ; attempt++ {
		resp, err := op()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", action, ctx.Err())
		}
		// A decided error from below the client (the App's installation
		// token could not be had, and why) is final and keeps its words.
		if pe := (*patchgate.Error)(nil); resp == nil && errors.As(err, &pe) {
			return fmt.Errorf("%s: %w", action, pe)
		}
		wait, retry := rt.classify(attempt, resp, err)
		if !retry {
			return translate(rt.forge, action, resp, err)
		}
		if pastDeadline(ctx, wait) {
			return unavailable(rt.forge, action, resp, err, fmt.Errorf("%w before the next try in %s (last error: %w)",
				context.DeadlineExceeded, wait.Round(time.Millisecond), err))
		}
		if attempt >= rt.max || waited+wait > rt.budget {
			return unavailable(rt.forge, action, resp, err, fmt.Errorf("gave up after %d attempts (next try in %s): %w",
				attempt+1, wait.Round(time.Millisecond), err))
		}
		rt.log.LogAttrs(ctx, slog.LevelDebug, "forge call retry",
			slog.String("forge", string(rt.forge)), slog.String("action", action),
			slog.Int("attempt", attempt+1), slog.Int("status", statusOf(resp)),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (last error: %v)", action, ctx.Err(), err)
		case <-t.C:
		}
		waited += wait
	}
}

// classify says whether a failed call may be retried and after how long:
// rate limits wait for Retry-After or the reset time, 5xx and network errors
// back off; anything else is final.
func (rt *retrier) classify(attempt int, resp *http.Response, err error) (time.Duration, bool) {
	var rle *github.RateLimitError
	if errors.As(err, &rle) {
		if !rle.Rate.Reset.IsZero() {
			return max(0, time.Until(rle.Rate.Reset.Time)), true
		}
		return rt.backoff(attempt), true
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return max(0, *abuse.RetryAfter), true
		}
		return rt.backoff(attempt), true
	}
	if resp == nil {
		return rt.backoff(attempt), isNetworkError(err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusForbidden && rateLimited(resp.Header):
		if d, ok := rateLimitWait(resp.Header); ok {
			return d, true
		}
		return rt.backoff(attempt), true
	case code >= 500 && code != http.StatusNotImplemented:
		if d, ok := retryAfter(resp.Header); ok {
			return d, true
		}
		return rt.backoff(attempt), true
	}
	return 0, false
}

// backoff is base·2^attempt, capped at 10 s, with "equal jitter": half fixed,
// half random, so retries from many workers spread out.
func (rt *retrier) backoff(attempt int) time.Duration {
	d := min(rt.base<<min(attempt, 16), 10*time.Second)
	return d/2 + rand.N(d/2+1)
}

// rateLimited reports whether a 403 is a rate limit rather than a refusal.
func rateLimited(h http.Header) bool {
	return h.Get("X-RateLimit-Remaining") == "0" || h.Get("RateLimit-Remaining") == "0" || h.Get("Retry-After") != ""
}

// rateLimitWait reads how long a rate-limited answer asks to wait: Retry-After,
// else GitHub's X-RateLimit-Reset or GitLab's RateLimit-Reset (Unix seconds).
func rateLimitWait(h http.Header) (time.Duration, bool) {
	if d, ok := retryAfter(h); ok {
		return d, true
	}
	for _, k := range []string{"X-RateLimit-Reset", "RateLimit-Reset"} {
		if v, err := strconv.ParseInt(h.Get(k), 10, 64); err == nil && v > 0 {
			return max(0, time.Until(time.Unix(v, 0))), true
		}
	}
	return 0, false
}

// retryAfter parses Retry-After: delay seconds or an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(0, time.Duration(s)*time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t)), true
	}
	return 0, false
}

func isNetworkError(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

// pastDeadline reports whether waiting d would outlast ctx's deadline, in which
// case waiting is pointless.
func pastDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ok && time.Until(deadline) < d
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// unavailable is the error of a call given up on because the forge could not
// answer now (no connection, a 5xx, a rate limit): EUNAVAILABLE, naming the
// forge and the cause in words, so that the API answers 503 and a status or
// the CLI says what is wrong instead of "internal error". The cause names no
// URL (a download link may carry a token), only the network's own words.
func unavailable(forge patchgate.Forge, action string, resp *http.Response, last, detail error) error {
	return fmt.Errorf("%w (%w)", patchgate.Errorf(patchgate.EUNAVAILABLE, "%s: %s %s; retry later",
		action, forge, unavailableCause(resp, last)), detail)
}

// unavailableCause says in a few words why the forge did not answer.
func unavailableCause(resp *http.Response, err error) string {
	if resp != nil {
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests || code == http.StatusForbidden:
			return "rate limit reached"
		case code >= 500:
			return "answered " + resp.Status
		}
	}
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rle) || errors.As(err, &abuse) {
		return "rate limit reached"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "is unreachable: host " + dns.Name + " not found"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "is unreachable: " + op.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "did not answer in time"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "closed the connection"
	}
	return "is unreachable"
}

// translate gives a final forge error its root error code, keeping the client's
// error underneath. Errors without a code a user can act on stay internal.
func translate(forge patchgate.Forge, action string, resp *http.Response, err error) error {
	status := statusOf(resp)
	if errors.Is(err, gitlab.ErrNotFound) {
		status = http.StatusNotFound
	}
	var code, msg string
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		code, msg = patchgate.EINVALID, string(forge)+" refused the request"
	case http.StatusUnauthorized:
		code, msg = patchgate.EUNAUTHORIZED, string(forge)+" refused the token"
	case http.StatusForbidden:
		code, msg = patchgate.EFORBIDDEN, "the "+string(forge)+" token lacks the permission"
	case http.StatusNotFound:
		code, msg = patchgate.ENOTFOUND, "not found on "+string(forge)+" (or the token cannot see it)"
	case http.StatusConflict:
		code, msg = patchgate.ECONFLICT, "conflicts with "+string(forge)+"'s state"
	default:
		return fmt.Errorf("%s: %w", action, err)
	}
	return fmt.Errorf("%w (%w)", patchgate.Errorf(code, "%s: %s", action, msg), err)
}

// ghResp and glResp unwrap the libraries' responses for the retrier.
func ghResp(r *github.Response) *http.Response {
	if r == nil {
		return nil
	}
	return r.Response
}

func glResp(r *gitlab.Response) *http.Response {
	if r == nil {
		return nil
	}
	return r.Response
}
