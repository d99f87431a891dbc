package patchgate

import "time"

// LinkSync is what syncing one change's extracted links decides: the links to
// add, the stored links whose provenance changed, and the stored links to remove.
type LinkSync struct {
	// Add are new links, with CreatedAt set and no ID, in the order first wanted.
	Add []*Link
	// Update are copies of stored links carrying their new Provenance; a changed
	// provenance alone is not an addition or a removal.
	Update []*Link
	// Remove are the stored links no longer found, in stored order.
	Remove []*Link
}

// SyncLinks decides how the extracted links of change changeID from sources
// become want, given the links stored for that change from those sources and
// the tickets a user unlinked from it by hand (suppressed). It is pure: stored
// and want are not modified.
//
// Links are identified by ticket, source and commit. One text that both
// mentions and closes a ticket wants one link, and "fixes" beats "relates"
// whatever their order. A wanted link whose kind differs from the stored one (a
// title edited from "PAY-1" to "Fixes PAY-1") replaces it: the old link is
// removed and the new one added. Commit-message links are never removed, since
// a commit once pushed stays evidence. A pair unlinked by hand is not linked
// again. Wanted links default to change changeID and to CreatedBy SystemActor.
// EINVALID for a source links are not extracted from, or a wanted link of
// another change or source, or one that does not validate.
func SyncLinks(changeID int64, sources []LinkSource, stored, want []*Link, suppressed map[int64]bool, now time.Time) (LinkSync, error) {
	inSources := map[LinkSource]bool{}
	for _, src := range sources {
		switch src {
		case SourceTitle, SourceBody, SourceBranch, SourceCommitMessage:
		default:
			return LinkSync{}, Errorf(EINVALID, "sync links: %q is not a source links are extracted from", src)
		}
		inSources[src] = true
	}
	var order []linkKey
	wanted := map[linkKey]*Link{}
	for _, w := range want {
		l := *w
		l.Ticket, l.Change = nil, nil
		if l.ChangeID == 0 {
			l.ChangeID = changeID
		}
		if l.CreatedBy == "" {
			l.CreatedBy = SystemActor
		}
		if l.ChangeID != changeID {
			return LinkSync{}, Errorf(EINVALID, "sync links of change %d: a wanted link is for change %d", changeID, l.ChangeID)
		}
		if !inSources[l.Source] {
			return LinkSync{}, Errorf(EINVALID, "sync links of change %d: wanted link from source %q not being synced", changeID, l.Source)
		}
		if err := l.Validate(); err != nil {
			return LinkSync{}, err
		}
		k := keyOf(&l)
		if prev, ok := wanted[k]; !ok {
			order = append(order, k)
			wanted[k] = &l
		} else if prev.Kind != LinkFixes && l.Kind == LinkFixes {
			wanted[k] = &l
		}
	}

	var s LinkSync
	have := map[linkKey]bool{}
	for _, l := range stored {
		k := keyOf(l)
		wl, ok := wanted[k]
		switch {
		case !ok && l.Source == SourceCommitMessage:
			continue // only ever added
		case ok && wl.Kind == l.Kind:
			have[k] = true
			if wl.Provenance != l.Provenance {
				u := *l
				u.Provenance = wl.Provenance
				s.Update = append(s.Update, &u)
			}
			continue
		}
		s.Remove = append(s.Remove, l)
	}
	for _, k := range order {
		if have[k] || suppressed[k.ticketID] {
			continue
		}
		l := wanted[k]
		l.CreatedAt = now
		s.Add = append(s.Add, l)
	}
	return s, nil
}

// linkKey is a link's identity among one change's links.
type linkKey struct {
	ticketID  int64
	source    LinkSource
	commitSHA string
}

func keyOf(l *Link) linkKey { return linkKey{l.TicketID, l.Source, l.CommitSHA} }
