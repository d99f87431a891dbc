package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// Client calls one Jira site's REST API (version 2) with basic auth (email
// and API token). Its URLs are built from Config.URL only. Errors carry
// patchgate codes: ENOTFOUND for 404, EUNAUTHORIZED for 401, EFORBIDDEN for
// 403, EINVALID for other 4xx; anything else (5xx, network, timeouts) is
// transient (EINTERNAL) and the caller may retry. The token is never logged
// nor put in an error. Safe for concurrent use.
type Client struct {
	cfg  *Config
	http *http.Client
}

// NewClient returns a client of cfg's site; hc nil means a client with a 30s
// timeout.
func NewClient(cfg *Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{cfg: cfg, http: hc}
}

// Config is the client's site.
func (c *Client) Config() *Config { return c.cfg }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("jira %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.cfg.URL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("jira %s %s: %w", method, path, err)
	}
	req.SetBasicAuth(c.cfg.Email, c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "patchgate")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("jira %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("jira %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		msg := fmt.Sprintf("jira %s %s: %s", method, path, resp.Status)
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return patchgate.Errorf(patchgate.ENOTFOUND, "%s", msg)
		case resp.StatusCode == http.StatusUnauthorized:
			return patchgate.Errorf(patchgate.EUNAUTHORIZED, "%s", msg)
		case resp.StatusCode == http.StatusForbidden:
			return patchgate.Errorf(patchgate.EFORBIDDEN, "%s", msg)
		case resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
			return patchgate.Errorf(patchgate.EINVALID, "%s", msg)
		}
		return fmt.Errorf("%s", msg)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("jira %s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func issuePath(key string) string { return "/rest/api/2/issue/" + url.PathEscape(key) }

// GetIssue reads an issue with the fields patchgate uses.
func (c *Client) GetIssue(ctx context.Context, key string) (*Issue, error) {
	fields := "summary,priority,status,created,updated,project,labels"
	if f := c.cfg.SeverityField; f != "" && f != "priority" {
		fields += "," + f
	}
	if f := c.cfg.LevelField; f != "" && f != c.cfg.SeverityField && f != "priority" && f != "labels" {
		fields += "," + f
	}
	var i Issue
	if err := c.do(ctx, http.MethodGet, issuePath(key)+"?fields="+url.QueryEscape(fields), nil, &i); err != nil {
		return nil, err
	}
	return &i, nil
}

// ReadIssue reads an issue in patchgate's terms.
func (c *Client) ReadIssue(ctx context.Context, key string) (*patchgate.TrackerIssue, error) {
	i, err := c.GetIssue(ctx, key)
	if err != nil {
		return nil, err
	}
	if i.Key == "" {
		i.Key = key
	}
	return c.cfg.TrackerIssue(i), nil
}

// Comment is a Jira issue comment.
type Comment struct {
	ID   string `json:"id"`
	Body string `json:"body"`
}

// Comments lists an issue's comments, every page.
func (c *Client) Comments(ctx context.Context, key string) ([]Comment, error) {
	var all []Comment
	for start := 0; ; {
		var page struct {
			StartAt    int       `json:"startAt"`
			MaxResults int       `json:"maxResults"`
			Total      int       `json:"total"`
			Comments   []Comment `json:"comments"`
		}
		if err := c.do(ctx, http.MethodGet, issuePath(key)+"/comment?startAt="+strconv.Itoa(start)+"&maxResults=100", nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Comments...)
		start += len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			return all, nil
		}
	}
}

// UpsertComment keeps one comment on the issue containing marker: the first
// such comment is edited when its body differs, and one is created when
// there is none. An unchanged body costs a read only.
func (c *Client) UpsertComment(ctx context.Context, key, marker, body string) error {
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	comments, err := c.Comments(ctx, key)
	if err != nil {
		return err
	}
	for _, cm := range comments {
		if !strings.Contains(cm.Body, marker) {
			continue
		}
		if cm.Body == body {
			return nil
		}
		return c.do(ctx, http.MethodPut, issuePath(key)+"/comment/"+url.PathEscape(cm.ID), map[string]string{"body": body}, nil)
	}
	return c.do(ctx, http.MethodPost, issuePath(key)+"/comment", map[string]string{"body": body}, nil)
}

// Transition applies the issue's transition named name (case-insensitive),
// looked up among those available now. It reports false, and no error, when
// no such transition is available (the issue is already there, or the
// workflow does not allow it from its status).
func (c *Client) Transition(ctx context.Context, key, name string) (bool, error) {
	var list struct {
		Transitions []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			To   struct {
				Name string `json:"name"`
			} `json:"to"`
		} `json:"transitions"`
	}
	if err := c.do(ctx, http.MethodGet, issuePath(key)+"/transitions", nil, &list); err != nil {
		return false, err
	}
	for _, t := range list.Transitions {
		if strings.EqualFold(t.Name, name) {
			in := map[string]any{"transition": map[string]string{"id": t.ID}}
			return true, c.do(ctx, http.MethodPost, issuePath(key)+"/transitions", in, nil)
		}
	}
	return false, nil
}
