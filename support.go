package patchgate

import (
	"context"
	"strings"
	"time"
)

// SupportLevel is who works on a ticket: the help desk that takes it in (L1),
// technical support (L2), the experts (L3) or an outside supplier under
// contract (L4). A ticket escalates one level at a time.
type SupportLevel string

// The support levels, lowest first.
const (
	SupportL1 SupportLevel = "L1"
	SupportL2 SupportLevel = "L2"
	SupportL3 SupportLevel = "L3"
	SupportL4 SupportLevel = "L4"
)

// SupportLevels lists the levels, lowest first.
var SupportLevels = []SupportLevel{SupportL1, SupportL2, SupportL3, SupportL4}

// Validate reports whether l is a known level.
func (l SupportLevel) Validate() error {
	switch l {
	case SupportL1, SupportL2, SupportL3, SupportL4:
		return nil
	}
	return Errorf(EINVALID, "unknown support level %q: want L1 (help desk), L2 (technical support), L3 (experts) or L4 (outside supplier)", string(l))
}

// Describe names what the level is: "help desk", "technical support",
// "experts", "outside supplier".
func (l SupportLevel) Describe() string {
	switch l {
	case SupportL1:
		return "help desk"
	case SupportL2:
		return "technical support"
	case SupportL3:
		return "experts"
	case SupportL4:
		return "outside supplier"
	}
	return "no level"
}

// Next is the level a ticket at l escalates to; top is true at L4, which
// has no level above it (Next is then L4 itself). An unset level counts as
// L1.
func (l SupportLevel) Next() (next SupportLevel, top bool) {
	switch l {
	case SupportL2:
		return SupportL3, false
	case SupportL3:
		return SupportL4, false
	case SupportL4:
		return SupportL4, true
	}
	return SupportL2, false
}

// ParseSupportLevel reads a level a tracker or a person wrote: "L2", "l2",
// "2", "Level 2", "2nd level", or the level's name ("help desk", "technical
// support", "experts", "supplier"). ok is false when s names none.
func ParseSupportLevel(s string) (SupportLevel, bool) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.NewReplacer("-", " ", "_", " ").Replace(v)
	switch v {
	case "l1", "1", "level 1", "1st level", "first level", "help desk", "helpdesk", "service desk", "first":
		return SupportL1, true
	case "l2", "2", "level 2", "2nd level", "second level", "technical support", "tech support", "second":
		return SupportL2, true
	case "l3", "3", "level 3", "3rd level", "third level", "experts", "expert", "third":
		return SupportL3, true
	case "l4", "4", "level 4", "4th level", "fourth level", "supplier", "outside supplier", "vendor", "fourth":
		return SupportL4, true
	}
	return "", false
}

// SupportLevelFromLabels reads a level from labels such as "support:L2",
// "support::L3" (GitLab scoped labels) or "support-level/L4"; "" when none
// names one. The highest level named wins. Only labels that say "support"
// count: a "level:3" may mean a difficulty, and whoever may label an issue
// would otherwise send it to the outside supplier.
func SupportLevelFromLabels(labels []string) SupportLevel {
	best := SupportLevel("")
	for _, label := range labels {
		l := strings.ToLower(strings.TrimSpace(label))
		for _, prefix := range []string{"support-level::", "support-level:", "support-level/", "support::", "support:",
			"support/"} {
			if rest, ok := strings.CutPrefix(l, prefix); ok {
				if lv, ok := ParseSupportLevel(rest); ok && lv > best {
					best = lv
				}
				break
			}
		}
	}
	return best
}

// RepositoryFor returns the configured repository that claims t: its own
// repository for a forge issue, and for an external ticket (PAY-123) the
// first whose ticket keys include the key's prefix; nil when none does.
func (d *RepositoryDirectory) RepositoryFor(t *Ticket) *Repository {
	if d == nil {
		return nil
	}
	switch t.Tracker {
	case TrackerGitHub, TrackerGitLab:
		if r, err := d.Find(Forge(t.Tracker), t.Repo); err == nil {
			return r
		}
	case TrackerExternal:
		prefix, _, _ := strings.Cut(t.Key, "-")
		for _, r := range d.repos {
			for _, k := range r.TicketKeys {
				if k == prefix {
					return r
				}
			}
		}
	}
	return nil
}

// DefaultSupportLevel is the level a new ticket starts at when neither its
// tracker nor the API gave it one: its labels' (support:L2) for a forge
// issue, else its repository's support_level, else L1, the help desk.
func (d *RepositoryDirectory) DefaultSupportLevel(t *Ticket) SupportLevel {
	if l := SupportLevelFromLabels(t.Labels); l != "" {
		return l
	}
	if r := d.RepositoryFor(t); r != nil && r.SupportLevel != "" {
		return r.SupportLevel
	}
	return SupportL1
}

// AuditTicketEscalated is the audit action of a ticket escalating to the
// next support level. Scripts filter on it.
const AuditTicketEscalated = "ticket.escalated"

// EventTicketEscalated is the signed webhook event of escalations; receivers
// filter on it, so it never changes.
const EventTicketEscalated = "ticket.escalated"

// Escalation is a ticket moving up a support level because its SLA phase is
// at risk or was breached. It happens once per ticket, SLA clock (OpenedAt),
// phase and cause, and once per ticket, clock, phase and level.
type Escalation struct {
	ID       int64     `json:"id"`
	TicketID int64     `json:"ticket_id"`
	Ticket   string    `json:"ticket"`
	OpenedAt time.Time `json:"opened_at"`
	Phase    SLAPhase  `json:"phase"`
	// Cause is at_risk or breached.
	Cause SLAState     `json:"cause"`
	From  SupportLevel `json:"from"`
	To    SupportLevel `json:"to"`
	// Deadline is the phase's deadline.
	Deadline time.Time `json:"deadline"`
	// Repo is the repository that claims the ticket ("" when none does);
	// Supplier and Contract are what it names, set when To is L4.
	Repo     string    `json:"repo,omitempty"`
	Supplier string    `json:"supplier,omitempty"`
	Contract string    `json:"contract,omitempty"`
	At       time.Time `json:"at"`
}

// EscalationDue decides whether ticket t, now at level, escalates given its
// SLA status st at now: a running phase at risk or a phase whose deadline
// passed escalates to the next level (L4 stays at L4 and its contacts hear of
// it). A breach stays with the phase that missed its deadline: a fix verified
// late leaves the ticket breached in its release phase, but that is the
// verify phase's breach until release-by passes too. A ticket with no SLA,
// on track, met or released escalates no more. It returns nil when nothing
// is due; the caller dedupes (the store refuses a second escalation of the
// same ticket, clock, phase and cause).
func EscalationDue(t *Ticket, level SupportLevel, st SLAStatus, now time.Time) *Escalation {
	if st.Phase == "" || st.VerifyBy == nil || st.ReleaseBy == nil {
		return nil
	}
	phase, deadline := st.Phase, *st.VerifyBy
	if phase == SLAPhaseRelease {
		deadline = *st.ReleaseBy
	}
	switch st.State {
	case SLAAtRisk:
	case SLABreached:
		if phase == SLAPhaseRelease && !now.After(*st.ReleaseBy) {
			phase, deadline = SLAPhaseVerify, *st.VerifyBy
		}
	default:
		return nil
	}
	if level == "" {
		level = SupportL1
	}
	to, _ := level.Next()
	opened := t.OpenedAt
	if opened.IsZero() {
		opened = t.CreatedAt
	}
	return &Escalation{TicketID: t.ID, Ticket: t.Key, OpenedAt: opened, Phase: phase, Cause: st.State,
		From: level, To: to, Deadline: deadline}
}

// EscalationService records escalations. Safe for concurrent use.
type EscalationService interface {
	// RecordEscalations records each escalation not recorded before (same
	// ticket, clock, phase and cause, or same ticket, clock, phase and To),
	// sets the ticket's level to To and audits it (AuditTicketEscalated), and
	// queues the notices notices builds from the ones recorded, all in one
	// transaction. It returns the escalations recorded, with their ids.
	RecordEscalations(ctx context.Context, escs []*Escalation, notices func(recorded []*Escalation) ([]*EscalationNotice, error)) ([]*Escalation, error)
	// FindEscalations returns a ticket's escalations, oldest first.
	FindEscalations(ctx context.Context, ticketID int64) ([]*Escalation, error)
	// DueNotices returns up to limit unsent notices whose next attempt is due
	// at now, oldest first.
	DueNotices(ctx context.Context, now time.Time, limit int) ([]*EscalationNotice, error)
	// ClaimNotice takes notice n for one attempt, pushing its next attempt to
	// until, so a second process does not send it meanwhile; false when
	// another claimed or sent it first.
	ClaimNotice(ctx context.Context, n *EscalationNotice, until time.Time) (bool, error)
	// FinishNotice records an attempt: sent, or failed with errMsg, to be
	// tried again at next (zero: given up).
	FinishNotice(ctx context.Context, id int64, sent bool, errMsg string, next time.Time) error
}

// Notice states.
const (
	NoticePending = "pending"
	NoticeSent    = "sent"
	NoticeFailed  = "failed"
)

// EscalationNotice is one message to one contact channel, durable until it
// is sent: a sweep's escalations to a channel make one notice.
type EscalationNotice struct {
	ID int64 `json:"id"`
	// Channel names the configured contact it goes to; Kind is webhook,
	// slack or teams. The URL and secret stay in the configuration.
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	// Body is the JSON sent.
	Body        []byte    `json:"-"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at"`
	LastError   string    `json:"last_error,omitempty"`
	Escalations []int64   `json:"escalations"`
	CreatedAt   time.Time `json:"created_at"`
}
