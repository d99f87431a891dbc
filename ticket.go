package patchgate

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Tracker says where a ticket lives: in a forge's own issues, or in an external
// tracker known only by its key prefix (PAY-123).
type Tracker string

// The trackers a ticket can come from.
const (
	TrackerGitHub   Tracker = "github"
	TrackerGitLab   Tracker = "gitlab"
	TrackerExternal Tracker = "external"
)

// TrackerOf returns the tracker of a forge's own issues.
func TrackerOf(f Forge) Tracker { return Tracker(f) }

// TicketState is patchgate's view of where a ticket's fix stands.
type TicketState string

// Ticket states: open → fix_proposed → fix_verified → fix_merged → released, and
// reopened when a closed or released ticket comes back.
const (
	TicketOpen        TicketState = "open"
	TicketFixProposed TicketState = "fix_proposed"
	TicketFixVerified TicketState = "fix_verified"
	TicketFixMerged   TicketState = "fix_merged"
	TicketReleased    TicketState = "released"
	TicketReopened    TicketState = "reopened"
)

// Validate reports whether s is a known ticket state.
func (s TicketState) Validate() error {
	switch s {
	case TicketOpen, TicketFixProposed, TicketFixVerified, TicketFixMerged, TicketReleased, TicketReopened:
		return nil
	}
	return Errorf(EINVALID, "unknown ticket state %q: want open, fix_proposed, fix_verified, fix_merged, released or reopened", string(s))
}

// Severity ranks how bad a bug is; it drives the SLA clock.
type Severity string

// Severities, most severe first. SeverityUnknown is a ticket nobody classified.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityUnknown  Severity = "unknown"
)

// Validate reports whether s is a known severity.
func (s Severity) Validate() error {
	switch s {
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityUnknown:
		return nil
	}
	return Errorf(EINVALID, "unknown severity %q: want critical, high, medium, low or unknown", string(s))
}

// Validate reports whether t is a known tracker.
func (t Tracker) Validate() error {
	switch t {
	case TrackerGitHub, TrackerGitLab, TrackerExternal:
		return nil
	}
	return Errorf(EINVALID, "unknown tracker %q: want github, gitlab or external", string(t))
}

// SeverityFromLabels reads a severity from labels such as "severity:critical",
// "severity::high" (GitLab scoped labels), "priority:P1" or "P2". The most severe
// match wins, so a ticket labelled both P1 and low is high.
func SeverityFromLabels(labels []string) Severity {
	best := SeverityUnknown
	for _, l := range labels {
		if s := severityFromLabel(l); s.rank() < best.rank() {
			best = s
		}
	}
	return best
}

// ParseSeverity maps a free-form severity word (GitLab's severity field is
// CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN) to a Severity.
func ParseSeverity(s string) Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "blocker", "s1", "sev1", "p0":
		return SeverityCritical
	case "high", "major", "s2", "sev2", "p1":
		return SeverityHigh
	case "medium", "normal", "moderate", "s3", "sev3", "p2":
		return SeverityMedium
	case "low", "minor", "trivial", "s4", "sev4", "p3", "p4":
		return SeverityLow
	}
	return SeverityUnknown
}

func severityFromLabel(label string) Severity {
	l := strings.ToLower(strings.TrimSpace(label))
	for _, prefix := range []string{"severity::", "severity:", "severity/", "severity-", "sev:", "priority::", "priority:", "priority/", "priority-"} {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return ParseSeverity(rest)
		}
	}
	switch l {
	case "p0", "p1", "p2", "p3", "p4", "critical", "blocker":
		return ParseSeverity(l)
	}
	return SeverityUnknown
}

func (s Severity) rank() int {
	switch s {
	case SeverityCritical:
		return 0
	case SeverityHigh:
		return 1
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 3
	}
	return 4
}

// Ticket is a bug: an issue on a forge (acme/payments#45) or an external tracker's
// key (PAY-123). Its identity is (Tracker, Key).
type Ticket struct {
	ID      int64   `json:"id"`
	Tracker Tracker `json:"tracker"`
	// Key is the canonical key: "PAY-123" for external tickets, "acme/payments#45"
	// for forge issues.
	Key string `json:"key"`
	// Repo and Number are set for forge issues.
	Repo   string `json:"repo,omitempty"`
	Number int    `json:"number,omitempty"`

	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
	// ForgeState is the issue's own state on the forge: "open" or "closed" ("" for
	// external tickets patchgate has not seen on a forge).
	ForgeState string      `json:"forge_state,omitempty"`
	Labels     []string    `json:"labels"`
	Severity   Severity    `json:"severity"`
	State      TicketState `json:"state"`
	Author     string      `json:"author,omitempty"`
	// SupportLevel is who works on the ticket (L1–L4): as its tracker or the
	// API set it, its repository's default when it came in, and the level it
	// escalated to since. "" on tickets from before levels existed.
	SupportLevel SupportLevel `json:"support_level,omitempty"`

	// ForgeUpdatedAt is the forge's updated_at of the newest issue event applied,
	// so an older delivery arriving late changes nothing.
	ForgeUpdatedAt time.Time `json:"forge_updated_at,omitzero"`
	// OpenedAt starts the SLA clock: the forge issue's created_at when known,
	// else when patchgate first saw the ticket; a reopen restarts it.
	OpenedAt time.Time `json:"opened_at"`
	// VerifiedAt is when a fix was first verified (fix_verified or a later
	// state) since the ticket was opened; a fix taken back does not clear it.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// ReleasedAt is when the ticket was first released since it was opened.
	ReleasedAt time.Time `json:"released_at,omitzero"`
	// ReopenedAt is the forge time of the latest reopen; evidence from before
	// it (fixes that landed, releases) no longer counts.
	ReopenedAt time.Time `json:"reopened_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate checks a ticket before it is stored.
func (t *Ticket) Validate() error {
	switch t.Tracker {
	case TrackerGitHub, TrackerGitLab:
		if t.Number <= 0 {
			return Errorf(EINVALID, "ticket %q: forge issue needs a positive number", t.Key)
		}
		if err := ValidateRepoName(t.Repo); err != nil {
			return err
		}
	case TrackerExternal:
		if !ValidExternalKey(t.Key) {
			return Errorf(EINVALID, "ticket key %q: want PREFIX-NUMBER", t.Key)
		}
	default:
		return Errorf(EINVALID, "ticket %q: unknown tracker %q", t.Key, string(t.Tracker))
	}
	if t.Key == "" {
		return Errorf(EINVALID, "ticket key required")
	}
	return t.State.Validate()
}

// ForgeIssueKey is the canonical key of a forge issue: "acme/payments#45".
func ForgeIssueKey(repo string, number int) string {
	return repo + "#" + strconv.Itoa(number)
}

// ValidExternalKey reports whether key looks like PREFIX-123: an upper-case letter,
// then letters, digits or underscores, a dash and a positive number.
func ValidExternalKey(key string) bool {
	prefix, num, ok := strings.Cut(key, "-")
	if !ok || prefix == "" || num == "" || len(num) > 9 || num[0] == '0' {
		return false
	}
	if prefix[0] < 'A' || prefix[0] > 'Z' {
		return false
	}
	for _, r := range prefix {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	for _, r := range num {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// TicketFilter selects tickets; nil fields do not filter.
type TicketFilter struct {
	Tracker *Tracker
	// Repo selects a repository's forge issues and the tickets linked to its
	// changes.
	Repo     *string
	Key      *string
	State    *TicketState
	Severity *Severity
	// SupportLevel selects tickets at this level.
	SupportLevel *SupportLevel
	// Verified selects tickets with (true) or without (false) a VerifiedAt.
	Verified *bool
	// Released selects tickets with (true) or without (false) a ReleasedAt.
	Released *bool
	Offset   int
	Limit    int
}

// TicketService stores tickets. Implementations are safe for concurrent use.
type TicketService interface {
	// FindTicketByID returns ENOTFOUND when there is no such ticket.
	FindTicketByID(ctx context.Context, id int64) (*Ticket, error)
	// FindTicket finds a ticket by its identity; ENOTFOUND when absent.
	FindTicket(ctx context.Context, tracker Tracker, key string) (*Ticket, error)
	// FindTicketsByKey returns every ticket whose key is key, ignoring case,
	// oldest first; a key is unique per tracker only. None is an empty slice.
	FindTicketsByKey(ctx context.Context, key string) ([]*Ticket, error)
	// FindTickets returns matching tickets, newest first, and the total count.
	FindTickets(ctx context.Context, filter TicketFilter) ([]*Ticket, int, error)
	// EnsureTicket returns the ticket with t's identity, creating it from t when
	// absent. An existing ticket is returned unchanged.
	EnsureTicket(ctx context.Context, t *Ticket) (*Ticket, error)
	// ApplyIssueUpdate creates or updates a forge issue's ticket from an issue
	// event. Updates older than the stored ForgeUpdatedAt change nothing, so the
	// result does not depend on delivery order; whatever the order, OpenedAt
	// takes the earliest u.CreatedAt seen, unless a reopen has restarted the
	// clock since. It returns the stored ticket.
	ApplyIssueUpdate(ctx context.Context, u IssueUpdate) (*Ticket, error)
	// RecordReopen records that the ticket's tracker reopened it at at (the
	// latest such time is kept, whatever the order of arrival), for trackers
	// that send no forge issue events. Callers reconcile the ticket after.
	// ENOTFOUND if there is no such ticket.
	RecordReopen(ctx context.Context, id int64, at time.Time) error
	// ReconcileTicket reads ticket id's evidence (TicketEvidence), derives its
	// state with DeriveTicketState, and writes it with Ticket.Settle, auditing a
	// change of state, all in one transaction. Without new evidence it changes
	// nothing, so callers call it for every ticket an event, verdict, link
	// change or promotion may touch. It returns the stored ticket; ENOTFOUND if
	// there is no such ticket.
	ReconcileTicket(ctx context.Context, id int64) (*Ticket, error)
}

// IssueUpdate is what an issue event says about a forge issue.
type IssueUpdate struct {
	Tracker   Tracker
	Repo      string
	Number    int
	Title     string
	URL       string
	State     string // "open" or "closed"
	Labels    []string
	Severity  Severity
	Author    string
	CreatedAt time.Time // the issue's created_at on the forge; zero when unknown
	UpdatedAt time.Time
	// Reopened says the event reopened the issue (at UpdatedAt).
	Reopened bool
}
