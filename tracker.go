package patchgate

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AuditTicketUpdated is the audit action of a tracker (Jira, a helpdesk, a
// script through the API) changing what patchgate knows of a ticket: title,
// URL, severity, opening time, open or closed. Scripts filter on it.
const AuditTicketUpdated = "ticket.updated"

// TrackerState is a ticket's own state in its tracker.
type TrackerState string

// Tracker states: open, closed (resolved, done), or deleted from the tracker.
const (
	TrackerOpen    TrackerState = "open"
	TrackerClosed  TrackerState = "closed"
	TrackerDeleted TrackerState = "deleted"
)

// TicketUpdate is what a tracker says about an external ticket (PAY-123). Nil
// fields, a zero OpenedAt and an empty State leave what is stored unchanged.
type TicketUpdate struct {
	Key      string
	Title    *string
	URL      *string
	Severity *Severity
	// SupportLevel is the level the tracker or the API gives the ticket.
	SupportLevel *SupportLevel
	// OpenedAt is when the tracker opened the ticket: the SLA clock starts
	// there, unless a reopen has restarted it since.
	OpenedAt time.Time
	State    TrackerState
	// UpdatedAt is the tracker's time of this news; an update older than the
	// newest one applied changes nothing, so the order of arrival does not
	// matter. Zero means now.
	UpdatedAt time.Time
	// Source says who tells: "jira:acme", "api".
	Source string
}

// Validate checks an update before it is applied.
func (u *TicketUpdate) Validate() error {
	if !ValidExternalKey(u.Key) {
		return Errorf(EINVALID, "ticket key %q: want PREFIX-NUMBER", u.Key)
	}
	if u.Title != nil && len(*u.Title) > 1000 {
		return Errorf(EINVALID, "ticket %s: title over 1000 characters", u.Key)
	}
	if u.URL != nil && *u.URL != "" {
		p, err := url.Parse(*u.URL)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return Errorf(EINVALID, "ticket %s: url %q is not an http(s) URL", u.Key, *u.URL)
		}
	}
	if u.SupportLevel != nil {
		if err := u.SupportLevel.Validate(); err != nil {
			return Errorf(EINVALID, "ticket %s: %v", u.Key, err)
		}
	}
	if u.Severity != nil {
		switch *u.Severity {
		case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityUnknown:
		default:
			return Errorf(EINVALID, "ticket %s: severity %q: want critical, high, medium, low or unknown", u.Key, string(*u.Severity))
		}
	}
	switch u.State {
	case "", TrackerOpen, TrackerClosed, TrackerDeleted:
	default:
		return Errorf(EINVALID, "ticket %s: state %q: want open or closed", u.Key, string(u.State))
	}
	return nil
}

// MaxTrackerClockAhead is how far ahead of patchgate's clock a tracker's
// time may be: clocks drift by seconds, not minutes. A time further ahead
// would pin the SLA clock in the future, keep a reopen standing and make every
// later true update "older news", so it is refused.
const MaxTrackerClockAhead = 5 * time.Minute

// CheckTimes refuses an update whose UpdatedAt or OpenedAt is more than
// MaxTrackerClockAhead after now: EUNPROCESSABLE, naming the field and time.
// Times in the past are the tracker's to tell.
func (u *TicketUpdate) CheckTimes(now time.Time) error {
	for _, f := range []struct {
		name string
		at   time.Time
	}{{"updated_at", u.UpdatedAt}, {"opened_at", u.OpenedAt}} {
		if f.at.Sub(now) > MaxTrackerClockAhead {
			return Errorf(EUNPROCESSABLE, "ticket %s: %s %s is in the future (more than %s after patchgate's clock, %s)",
				u.Key, f.name, f.at.UTC().Format(time.RFC3339), MaxTrackerClockAhead, now.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// MayUpdateTicket reports whether p may change ticket key through the API;
// managedBy names the Jira tracker whose projects include key's, "" when
// none does. An admin may. A principal limited to projects may change only
// their tickets, and a ticket of a tracker-managed project is that tracker's
// to tell: only its own token (named as the tracker) may change it, so a
// helpdesk cannot contradict Jira. EFORBIDDEN, naming the projects or the
// tracker, otherwise.
func MayUpdateTicket(p Principal, key, managedBy string) error {
	if p.Role == RoleAdmin {
		return nil
	}
	project, _, _ := strings.Cut(key, "-")
	if len(p.Projects) > 0 && !slices.Contains(p.Projects, project) {
		return Errorf(EFORBIDDEN, "%s may update tickets of projects %s only, not %s", p.Name, strings.Join(p.Projects, ", "), key)
	}
	if managedBy != "" && p.Token != managedBy {
		return Errorf(EFORBIDDEN, "%s is of project %s, which Jira tracker %s manages: only %s's token (a token named %s) or an admin may change it",
			key, project, managedBy, managedBy, managedBy)
	}
	return nil
}

// TicketUpdateResult is what applying a TicketUpdate did.
type TicketUpdateResult struct {
	Ticket *Ticket
	// Created says the ticket was new to patchgate.
	Created bool
	// Changed lists the fields that changed ("title", "severity", …).
	Changed []string
	// Reopened says the update moved the ticket from closed back to open:
	// the caller records the reopen (RecordReopen) and reconciles.
	Reopened bool
}

// TrackerTicketService applies trackers' news to external tickets.
// Implementations are safe for concurrent use.
type TrackerTicketService interface {
	// ApplyTicketUpdate creates the external ticket u.Key if absent and sets
	// the fields u carries, auditing what changed (AuditTicketUpdated) in the
	// same transaction. An update older than the newest applied changes
	// nothing. It never writes the ticket's derived state. EINVALID when u is
	// malformed.
	ApplyTicketUpdate(ctx context.Context, u TicketUpdate) (TicketUpdateResult, error)
}

// TrackerIssue is one issue read from or sent by an external tracker, in
// patchgate's terms.
type TrackerIssue struct {
	Key      string
	Title    string
	URL      string
	Severity Severity
	// SupportLevel is the level the tracker's field or labels name; "" when
	// they name none, which leaves the ticket's level as it is.
	SupportLevel SupportLevel
	State        TrackerState
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Update is the TicketUpdate that says what i says, from source.
func (i *TrackerIssue) Update(source string) TicketUpdate {
	title, url, sev := i.Title, i.URL, i.Severity
	u := TicketUpdate{Key: i.Key, Title: &title, URL: &url, Severity: &sev, OpenedAt: i.CreatedAt,
		State: i.State, UpdatedAt: i.UpdatedAt, Source: source}
	if i.SupportLevel != "" {
		level := i.SupportLevel
		u.SupportLevel = &level
	}
	return u
}

// TrackerAPI is an external tracker's API as patchgate uses it (trackers/jira
// implements it for Jira). Errors follow the forge interfaces' contract:
// ENOTFOUND, EUNAUTHORIZED, EFORBIDDEN and EINVALID are permanent, anything
// else is transient and may be retried. Safe for concurrent use.
type TrackerAPI interface {
	// ReadIssue reads the issue key.
	ReadIssue(ctx context.Context, key string) (*TrackerIssue, error)
	// UpsertComment keeps exactly one comment containing marker on the issue,
	// edited in place when body changes.
	UpsertComment(ctx context.Context, key, marker, body string) error
	// Transition applies the transition named name, if the issue's workflow
	// offers it now; it reports whether it did.
	Transition(ctx context.Context, key, name string) (bool, error)
}
