package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/patchgate/patchgate"
)

var _ patchgate.TrackerTicketService = (*TicketService)(nil)

// ApplyTicketUpdate creates the external ticket u.Key if absent and sets the
// fields u carries, auditing what changed in the same transaction. An update
// older than the stored ForgeUpdatedAt changes nothing. The tracker's opening
// time moves OpenedAt unless a reopen has restarted the clock (OpenedAt is
// then the recorded ReopenedAt). A move from closed to open is reported as a
// reopen for the caller to record; the derived state is never written here.
func (s *TicketService) ApplyTicketUpdate(ctx context.Context, u patchgate.TicketUpdate) (patchgate.TicketUpdateResult, error) {
	var res patchgate.TicketUpdateResult
	if err := u.Validate(); err != nil {
		return res, err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	now := s.db.now()
	at := u.UpdatedAt.UTC().Truncate(time.Microsecond)
	if at.IsZero() {
		at = now
	}
	opened := u.OpenedAt.UTC().Truncate(time.Microsecond)

	existed := true
	if _, err := findTicket(ctx, tx, patchgate.TrackerExternal, u.Key, ""); patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		existed = false
	} else if err != nil {
		return res, err
	}
	seed := &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: u.Key, Labels: []string{},
		Severity: patchgate.SeverityUnknown, State: patchgate.TicketOpen}
	if u.SupportLevel != nil {
		seed.SupportLevel = *u.SupportLevel
	}
	s.defaultLevel(seed)
	t, err := ensureTicket(ctx, tx, seed, now, s.db.forUpdate())
	if err != nil {
		return res, err
	}
	res.Ticket, res.Created = t, !existed
	if at.Before(t.ForgeUpdatedAt) {
		if err := s.db.recordTicket(ctx, tx, t.ID, patchgate.AuditActor(ctx)); err != nil {
			return res, err
		}
		return res, tx.Commit()
	}

	detail := map[string]string{}
	setStr := func(name string, dst *string, v *string) {
		if v != nil && *v != *dst {
			detail[name] = *v
			*dst = *v
		}
	}
	setStr("title", &t.Title, u.Title)
	setStr("url", &t.URL, u.URL)
	if u.Severity != nil && *u.Severity != t.Severity {
		t.Severity = *u.Severity
		detail["severity"] = string(t.Severity)
	}
	// A level told is news only when it differs from the level told last:
	// a tracker that repeats its field on every update does not undo an
	// escalation.
	told, err := toldLevel(ctx, tx, t.ID)
	if err != nil {
		return res, err
	}
	if u.SupportLevel != nil && string(*u.SupportLevel) != told {
		told = string(*u.SupportLevel)
		if *u.SupportLevel != t.SupportLevel || res.Created {
			t.SupportLevel = *u.SupportLevel
			detail["support_level"] = string(t.SupportLevel)
		}
	}
	restarted := !t.ReopenedAt.IsZero() && t.OpenedAt.Equal(t.ReopenedAt)
	if !opened.IsZero() && !opened.Equal(t.OpenedAt) && !restarted {
		t.OpenedAt = opened
		detail["opened_at"] = opened.Format(time.RFC3339)
	}
	if u.State != "" && string(u.State) != t.ForgeState {
		res.Reopened = t.ForgeState == string(patchgate.TrackerClosed) && u.State == patchgate.TrackerOpen
		t.ForgeState = string(u.State)
		detail["state"] = t.ForgeState
	}
	t.ForgeUpdatedAt = at
	if len(detail) > 0 {
		t.UpdatedAt = now
	}
	if _, err := tx.Exec(ctx, `UPDATE tickets SET title = $1, url = $2, severity = $3, opened_at = $4,
		forge_state = $5, forge_updated_at = $6, updated_at = $7, support_level = $8, told_level = $9 WHERE id = $10`,
		t.Title, t.URL, t.Severity, t.OpenedAt, t.ForgeState, t.ForgeUpdatedAt, t.UpdatedAt, t.SupportLevel, told, t.ID); err != nil {
		return res, fmt.Errorf("update ticket %s: %w", u.Key, err)
	}
	for k := range detail {
		res.Changed = append(res.Changed, k)
	}
	if len(detail) > 0 {
		if u.Source != "" {
			detail["source"] = u.Source
		}
		if res.Created {
			detail["created"] = "true"
		}
		if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
			Action: patchgate.AuditTicketUpdated, Subject: "ticket:" + t.Key, Detail: detail}); err != nil {
			return res, err
		}
	}
	slices.Sort(res.Changed)
	if err := s.db.recordTicket(ctx, tx, t.ID, patchgate.AuditActor(ctx)); err != nil {
		return res, err
	}
	return res, tx.Commit()
}
