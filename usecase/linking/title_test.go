package linking_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestTitlePrefixConvention: "PAY-7: fix …" claims the fix by default; a key
// later in the title only relates; a repository with TitlePrefixFixes off
// turns the convention off.
func TestTitlePrefixConvention(t *testing.T) {
	for _, tt := range []struct {
		name, title string
		off         bool
		want        patchgate.LinkKind
	}{
		{"key first", "PAY-7: fix the README", false, patchgate.LinkFixes},
		{"key in brackets first", "[PAY-7] fix the README", false, patchgate.LinkFixes},
		{"key later", "Fix the README, found in PAY-7", false, patchgate.LinkRelates},
		{"convention off", "PAY-7: fix the README", true, patchgate.LinkRelates},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t)
			w.repo.TitlePrefixFixes = !tt.off
			if err := w.linker.ApplyChange(ctx, w.repo, pr(3, "opened", tt.title, strings.Repeat("a", 40))); err != nil {
				t.Fatal(err)
			}
			tk, err := w.tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-7")
			if err != nil {
				t.Fatal(err)
			}
			links, err := w.links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &tk.ID})
			if err != nil || len(links) != 1 || links[0].Kind != tt.want {
				t.Fatalf("got links %+v, %v; want one %s link", links, err, tt.want)
			}
		})
	}
}
