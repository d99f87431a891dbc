package tracking

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// Contact channel kinds.
const (
	ChannelWebhook = "webhook" // patchgate's signed JSON (event ticket.escalated)
	ChannelSlack   = "slack"   // a Slack-compatible incoming webhook: {"text": …}
	ChannelTeams   = "teams"   // a Microsoft Teams incoming webhook: a MessageCard
)

// Channel is one contact of a support level: where its messages go.
type Channel struct {
	// Name identifies the channel; a channel named by several levels is one
	// channel, and gets one message per sweep.
	Name string
	Kind string
	URL  string
	// Secret signs webhook deliveries.
	Secret string
}

// EscalationPolicy is how tickets are judged and whom an escalation tells.
type EscalationPolicy struct {
	// SLA returns a ticket's SLA status now.
	SLA func(t *patchgate.Ticket) patchgate.SLAStatus
	// Repository returns the configured repository that claims a ticket, nil
	// for none: its supplier and contract go into an L4 escalation.
	Repository func(t *patchgate.Ticket) *patchgate.Repository
	// DefaultLevel is the level of a ticket stored without one.
	DefaultLevel func(t *patchgate.Ticket) patchgate.SupportLevel
	// Contacts are each level's channels.
	Contacts map[patchgate.SupportLevel][]Channel
	// PublicURL, when set, links each ticket's dashboard page.
	PublicURL string
}

// Escalator escalates tickets whose SLA phase is at risk or breached to the
// next support level, once per ticket, clock, phase and cause, and queues
// the messages to each level's contacts: every sweep's escalations make one
// message per channel, stored in the database with the escalations
// themselves, for Notices to send (and retry) from there, so a restart
// neither loses nor repeats one.
type Escalator struct {
	Tickets TicketLister
	Store   patchgate.EscalationService
	Policy  EscalationPolicy
	// Notices sends the queued messages after each sweep of Run.
	Notices *NoticeSender
	Logger  *slog.Logger
	// Interval is how often Run sweeps (default 1m).
	Interval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Poster posts a message's JSON body to url: signed with secret as event
// when secret is set (patchgate's webhook), a plain POST otherwise (Slack and
// Teams incoming webhooks). 4xx answers are permanent errors (EINVALID and
// the like), anything else may be retried. notify.Channels implements it.
type Poster interface {
	Post(ctx context.Context, url, secret, event string, body []byte) error
}

// NoticeSender sends the queued escalation messages, each claimed first so
// one process sends it, and retries failures with backoff.
type NoticeSender struct {
	Store  patchgate.EscalationService
	Poster Poster
	// Contacts are each level's channels, where the notices' channel names
	// are looked up.
	Contacts map[patchgate.SupportLevel][]Channel
	Logger   *slog.Logger
	// Backoff is the first wait after a failed send (default 30s), doubled
	// up to MaxBackoff (1h).
	Backoff, MaxBackoff time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func clock(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

func (e *Escalator) now() time.Time { return clock(e.Now) }

// Run sweeps and has Notices deliver every Interval until ctx is done.
func (e *Escalator) Run(ctx context.Context) {
	interval := e.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := e.Sweep(ctx); err != nil && ctx.Err() == nil {
			e.Logger.Warn("escalation sweep", "err", err)
		}
		if e.Notices != nil {
			if err := e.Notices.Deliver(ctx); err != nil && ctx.Err() == nil {
				e.Logger.Warn("escalation notices", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep decides the escalations due now among the unreleased tickets
// (patchgate.EscalationDue) and records them all at once, with one notice
// per channel for those not recorded before: a burst of breaches, after an
// outage, is one message per channel.
func (e *Escalator) Sweep(ctx context.Context) error {
	now := e.now()
	unreleased := false
	f := patchgate.TicketFilter{Released: &unreleased, Limit: 500}
	var due []*patchgate.Escalation
	tickets := map[int64]*patchgate.Ticket{}
	for {
		page, total, err := e.Tickets.FindTickets(ctx, f)
		if err != nil {
			return fmt.Errorf("find unreleased tickets: %w", err)
		}
		for _, t := range page {
			level := t.SupportLevel
			if level == "" && e.Policy.DefaultLevel != nil {
				level = e.Policy.DefaultLevel(t)
			}
			esc := patchgate.EscalationDue(t, level, e.Policy.SLA(t), now)
			if esc == nil || tickets[t.ID] != nil {
				continue
			}
			if e.Policy.Repository != nil {
				if r := e.Policy.Repository(t); r != nil {
					esc.Repo = r.Name
					if esc.To == patchgate.SupportL4 {
						esc.Supplier, esc.Contract = r.Supplier, r.Contract
					}
				}
			}
			tickets[t.ID] = t
			due = append(due, esc)
		}
		f.Offset += len(page)
		if len(page) == 0 || f.Offset >= total {
			break
		}
	}
	if len(due) == 0 {
		return nil
	}
	recorded, err := e.Store.RecordEscalations(ctx, due, func(rec []*patchgate.Escalation) ([]*patchgate.EscalationNotice, error) {
		return e.notices(rec, tickets)
	})
	if err != nil {
		return fmt.Errorf("record %d escalations: %w", len(due), err)
	}
	for _, r := range recorded {
		e.Logger.Info("ticket escalated", "ticket", r.Ticket, "from", r.From, "to", r.To, "phase", r.Phase, "cause", r.Cause)
	}
	return nil
}

// notices groups the escalations by the channels of the level each goes to:
// one notice per channel, in the channel's format.
func (e *Escalator) notices(rec []*patchgate.Escalation, tickets map[int64]*patchgate.Ticket) ([]*patchgate.EscalationNotice, error) {
	byChannel := map[string][]*patchgate.Escalation{}
	channels := map[string]Channel{}
	for _, r := range rec {
		for _, c := range e.Policy.Contacts[r.To] {
			if !containsEscalation(byChannel[c.Name], r) {
				byChannel[c.Name] = append(byChannel[c.Name], r)
			}
			channels[c.Name] = c
		}
	}
	names := make([]string, 0, len(byChannel))
	for n := range byChannel {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*patchgate.EscalationNotice, 0, len(names))
	for _, name := range names {
		c, escs := channels[name], byChannel[name]
		body, err := e.render(c.Kind, escs, tickets)
		if err != nil {
			return nil, fmt.Errorf("render the notice to %s: %w", name, err)
		}
		ids := make([]int64, len(escs))
		for i, r := range escs {
			ids[i] = r.ID
		}
		out = append(out, &patchgate.EscalationNotice{Channel: name, Kind: c.Kind, Body: body, Escalations: ids})
	}
	return out, nil
}

func containsEscalation(escs []*patchgate.Escalation, e *patchgate.Escalation) bool {
	for _, x := range escs {
		if x.ID == e.ID {
			return true
		}
	}
	return false
}

// maxNoticeLines bounds the tickets one chat message lists; the rest are
// counted.
const maxNoticeLines = 50

// escalationView is one escalation as the signed webhook tells it.
type escalationView struct {
	*patchgate.Escalation
	Title     string             `json:"title"`
	URL       string             `json:"url,omitempty"`
	Dashboard string             `json:"dashboard,omitempty"`
	Severity  patchgate.Severity `json:"severity"`
	// Level names what To is: "experts", "outside supplier".
	Level string `json:"level"`
}

// line is one escalation in a chat message of kind. The title and the
// tracker's URL come from whoever wrote the ticket, so they are escaped for
// the channel's markup: a title cannot ping a channel, hide a link or format
// the message.
func (e *Escalator) line(kind string, v escalationView) string {
	esc, link := chatEscapers(kind)
	what := "at risk"
	if v.Cause == patchgate.SLABreached {
		what = "breached"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", v.Ticket)
	if v.Title != "" {
		fmt.Fprintf(&b, " %s", esc(strconv.Quote(v.Title)))
	}
	fmt.Fprintf(&b, " (%s): %s deadline %s %s → %s %s (was %s)", v.Severity, v.Phase, v.Deadline.UTC().Format("2006-01-02 15:04 UTC"),
		what, v.To, v.Level, v.From)
	if v.To == patchgate.SupportL4 {
		supplier, contract := v.Supplier, v.Contract
		if supplier == "" {
			supplier = "no supplier named (set repos[].supplier)"
		}
		if contract == "" {
			contract = "none named (set repos[].contract)"
		}
		fmt.Fprintf(&b, "; supplier %s, contract %s", supplier, contract)
	}
	if v.Dashboard != "" {
		fmt.Fprintf(&b, " %s", v.Dashboard)
	} else if webURL(v.URL) {
		fmt.Fprintf(&b, " %s", link(v.URL))
	}
	return b.String()
}

// chatEscapers escape a text and a link for kind's markup: Slack's mrkdwn
// reads &, < and > (<!channel>, <url|label>); Teams' MessageCard text is
// Markdown, where a link's brackets, parentheses, * and _ would format or
// hide it, so those are percent-encoded (the same URL to a browser).
func chatEscapers(kind string) (text, link func(string) string) {
	switch kind {
	case ChannelSlack:
		r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
		return r, r
	case ChannelTeams:
		return strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]", "(", "\\(", ")", "\\)",
				"#", "\\#", "`", "\\`", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace,
			strings.NewReplacer("[", "%5B", "]", "%5D", "(", "%28", ")", "%29", "*", "%2A", "_", "%5F", "<", "%3C", ">", "%3E", "`", "%60").Replace
	}
	same := func(s string) string { return s }
	return same, same
}

// webURL reports whether raw is an http(s) URL, the only kind a message links.
func webURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// render is the body of a notice of escs in kind's format.
func (e *Escalator) render(kind string, escs []*patchgate.Escalation, tickets map[int64]*patchgate.Ticket) ([]byte, error) {
	views := make([]escalationView, len(escs))
	for i, r := range escs {
		v := escalationView{Escalation: r, Level: r.To.Describe()}
		if t := tickets[r.TicketID]; t != nil {
			v.Title, v.URL, v.Severity = t.Title, t.URL, t.Severity
		}
		if e.Policy.PublicURL != "" {
			v.Dashboard = strings.TrimSuffix(e.Policy.PublicURL, "/") + fmt.Sprintf("/ui/tickets/%d", r.TicketID)
		}
		views[i] = v
	}
	title := fmt.Sprintf("patchgate: %d ticket escalated", len(escs))
	if len(escs) != 1 {
		title = fmt.Sprintf("patchgate: %d tickets escalated", len(escs))
	}
	lines := make([]string, 0, min(len(views), maxNoticeLines)+1)
	for i, v := range views {
		if i == maxNoticeLines {
			lines = append(lines, fmt.Sprintf("… and %d more: see the tickets with ?level= on the dashboard", len(views)-i))
			break
		}
		lines = append(lines, e.line(kind, v))
	}
	switch kind {
	case ChannelSlack:
		return json.Marshal(map[string]string{"text": title + "\n" + strings.Join(lines, "\n")})
	case ChannelTeams:
		color := "FFA500" // at risk
		for _, v := range views {
			if v.Cause == patchgate.SLABreached {
				color = "D70000"
			}
		}
		return json.Marshal(map[string]any{"@type": "MessageCard", "@context": "https://schema.org/extensions",
			"summary": title, "themeColor": color, "title": title, "text": strings.Join(lines, "\n\n")})
	case ChannelWebhook:
		return json.Marshal(map[string]any{"action": "escalated", "escalations": views})
	}
	return nil, patchgate.Errorf(patchgate.EINVALID, "channel kind %q: want webhook, slack or teams", kind)
}

// Deliver sends the notices due now, each claimed first so one process sends
// it; a failed send is tried again after a backoff, and one that cannot
// succeed (4xx, a channel no longer configured) is given up and logged.
func (e *NoticeSender) Deliver(ctx context.Context) error {
	now := clock(e.Now)
	due, err := e.Store.DueNotices(ctx, now, 100)
	if err != nil {
		return err
	}
	channels := map[string]Channel{}
	for _, cs := range e.Contacts {
		for _, c := range cs {
			channels[c.Name] = c
		}
	}
	for _, n := range due {
		ok, err := e.Store.ClaimNotice(ctx, n, now.Add(5*time.Minute))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		c, configured := channels[n.Channel]
		switch {
		case !configured:
			err = patchgate.Errorf(patchgate.EINVALID, "channel %s is no longer configured (escalation.levels.*.contacts)", n.Channel)
		case n.Kind == ChannelWebhook:
			err = e.Poster.Post(ctx, c.URL, c.Secret, patchgate.EventTicketEscalated, n.Body)
		default:
			err = e.Poster.Post(ctx, c.URL, "", "", n.Body)
		}
		var next time.Time
		msg := ""
		if err != nil {
			msg = err.Error()
			switch patchgate.ErrorCode(err) {
			case patchgate.EINVALID, patchgate.EUNAUTHORIZED, patchgate.EFORBIDDEN, patchgate.ENOTFOUND:
				e.Logger.Error("escalation notice given up: fix the channel in escalation.levels; later escalations use it", "channel", n.Channel, "notice", n.ID, "err", err)
			default:
				next = now.Add(e.backoff(n.Attempts))
				e.Logger.Warn("escalation notice not sent; will retry", "channel", n.Channel, "notice", n.ID, "retry_at", next, "err", err)
			}
		}
		if err := e.Store.FinishNotice(context.WithoutCancel(ctx), n.ID, err == nil, msg, next); err != nil {
			return err
		}
		if err == nil {
			e.Logger.Info("escalation notice sent", "channel", n.Channel, "notice", n.ID, "escalations", len(n.Escalations))
		}
	}
	return nil
}

// backoff is the wait after a notice's attempts+1-th failure.
func (e *NoticeSender) backoff(attempts int) time.Duration {
	first, most := e.Backoff, e.MaxBackoff
	if first <= 0 {
		first = 30 * time.Second
	}
	if most <= 0 {
		most = time.Hour
	}
	d := first
	for range min(attempts, 20) {
		d *= 2
		if d >= most {
			return most
		}
	}
	return min(d, most)
}
