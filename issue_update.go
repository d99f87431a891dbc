package patchgate

import "time"

// Validate reports whether u names a forge issue: a forge tracker, a valid
// repository and a positive number.
func (u IssueUpdate) Validate() error {
	if u.Tracker != TrackerGitHub && u.Tracker != TrackerGitLab {
		return Errorf(EINVALID, "issue update: tracker %q is not a forge", string(u.Tracker))
	}
	if err := ValidateRepoName(u.Repo); err != nil {
		return err
	}
	if u.Number <= 0 {
		return Errorf(EINVALID, "issue update %s: needs a positive number", u.Repo)
	}
	return nil
}

// ApplyIssueUpdate returns the ticket current becomes once u is applied at now,
// and whether anything changed; current is not modified. A nil current is a
// forge issue patchgate has not seen: the result is the ticket to create.
//
// The forge's updated_at decides, so the result does not depend on delivery
// order: an update older than current.ForgeUpdatedAt changes nothing but the
// clocks; one as new or newer (last writer wins) sets title, URL, forge state
// and author (each when u has one), labels, severity (read from the labels
// when u has none) and the forge time. The SLA clock, OpenedAt, moves back to
// an earlier u.CreatedAt unless a reopen has restarted it since: a reopen is
// told apart by an OpenedAt later than the ticket's CreatedAt. The latest
// reopen is kept whatever the order of arrival, as evidence that the fixes
// before it did not hold (see DeriveTicketState).
func ApplyIssueUpdate(current *Ticket, u IssueUpdate, now time.Time) (*Ticket, bool) {
	if u.Severity == "" {
		u.Severity = SeverityFromLabels(u.Labels)
	}
	if current == nil {
		opened := u.CreatedAt
		if opened.IsZero() {
			opened = now
		}
		current = &Ticket{Tracker: u.Tracker, Key: ForgeIssueKey(u.Repo, u.Number), Repo: u.Repo,
			Number: u.Number, Labels: []string{}, Severity: u.Severity, State: TicketOpen,
			OpenedAt: opened, CreatedAt: now, UpdatedAt: now}
	}
	t := *current
	changed := false
	if !u.CreatedAt.IsZero() && u.CreatedAt.Before(t.OpenedAt) && !t.OpenedAt.After(t.CreatedAt) {
		// Not after CreatedAt: the clock starts at first sight (or at an even
		// earlier created_at), never at a reopen, which is always later.
		t.OpenedAt, changed = u.CreatedAt, true
	}
	if u.Reopened && u.UpdatedAt.After(t.ReopenedAt) {
		t.ReopenedAt, changed = u.UpdatedAt, true
	}
	if u.UpdatedAt.Before(t.ForgeUpdatedAt) {
		return &t, changed
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&t.Title, u.Title)
	set(&t.URL, u.URL)
	set(&t.ForgeState, u.State)
	set(&t.Author, u.Author)
	t.Labels = u.Labels
	if t.Labels == nil {
		t.Labels = []string{}
	}
	t.Severity, t.ForgeUpdatedAt, t.UpdatedAt = u.Severity, u.UpdatedAt, now
	if t.Repo == "" { // created by EnsureTicket from a bare reference
		t.Repo, t.Number = u.Repo, u.Number
	}
	return &t, true
}
