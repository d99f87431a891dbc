package patchgate_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// describeLinks renders links as "1 title fixes" (ticket, source, kind, and a
// commit's first letters) for comparisons.
func describeLinks(ls []*patchgate.Link) []string {
	out := []string{}
	for _, l := range ls {
		s := fmt.Sprintf("%d %s %s", l.TicketID, l.Source, l.Kind)
		if l.CommitSHA != "" {
			s += " " + l.CommitSHA[:4]
		}
		if l.Provenance != "" {
			s += " " + l.Provenance
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestSyncLinks(t *testing.T) {
	const change = 9
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	text := []patchgate.LinkSource{patchgate.SourceTitle, patchgate.SourceBody}
	commits := []patchgate.LinkSource{patchgate.SourceCommitMessage}
	link := func(id, ticket int64, src patchgate.LinkSource, kind patchgate.LinkKind, prov string) *patchgate.Link {
		l := &patchgate.Link{ID: id, TicketID: ticket, ChangeID: change, Source: src, Kind: kind, Provenance: prov}
		if src == patchgate.SourceCommitMessage {
			l.CommitSHA = shaA
		}
		return l
	}
	title, body, commit := patchgate.SourceTitle, patchgate.SourceBody, patchgate.SourceCommitMessage
	fixes, relates := patchgate.LinkFixes, patchgate.LinkRelates
	tests := []struct {
		name       string
		sources    []patchgate.LinkSource
		stored     []*patchgate.Link
		want       []*patchgate.Link
		suppressed map[int64]bool
		add        []string
		update     []string
		remove     []string
		err        string
	}{
		{name: "nothing", sources: text},
		{name: "a new link", sources: text, want: []*patchgate.Link{link(0, 1, title, fixes, "Fixes PAY-1")},
			add: []string{"1 title fixes Fixes PAY-1"}},
		{name: "fixes beats relates, relates first", sources: text,
			want: []*patchgate.Link{link(0, 1, body, relates, "PAY-1"), link(0, 1, body, fixes, "Fixes PAY-1")},
			add:  []string{"1 body fixes Fixes PAY-1"}},
		{name: "fixes beats relates, fixes first", sources: text,
			want: []*patchgate.Link{link(0, 1, body, fixes, "Fixes PAY-1"), link(0, 1, body, relates, "PAY-1")},
			add:  []string{"1 body fixes Fixes PAY-1"}},
		{name: "a link still found stays", sources: text, stored: []*patchgate.Link{link(5, 1, title, fixes, "Fixes PAY-1")},
			want: []*patchgate.Link{link(0, 1, title, fixes, "Fixes PAY-1")}},
		{name: "a new provenance alone is an update", sources: text, stored: []*patchgate.Link{link(5, 1, title, fixes, "Fixes PAY-1")},
			want: []*patchgate.Link{link(0, 1, title, fixes, "Closes PAY-1")}, update: []string{"1 title fixes Closes PAY-1"}},
		{name: "a new kind replaces the link", sources: text, stored: []*patchgate.Link{link(5, 1, title, relates, "PAY-1")},
			want: []*patchgate.Link{link(0, 1, title, fixes, "Fixes PAY-1")},
			add:  []string{"1 title fixes Fixes PAY-1"}, remove: []string{"1 title relates PAY-1"}},
		{name: "a link no longer found goes", sources: text, stored: []*patchgate.Link{link(5, 1, title, fixes, "Fixes PAY-1")},
			remove: []string{"1 title fixes Fixes PAY-1"}},
		{name: "commit-message links are never removed", sources: commits, stored: []*patchgate.Link{link(5, 1, commit, fixes, "Fixes PAY-1")}},
		{name: "a pair unlinked by hand stays unlinked", sources: text, suppressed: map[int64]bool{1: true},
			want: []*patchgate.Link{link(0, 1, title, fixes, "Fixes PAY-1"), link(0, 2, title, fixes, "Fixes PAY-2")},
			add:  []string{"2 title fixes Fixes PAY-2"}},
		{name: "a manual source is not synced", sources: []patchgate.LinkSource{patchgate.SourceManual}, err: patchgate.EINVALID},
		{name: "a wanted link of another source", sources: text, want: []*patchgate.Link{link(0, 1, patchgate.SourceBranch, fixes, "")}, err: patchgate.EINVALID},
		{name: "a wanted link of another change", sources: text,
			want: []*patchgate.Link{{TicketID: 1, ChangeID: change + 1, Source: title, Kind: fixes}}, err: patchgate.EINVALID},
		{name: "a wanted link that does not validate", sources: text, want: []*patchgate.Link{link(0, 1, title, "closes", "")}, err: patchgate.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patchgate.SyncLinks(change, tt.sources, tt.stored, tt.want, tt.suppressed, now)
			if code := patchgate.ErrorCode(err); code != tt.err {
				t.Fatalf("got error %v, want code %q", err, tt.err)
			}
			if err != nil {
				return
			}
			for _, c := range []struct {
				what      string
				got, want []string
			}{{"add", describeLinks(got.Add), tt.add}, {"update", describeLinks(got.Update), tt.update}, {"remove", describeLinks(got.Remove), tt.remove}} {
				if c.want == nil {
					c.want = []string{}
				}
				if !slices.Equal(c.got, c.want) {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
			for _, l := range got.Add {
				if l.ID != 0 || !l.CreatedAt.Equal(now) || l.CreatedBy != patchgate.SystemActor || l.ChangeID != change {
					t.Errorf("added %+v: got id %d, created %v by %q for change %d, want 0, %v, %q, %d", l, l.ID, l.CreatedAt, l.CreatedBy, l.ChangeID, now, patchgate.SystemActor, change)
				}
			}
		})
	}
}

// TestSyncLinksConverges: whatever the stored links and the order in which
// the wanted ones are listed, applying the decision leaves links of the kinds
// wanted ("fixes" beating "relates"), and syncing again decides nothing.
func TestSyncLinksConverges(t *testing.T) {
	const change = 9
	rng := rand.New(rand.NewPCG(16, 2))
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	sources := []patchgate.LinkSource{patchgate.SourceTitle, patchgate.SourceBody, patchgate.SourceCommitMessage}
	kinds := []patchgate.LinkKind{patchgate.LinkFixes, patchgate.LinkRelates}
	random := func() *patchgate.Link {
		l := &patchgate.Link{TicketID: 1 + rng.Int64N(3), ChangeID: change, Source: sources[rng.IntN(len(sources))],
			Kind: kinds[rng.IntN(2)], Provenance: fmt.Sprint("text ", rng.IntN(2))}
		if l.Source == patchgate.SourceCommitMessage {
			l.CommitSHA = []string{shaA, shaB}[rng.IntN(2)]
		}
		return l
	}
	for i := range 2000 {
		var stored []*patchgate.Link
		seen := map[string]bool{}
		for n := range rng.IntN(5) {
			l := random()
			k := fmt.Sprint(l.TicketID, l.Source, l.CommitSHA)
			if seen[k] {
				continue // stored links are unique by identity
			}
			seen[k] = true
			l.ID = int64(n + 1)
			stored = append(stored, l)
		}
		var want []*patchgate.Link
		for range rng.IntN(6) {
			want = append(want, random())
		}
		suppressed := map[int64]bool{3: rng.IntN(2) == 0}

		var kindsSeen []string
		for range 3 {
			rng.Shuffle(len(want), func(i, j int) { want[i], want[j] = want[j], want[i] })
			s, err := patchgate.SyncLinks(change, sources, stored, want, suppressed, now)
			if err != nil {
				t.Fatalf("history %d: %v", i, err)
			}
			after := applyLinkSync(stored, s)
			again, err := patchgate.SyncLinks(change, sources, after, want, suppressed, now)
			if err != nil {
				t.Fatalf("history %d: %v", i, err)
			}
			if len(again.Add)+len(again.Update)+len(again.Remove) != 0 {
				t.Fatalf("history %d: syncing again got add %q update %q remove %q, want nothing",
					i, describeLinks(again.Add), describeLinks(again.Update), describeLinks(again.Remove))
			}
			var ks []string
			for _, l := range after {
				ks = append(ks, fmt.Sprint(l.TicketID, l.Source, l.CommitSHA, l.Kind))
			}
			slices.Sort(ks)
			if kindsSeen != nil && !slices.Equal(ks, kindsSeen) {
				t.Fatalf("history %d: got links %q in one order, %q in another", i, ks, kindsSeen)
			}
			kindsSeen = ks
		}
	}
}

// applyLinkSync is what a store does with a decision.
func applyLinkSync(stored []*patchgate.Link, s patchgate.LinkSync) []*patchgate.Link {
	var out []*patchgate.Link
	for _, l := range stored {
		if slices.Contains(s.Remove, l) {
			continue
		}
		if i := slices.IndexFunc(s.Update, func(u *patchgate.Link) bool { return u.ID == l.ID }); i >= 0 {
			l = s.Update[i]
		}
		out = append(out, l)
	}
	for n, l := range s.Add {
		c := *l
		c.ID = int64(100 + n)
		out = append(out, &c)
	}
	return out
}
