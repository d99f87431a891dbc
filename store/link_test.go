package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// linkFixture is a database with two tickets and one change.
type linkFixture struct {
	links    *store.LinkService
	pay1     *patchgate.Ticket
	pay2     *patchgate.Ticket
	change   *patchgate.Change
	textOnly []patchgate.LinkSource
}

func newLinkFixture(t *testing.T, db *store.DB) *linkFixture {
	t.Helper()
	ctx := context.Background()
	tickets := store.NewTicketService(db)
	f := &linkFixture{links: store.NewLinkService(db),
		textOnly: []patchgate.LinkSource{patchgate.SourceTitle, patchgate.SourceBody, patchgate.SourceBranch}}
	var err error
	if f.pay1, err = tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1"}); err != nil {
		t.Fatal(err)
	}
	if f.pay2, err = tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-2"}); err != nil {
		t.Fatal(err)
	}
	if f.change, _, err = store.NewChangeService(db).ApplyChangeUpdate(ctx, prLifecycle(1)[0]); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *linkFixture) link(ticket *patchgate.Ticket, src patchgate.LinkSource, kind patchgate.LinkKind, text string) *patchgate.Link {
	return &patchgate.Link{TicketID: ticket.ID, ChangeID: f.change.ID, Source: src, Kind: kind, Provenance: text}
}

// describe renders links as "PAY-1 title fixes" for comparisons.
func (f *linkFixture) describe(ls []*patchgate.Link) []string {
	out := []string{}
	for _, l := range ls {
		key := map[int64]string{f.pay1.ID: "PAY-1", f.pay2.ID: "PAY-2"}[l.TicketID]
		s := key + " " + string(l.Source) + " " + string(l.Kind)
		if l.CommitSHA != "" {
			s += " " + l.CommitSHA[:4]
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (f *linkFixture) stored(t *testing.T) []string {
	t.Helper()
	ls, err := f.links.FindLinks(context.Background(), patchgate.LinkFilter{ChangeID: &f.change.ID})
	if err != nil {
		t.Fatal(err)
	}
	return f.describe(ls)
}

func testLinks(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("sync adds, keeps and removes", func(t *testing.T) {
		f := newLinkFixture(t, open(t))
		want := []*patchgate.Link{
			f.link(f.pay1, patchgate.SourceTitle, patchgate.LinkRelates, "PAY-1"),
			f.link(f.pay2, patchgate.SourceBody, patchgate.LinkFixes, "Fixes PAY-2"),
		}
		added, removed, err := f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, want)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.describe(added); !slices.Equal(got, []string{"PAY-1 title relates", "PAY-2 body fixes"}) || len(removed) != 0 {
			t.Errorf("first sync added %v removed %v", got, f.describe(removed))
		}
		for _, l := range added {
			if l.ID == 0 || l.CreatedBy != "patchgate" || l.CreatedAt.IsZero() {
				t.Errorf("added link %+v: want id, created by patchgate, creation time", l)
			}
		}
		// The same text again changes nothing.
		added, removed, err = f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, want)
		if err != nil || len(added)+len(removed) != 0 {
			t.Errorf("second sync added %v removed %v (%v); want nothing", f.describe(added), f.describe(removed), err)
		}
		// The title now closes PAY-1 and the body no longer mentions PAY-2.
		added, removed, err = f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, []*patchgate.Link{
			f.link(f.pay1, patchgate.SourceTitle, patchgate.LinkFixes, "Fixes PAY-1"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if a, r := f.describe(added), f.describe(removed); !slices.Equal(a, []string{"PAY-1 title fixes"}) ||
			!slices.Equal(r, []string{"PAY-1 title relates", "PAY-2 body fixes"}) {
			t.Errorf("edit sync added %v removed %v", a, r)
		}
		if got := f.stored(t); !slices.Equal(got, []string{"PAY-1 title fixes"}) {
			t.Errorf("stored %v", got)
		}
		// Syncing only the branch leaves title links alone.
		if _, removed, err = f.links.SyncExtractedLinks(ctx, f.change.ID, []patchgate.LinkSource{patchgate.SourceBranch}, nil); err != nil || len(removed) != 0 {
			t.Errorf("branch-only sync removed %v (%v)", f.describe(removed), err)
		}
	})

	t.Run("commit-message links are only added", func(t *testing.T) {
		f := newLinkFixture(t, open(t))
		commits := []patchgate.LinkSource{patchgate.SourceCommitMessage}
		l := f.link(f.pay1, patchgate.SourceCommitMessage, patchgate.LinkFixes, "fix PAY-1")
		l.CommitSHA = sha("A")
		if _, _, err := f.links.SyncExtractedLinks(ctx, f.change.ID, commits, []*patchgate.Link{l}); err != nil {
			t.Fatal(err)
		}
		l2 := f.link(f.pay1, patchgate.SourceCommitMessage, patchgate.LinkFixes, "fix PAY-1 again")
		l2.CommitSHA = sha("B")
		added, removed, err := f.links.SyncExtractedLinks(ctx, f.change.ID, commits, []*patchgate.Link{l2})
		if err != nil || len(added) != 1 || len(removed) != 0 {
			t.Errorf("second commit: added %v removed %v (%v); want one added, none removed", f.describe(added), f.describe(removed), err)
		}
		if got := f.stored(t); len(got) != 2 {
			t.Errorf("stored %v, want both commit links", got)
		}
	})

	t.Run("manual unlink suppresses extraction", func(t *testing.T) {
		f := newLinkFixture(t, open(t))
		want := []*patchgate.Link{f.link(f.pay1, patchgate.SourceBody, patchgate.LinkFixes, "Fixes PAY-1")}
		if _, _, err := f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, want); err != nil {
			t.Fatal(err)
		}
		if err := f.links.DeleteLinks(ctx, f.pay1.ID, f.change.ID, "alice"); err != nil {
			t.Fatalf("DeleteLinks: %v", err)
		}
		added, _, err := f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, want)
		if err != nil || len(added) != 0 {
			t.Errorf("sync after unlink added %v (%v); want nothing", f.describe(added), err)
		}
		commit := f.link(f.pay1, patchgate.SourceCommitMessage, patchgate.LinkFixes, "fix PAY-1")
		commit.CommitSHA = sha("A")
		added, _, err = f.links.SyncExtractedLinks(ctx, f.change.ID, []patchgate.LinkSource{patchgate.SourceCommitMessage}, []*patchgate.Link{commit})
		if err != nil || len(added) != 0 {
			t.Errorf("commit sync after unlink added %v (%v); want nothing", f.describe(added), err)
		}
		if got := f.stored(t); len(got) != 0 {
			t.Errorf("stored after unlink %v, want none", got)
		}
		wantCode(t, f.links.DeleteLinks(ctx, f.pay1.ID, f.change.ID, "alice"), patchgate.ENOTFOUND)

		// Linking by hand lifts the suppression.
		manual := &patchgate.Link{TicketID: f.pay1.ID, ChangeID: f.change.ID, Provenance: "it does fix it", CreatedBy: "bob"}
		if err := f.links.CreateManualLink(ctx, manual); err != nil {
			t.Fatalf("CreateManualLink: %v", err)
		}
		if manual.ID == 0 || manual.Source != patchgate.SourceManual || manual.Kind != patchgate.LinkFixes {
			t.Errorf("manual link = %+v, want id, source manual, kind fixes", manual)
		}
		added, _, err = f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, want)
		if err != nil || len(added) != 1 {
			t.Errorf("sync after relink added %v (%v); want the body link", f.describe(added), err)
		}
		if got := f.stored(t); !slices.Equal(got, []string{"PAY-1 body fixes", "PAY-1 manual fixes"}) {
			t.Errorf("stored %v", got)
		}
	})

	t.Run("manual link conflicts and missing records", func(t *testing.T) {
		f := newLinkFixture(t, open(t))
		l := func() *patchgate.Link {
			return &patchgate.Link{TicketID: f.pay2.ID, ChangeID: f.change.ID, Kind: patchgate.LinkRelates, CreatedBy: "bob"}
		}
		if err := f.links.CreateManualLink(ctx, l()); err != nil {
			t.Fatal(err)
		}
		err := f.links.CreateManualLink(ctx, l())
		wantCode(t, err, patchgate.ECONFLICT)
		if !strings.Contains(patchgate.ErrorMessage(err), "already linked") {
			t.Errorf("conflict message = %q", patchgate.ErrorMessage(err))
		}
		missing := l()
		missing.TicketID = 999999
		wantCode(t, f.links.CreateManualLink(ctx, missing), patchgate.ENOTFOUND)
		missing = l()
		missing.ChangeID = 999999
		wantCode(t, f.links.CreateManualLink(ctx, missing), patchgate.ENOTFOUND)
		anonymous := l()
		anonymous.CreatedBy = ""
		wantCode(t, f.links.CreateManualLink(ctx, anonymous), patchgate.EINVALID)
		_, _, err = f.links.SyncExtractedLinks(ctx, 999999, f.textOnly, nil)
		wantCode(t, err, patchgate.ENOTFOUND)
		_, _, err = f.links.SyncExtractedLinks(ctx, f.change.ID, []patchgate.LinkSource{patchgate.SourceManual}, nil)
		wantCode(t, err, patchgate.EINVALID)
		_, _, err = f.links.SyncExtractedLinks(ctx, f.change.ID, []patchgate.LinkSource{patchgate.SourceTitle},
			[]*patchgate.Link{f.link(f.pay1, patchgate.SourceBody, patchgate.LinkFixes, "")})
		wantCode(t, err, patchgate.EINVALID)
		// A wanted link to a ticket that does not exist is refused, not half-stored.
		_, _, err = f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly,
			[]*patchgate.Link{{TicketID: 999999, ChangeID: f.change.ID, Source: patchgate.SourceTitle, Kind: patchgate.LinkFixes}})
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("find fills ticket and change", func(t *testing.T) {
		f := newLinkFixture(t, open(t))
		if _, _, err := f.links.SyncExtractedLinks(ctx, f.change.ID, f.textOnly, []*patchgate.Link{
			f.link(f.pay1, patchgate.SourceTitle, patchgate.LinkRelates, "PAY-1"),
			f.link(f.pay2, patchgate.SourceTitle, patchgate.LinkFixes, "Fixes PAY-2"),
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			f    patchgate.LinkFilter
			want []string
		}{
			{name: "by change", f: patchgate.LinkFilter{ChangeID: &f.change.ID}, want: []string{"PAY-1 title relates", "PAY-2 title fixes"}},
			{name: "by ticket", f: patchgate.LinkFilter{TicketID: &f.pay2.ID}, want: []string{"PAY-2 title fixes"}},
			{name: "by source", f: patchgate.LinkFilter{Source: ptr(patchgate.SourceBody)}, want: []string{}},
			{name: "limit", f: patchgate.LinkFilter{Limit: 1}, want: []string{"PAY-1 title relates"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ls, err := f.links.FindLinks(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.describe(ls); !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				for _, l := range ls {
					if l.Ticket == nil || l.Ticket.ID != l.TicketID || l.Ticket.Key == "" || l.Ticket.Labels == nil ||
						l.Change == nil || l.Change.ID != l.ChangeID || l.Change.HeadSHA != f.change.HeadSHA {
						t.Errorf("link %d: ticket %+v change %+v not filled", l.ID, l.Ticket, l.Change)
					}
				}
			})
		}
	})
}
