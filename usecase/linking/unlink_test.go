package linking_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestUnlinkByReference: a ticket linked by hand is unlinked by its key (in
// any case) and the PR, or by the change's head commit; unlinking again, or
// a ticket patchgate does not know, is not_found and says why.
func TestUnlinkByReference(t *testing.T) {
	ctx := patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: "dev", Role: patchgate.RoleDeveloper})
	w := newWorld(t)
	head := strings.Repeat("b", 40)
	if err := w.linker.ApplyChange(ctx, w.repo, pr(4, "opened", "fix rounding", head)); err != nil {
		t.Fatal(err)
	}
	link := func(req patchgate.ManualLinkRequest) {
		t.Helper()
		req.Repo, req.Ticket, req.Kind, req.By = repoName, "PAY-8", patchgate.LinkFixes, "dev"
		if _, err := w.linker.LinkManually(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	link(patchgate.ManualLinkRequest{Number: 4})
	tk, ch, err := w.linker.UnlinkReference(ctx, patchgate.ManualLinkRequest{Repo: repoName, Ticket: "pay-8", Number: 4, By: "dev"})
	if err != nil || tk.Key != "PAY-8" || ch.Number != 4 {
		t.Fatalf("unlink by key and PR: got %v, %v, %v; want PAY-8 from #4", tk, ch, err)
	}
	if links, err := w.links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &tk.ID}); err != nil || len(links) != 0 {
		t.Errorf("PAY-8 after unlink: got links %+v, %v; want none", links, err)
	}
	tests := []struct {
		name, ticket, want string
	}{
		{name: "again", ticket: "PAY-8", want: "PAY-8 is not linked to " + repoName + "#4"},
		{name: "unknown ticket", ticket: "PAY-404", want: "PAY-404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := w.linker.UnlinkReference(ctx, patchgate.ManualLinkRequest{Repo: repoName, Ticket: tt.ticket, Number: 4, By: "dev"})
			if patchgate.ErrorCode(err) != patchgate.ENOTFOUND || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v; want not_found saying %q", err, tt.want)
			}
		})
	}
	// By commit, the change's head.
	link(patchgate.ManualLinkRequest{Commit: head})
	if tk, ch, err := w.linker.UnlinkReference(ctx, patchgate.ManualLinkRequest{Repo: repoName, Ticket: "PAY-8", Commit: head, By: "dev"}); err != nil || tk.Key != "PAY-8" || ch.Number != 4 {
		t.Errorf("unlink by commit: got %v, %v, %v; want PAY-8 from #4", tk, ch, err)
	}
}
