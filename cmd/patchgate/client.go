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
	raw, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// send sends a JSON request and returns the answer's body as it came, for
// --json to print what the API said; API errors as do.
func (c *apiClient) send(ctx context.Context, method, path string, in any) ([]byte, error) {
	if c.token == "" {
		return nil, patchgate.Errorf(patchgate.EUNAUTHORIZED, "no API token: pass --token or set PATCHGATE_TOKEN (create one with `patchgate token create`)")
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	base := strings.TrimSuffix(c.base, "/")
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
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
		return nil, fmt.Errorf("%s %s: %w (is patchgate running at %s? set --server or PATCHGATE_URL)", method, path, err, base)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return nil, apiError(method+" "+path, resp.StatusCode, resp.Status, raw)
	}
	return raw, nil
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
			fmt.Fprintf(cmd.OutOrStdout(), "linked %s → %s (%s, link %d)\n", l.Ticket.Key, l.Change.Ref(), l.Kind, l.ID)
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
		req                patchgate.ManualLinkRequest
		ticketID, changeID int64
	)
	cmd := &cobra.Command{
		Use:   "unlink (TICKET --repo OWNER/NAME (--pr N | --commit SHA) | --ticket-id ID --change-id ID)",
		Short: "Remove the links between a ticket and a change; they will not come back from text",
		Example: "  patchgate unlink PAY-123 --repo acme/api --pr 42\n" +
			"  patchgate unlink --ticket-id 7 --change-id 12",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			byIDs := ticketID != 0 || changeID != 0
			switch {
			case len(args) == 1 && byIDs:
				return patchgate.Errorf(patchgate.EINVALID, "name the link either as TICKET --repo --pr/--commit or with --ticket-id and --change-id, not both")
			case byIDs:
				if ticketID <= 0 || changeID <= 0 {
					return patchgate.Errorf(patchgate.EINVALID, "--ticket-id and --change-id go together: give both (or TICKET --repo OWNER/NAME --pr N)")
				}
				q := url.Values{"ticket_id": {fmt.Sprint(ticketID)}, "change_id": {fmt.Sprint(changeID)}}
				if err := c.do(cmd.Context(), http.MethodDelete, "/api/v1/links?"+q.Encode(), nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(w, "unlinked ticket %d from change %d\n", ticketID, changeID)
				return nil
			case len(args) == 0:
				return patchgate.Errorf(patchgate.EINVALID, "which link? give TICKET --repo OWNER/NAME with --pr N or --commit SHA (as for link), or --ticket-id and --change-id")
			}
			if req.Repo == "" || (req.Number > 0) == (req.Commit != "") {
				return patchgate.Errorf(patchgate.EINVALID, "unlink %s: give --repo OWNER/NAME and exactly one of --pr N and --commit SHA", args[0])
			}
			q := url.Values{"ticket": {args[0]}, "repo": {req.Repo}}
			if req.Forge != "" {
				q.Set("forge", string(req.Forge))
			}
			if req.Number > 0 {
				q.Set("number", fmt.Sprint(req.Number))
			} else {
				q.Set("commit", req.Commit)
			}
			var out struct {
				Ticket patchgate.Ticket `json:"ticket"`
				Change patchgate.Change `json:"change"`
			}
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/v1/links?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			fmt.Fprintf(w, "unlinked %s from %s\n", out.Ticket.Key, out.Change.Ref())
			return nil
		},
	}
	addAPIFlags(cmd, &c)
	cmd.Flags().StringVar(&req.Repo, "repo", "", "repository full name")
	cmd.Flags().StringVar((*string)(&req.Forge), "forge", "", "github or gitlab (when the name is on both)")
	cmd.Flags().IntVar(&req.Number, "pr", 0, "pull request (or merge request) number")
	cmd.Flags().IntVar(&req.Number, "mr", 0, "merge request number (same as --pr)")
	cmd.Flags().StringVar(&req.Commit, "commit", "", "a change's head commit SHA")
	cmd.Flags().Int64Var(&ticketID, "ticket-id", 0, "ticket id")
	cmd.Flags().Int64Var(&changeID, "change-id", 0, "change id")
	return cmd
}

// apiError turns an API error body into the *patchgate.Error it carries; a
// refused token also says where the CLI took it from. A body that is not the
// API's error (a proxy's page) is quoted, shortened, with the status.
func apiError(what string, code int, status string, raw []byte) error {
	var e struct {
		Error patchgate.Error `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
		if code == http.StatusUnauthorized {
			e.Error.Message += ": check the token (--token or PATCHGATE_TOKEN; `patchgate token create` makes one)"
		}
		return &e.Error
	}
	if code == http.StatusUnauthorized {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "%s: %s: check the token (--token or PATCHGATE_TOKEN)", what, status)
	}
	text := strings.TrimSpace(string(raw))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" {
		return fmt.Errorf("%s: %s", what, status)
	}
	return fmt.Errorf("%s: %s: %q", what, status, text)
}
