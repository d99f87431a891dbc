package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

// apiClient is the CLI's client of a running patchgate's JSON API: commands that
// act as a user go through the same API, authentication and roles as scripts do.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// addAPIFlags adds --server and --token, defaulting to PATCHGATE_URL and
// PATCHGATE_TOKEN.
func addAPIFlags(cmd *cobra.Command, c *apiClient) {
	server := os.Getenv("PATCHGATE_URL")
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	cmd.Flags().StringVar(&c.base, "server", server, "patchgate URL (PATCHGATE_URL)")
	cmd.Flags().StringVar(&c.token, "token", os.Getenv("PATCHGATE_TOKEN"), "API token (PATCHGATE_TOKEN)")
}

// do sends a JSON request and decodes a JSON answer into out; API errors come
// back as *patchgate.Error with the server's code and message.
func (c *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	if c.token == "" {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "no API token: pass --token or set PATCHGATE_TOKEN (create one with `patchgate token create`)")
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.base, "/")+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.http
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return apiError(method+" "+path, resp.Status, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func newLinkCommand() *cobra.Command {
	var (
		c   apiClient
		req patchgate.ManualLinkRequest
		rel bool
	)
	cmd := &cobra.Command{
		Use:   "link TICKET --repo OWNER/NAME (--pr N | --commit SHA)",
		Short: "Link a ticket to a pull/merge request or commit by hand",
		Example: "  patchgate link PAY-123 --repo acme/api --pr 42\n" +
			"  patchgate link '#45' --repo acme/api --commit 3f2a1c9…",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Ticket = args[0]
			if rel {
				req.Kind = patchgate.LinkRelates
			}
			var out struct {
				Link patchgate.Link `json:"link"`
			}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/links", req, &out); err != nil {
				return err
			}
			l := out.Link
			fmt.Fprintf(cmd.OutOrStdout(), "linked %s to %s (%s, link %d)\n", l.Ticket.Key, l.Change.Ref(), l.Kind, l.ID)
			return nil
		},
	}
	addAPIFlags(cmd, &c)
	cmd.Flags().StringVar(&req.Repo, "repo", "", "repository full name")
	cmd.Flags().StringVar((*string)(&req.Forge), "forge", "", "github or gitlab (when the name is on both)")
	cmd.Flags().IntVar(&req.Number, "pr", 0, "pull request (or merge request) number")
	cmd.Flags().IntVar(&req.Number, "mr", 0, "merge request number (same as --pr)")
	cmd.Flags().StringVar(&req.Commit, "commit", "", "a change's head commit SHA")
	cmd.Flags().BoolVar(&rel, "relates", false, "the change only relates to the ticket (default: it fixes it)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why, shown with the link")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}

func newUnlinkCommand() *cobra.Command {
	var (
		c                  apiClient
		ticketID, changeID int64
	)
	cmd := &cobra.Command{
		Use:   "unlink --ticket-id ID --change-id ID",
		Short: "Remove the links between a ticket and a change; they will not come back from text",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"ticket_id": {fmt.Sprint(ticketID)}, "change_id": {fmt.Sprint(changeID)}}
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/v1/links?"+q.Encode(), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "unlinked ticket %d from change %d\n", ticketID, changeID)
			return nil
		},
	}
	addAPIFlags(cmd, &c)
	cmd.Flags().Int64Var(&ticketID, "ticket-id", 0, "ticket id")
	cmd.Flags().Int64Var(&changeID, "change-id", 0, "change id")
	_ = cmd.MarkFlagRequired("ticket-id")
	_ = cmd.MarkFlagRequired("change-id")
	return cmd
}

// apiError turns an API error body into the *patchgate.Error it carries.
func apiError(what, status string, raw []byte) error {
	var e struct {
		Error patchgate.Error `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
		return &e.Error
	}
	return fmt.Errorf("%s: %s", what, status)
}
