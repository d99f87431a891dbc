package jira_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
	"github.com/patchgate/patchgate/trackers/jira/fakejira"
)

// TestClientAgainstFake: the hand-written REST calls read an issue, keep one
// comment edited in place, apply a transition by name, and map failures to
// error codes.
func TestClientAgainstFake(t *testing.T) {
	ctx := context.Background()
	fj := fakejira.New("bot@acme.example", "jira-token")
	defer fj.Close()
	created := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	fj.AddIssue(fakejira.Issue{Key: "PAY-7", Summary: "Refunds round down", Priority: "Highest", Created: created})
	cfg := acme()
	cfg.URL, cfg.Email, cfg.Token = fj.URL(), "bot@acme.example", "jira-token"
	c := jira.NewClient(cfg, nil)

	i, err := c.ReadIssue(ctx, "PAY-7")
	if err != nil {
		t.Fatal(err)
	}
	if i.Title != "Refunds round down" || i.Severity != patchgate.SeverityCritical || !i.CreatedAt.Equal(created) ||
		i.State != patchgate.TrackerOpen || i.URL != fj.URL()+"/browse/PAY-7" {
		t.Fatalf("got %+v", i)
	}
	for _, body := range []string{"state: fix_proposed", "state: fix_verified", "state: fix_verified"} {
		if err := c.UpsertComment(ctx, "PAY-7", "{anchor:patchgate}", body); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := fj.Issue("PAY-7")
	if len(got.Comments) != 1 || len(got.Comments[0].Bodies) != 2 || got.Comments[0].Body() != "{anchor:patchgate}\nstate: fix_verified" {
		t.Fatalf("comments: got %+v, want one, edited once (the unchanged body is not sent again)", got.Comments)
	}
	if ok, err := c.Transition(ctx, "PAY-7", "in review"); !ok || err != nil {
		t.Fatalf("transition: got %v, %v", ok, err)
	}
	if ok, err := c.Transition(ctx, "PAY-7", "In Review"); ok || err != nil {
		t.Fatalf("transition to where it is: got %v, %v; want not available, no error", ok, err)
	}
	if got, _ := fj.Issue("PAY-7"); got.Status != "In Review" || len(got.Transitions) != 1 {
		t.Fatalf("got status %s after %v", got.Status, got.Transitions)
	}
	if _, err := c.ReadIssue(ctx, "PAY-8"); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("missing issue: got %v, want not found", err)
	}
	bad := *cfg
	bad.Token = "wrong"
	if _, err := jira.NewClient(&bad, nil).ReadIssue(ctx, "PAY-7"); patchgate.ErrorCode(err) != patchgate.EUNAUTHORIZED {
		t.Errorf("wrong token: got %v, want unauthorized", err)
	}
	fj.SetDown(true)
	if _, err := c.ReadIssue(ctx, "PAY-7"); patchgate.ErrorCode(err) != patchgate.EINTERNAL {
		t.Errorf("Jira down: got %v, want a transient (internal) error", err)
	}
}
