package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestApprovalsStoredBeforePersonsDoNotCount: an approval stored before
// approvals named persons (no token, not by comment: its approver is a token's
// name) counts for nobody; the candidate still needs two people.
func TestApprovalsStoredBeforePersonsDoNotCount(t *testing.T) {
	w := newGateWorld(t, 2, nil)
	c := w.candidate(t)
	if _, err := w.app.main.DB.SQL().ExecContext(context.Background(),
		fmt.Sprintf(`INSERT INTO approvals (candidate_id, sha, approver, token, via, created_at) VALUES (%d, '%s', 'ops-bot', '', 'api', '%s')`,
			c.ID, c.SHA, time.Now().UTC().Format(time.RFC3339Nano))); err != nil {
		t.Fatal(err)
	}
	alice := w.token(t, "alice-laptop", patchgate.RoleReleaseManager, "github:alice")
	if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
		t.Fatalf("alice approves: got %d %q", code, msg)
	}
	code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/promote", c.ID), nil)
	if code != http.StatusConflict || !strings.Contains(msg, "1 of the 2") {
		t.Fatalf("promote with alice's and a pre-person approval: got %d %q, want 409 with 1 of the 2 approvals", code, msg)
	}
}
