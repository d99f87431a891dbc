package tracking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/notify"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/tracking"
)

// receiver is an incoming webhook: it records the bodies posted, failing
// with 503 while fail > 0.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	fail   int
	bodies [][]byte
	heads  []http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", req.Header.Get("Content-Type"))
		}
		if r.fail > 0 {
			r.fail--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		r.bodies = append(r.bodies, body)
		r.heads = append(r.heads, req.Header.Clone())
		_, _ = w.Write([]byte("1")) // what Slack answers
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// escalationEnv is a store on an SQLite file that a test can close and open
// again, as a restart does.
type escalationEnv struct {
	path    string
	db      *store.DB
	tickets *store.TicketService
}

func openEscalationEnv(t *testing.T, path string, now *time.Time) *escalationEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	db.Now = func() time.Time { return *now }
	return &escalationEnv{path: path, db: db, tickets: store.NewTicketService(db)}
}

var escOpened = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func (env *escalationEnv) ticket(t *testing.T, key, title string, level patchgate.SupportLevel) *patchgate.Ticket {
	t.Helper()
	tk, err := env.tickets.EnsureTicket(context.Background(), &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: key,
		Title: title, Labels: []string{}, Severity: patchgate.SeverityCritical, OpenedAt: escOpened, SupportLevel: level})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// escalator builds the escalator of a process: critical tickets under the
// default policy, judged at *now.
func (env *escalationEnv) escalator(now *time.Time, contacts map[patchgate.SupportLevel][]tracking.Channel) *tracking.Escalator {
	policy := patchgate.DefaultSLAPolicy()
	dir := patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitHub, Name: "acme/payments",
		TicketKeys: []string{"PAY"}, Supplier: "Acme Maintenance GmbH", Contract: "MC-2026-17"}})
	escalations, logger, clock := store.NewEscalationService(env.db), slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return *now }
	return &tracking.Escalator{Tickets: env.tickets, Store: escalations,
		Policy: tracking.EscalationPolicy{SLA: func(t *patchgate.Ticket) patchgate.SLAStatus { return policy.Evaluate(t, *now) },
			Repository: dir.RepositoryFor, DefaultLevel: dir.DefaultSupportLevel, Contacts: contacts, PublicURL: "https://patchgate.example"},
		Notices: &tracking.NoticeSender{Store: escalations, Poster: notify.Channels{}, Contacts: contacts, Logger: logger,
			Backoff: time.Minute, Now: clock},
		Logger: logger, Now: clock}
}

func (env *escalationEnv) sweep(t *testing.T, e *tracking.Escalator) {
	t.Helper()
	if err := e.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Notices.Deliver(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestEscalationNotifiesEachLevelOnce: real Slack, Teams and signed webhook
// receivers. PAY-1 at L1 escalates to L2 when at risk, PAY-2 at L3 to L4 with
// the repository's supplier and contract; each channel gets one message per
// sweep (ops, a contact of both levels, one for both tickets). A Slack outage
// is retried after the backoff, across a restart; nothing is sent twice, and
// the breach that follows escalates PAY-1 once more, to L3.
func TestEscalationNotifiesEachLevelOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	now := escOpened
	env := openEscalationEnv(t, path, &now)
	pay1 := env.ticket(t, "PAY-1", "Rounding is off", patchgate.SupportL1)
	pay2 := env.ticket(t, "PAY-2", "Refunds fail", patchgate.SupportL3)
	env.ticket(t, "PAY-3", "Typo", patchgate.SupportL1)
	if _, err := env.tickets.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-3", OpenedAt: escOpened.Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	slack, teams, hook := newReceiver(t), newReceiver(t), newReceiver(t)
	contacts := map[patchgate.SupportLevel][]tracking.Channel{
		patchgate.SupportL2: {{Name: "support-leads", Kind: tracking.ChannelSlack, URL: slack.URL + "/services/T0/B0/xyz"},
			{Name: "ops", Kind: tracking.ChannelWebhook, URL: hook.URL, Secret: "hook-secret"}},
		patchgate.SupportL3: {{Name: "experts", Kind: tracking.ChannelSlack, URL: slack.URL + "/services/T0/B1/abc"}},
		patchgate.SupportL4: {{Name: "supplier", Kind: tracking.ChannelTeams, URL: teams.URL + "/webhookb2/x"},
			{Name: "ops", Kind: tracking.ChannelWebhook, URL: hook.URL, Secret: "hook-secret"}},
	}
	// Critical: verify-by 8h, at risk from 6h. At 6h30 PAY-1 and PAY-2 are
	// at risk, PAY-3 (opened 5h later) on track.
	now = escOpened.Add(6*time.Hour + 30*time.Minute)
	slack.fail = 1
	env.sweep(t, env.escalator(&now, contacts))

	if got := slack.got(); len(got) != 0 {
		t.Fatalf("slack got %s while failing", got)
	}
	var card struct {
		Type, Context, Summary, ThemeColor, Title, Text string
	}
	if got := teams.got(); len(got) != 1 {
		t.Fatalf("teams got %d messages, want 1", len(got))
	} else if err := json.Unmarshal(got[0], &card); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	_ = json.Unmarshal(teams.got()[0], &raw)
	if raw["@type"] != "MessageCard" || raw["@context"] != "https://schema.org/extensions" || !strings.Contains(card.Title, "1 ticket escalated") ||
		!strings.Contains(card.Text, "PAY-2") || !strings.Contains(card.Text, "L4 outside supplier") ||
		!strings.Contains(card.Text, "supplier Acme Maintenance GmbH, contract MC-2026-17") || strings.Contains(card.Text, "PAY-1") ||
		!strings.Contains(card.Text, "https://patchgate.example/ui/tickets/") {
		t.Fatalf("teams card: %s", teams.got()[0])
	}
	hooks := hook.got()
	if len(hooks) != 1 {
		t.Fatalf("webhook got %d messages, want 1 for both escalations", len(hooks))
	}
	if h := hook.heads[0]; h.Get("X-Patchgate-Event") != patchgate.EventTicketEscalated || h.Get("X-Patchgate-Signature-256") != notify.Sign("hook-secret", hooks[0]) {
		t.Fatalf("webhook headers: %v", h)
	}
	var signed struct {
		Action      string
		Escalations []struct {
			Ticket, From, To, Phase, Cause, Supplier, Contract, Title, Level string
		}
	}
	if err := json.Unmarshal(hooks[0], &signed); err != nil {
		t.Fatal(err)
	}
	if signed.Action != "escalated" || len(signed.Escalations) != 2 {
		t.Fatalf("webhook payload: %s", hooks[0])
	}
	for _, e := range signed.Escalations {
		switch e.Ticket {
		case "PAY-1":
			if e.From != "L1" || e.To != "L2" || e.Phase != "verify" || e.Cause != "at_risk" || e.Supplier != "" || e.Title != "Rounding is off" {
				t.Errorf("PAY-1 in the webhook: %+v", e)
			}
		case "PAY-2":
			if e.From != "L3" || e.To != "L4" || e.Supplier != "Acme Maintenance GmbH" || e.Contract != "MC-2026-17" || e.Level != "outside supplier" {
				t.Errorf("PAY-2 in the webhook: %+v", e)
			}
		default:
			t.Errorf("webhook names %s", e.Ticket)
		}
	}
	for _, tk := range []struct {
		id   int64
		want patchgate.SupportLevel
	}{{pay1.ID, patchgate.SupportL2}, {pay2.ID, patchgate.SupportL4}} {
		if got, err := env.tickets.FindTicketByID(ctx, tk.id); err != nil || got.SupportLevel != tk.want {
			t.Fatalf("ticket %d at %v (%v), want %s", tk.id, got.SupportLevel, err, tk.want)
		}
	}

	// Restart before Slack's retry is due: the notice waits in the database.
	if err := env.db.Close(); err != nil {
		t.Fatal(err)
	}
	env = openEscalationEnv(t, path, &now)
	now = now.Add(30 * time.Second)
	env.sweep(t, env.escalator(&now, contacts))
	if got := slack.got(); len(got) != 0 {
		t.Fatalf("slack got %d messages before the backoff passed", len(got))
	}
	now = now.Add(2 * time.Minute)
	env.sweep(t, env.escalator(&now, contacts))
	env.sweep(t, env.escalator(&now, contacts))
	got := slack.got()
	if len(got) != 1 {
		t.Fatalf("slack got %d messages after the retry, want 1", len(got))
	}
	var msg map[string]string
	if err := json.Unmarshal(got[0], &msg); err != nil || len(msg) != 1 || !strings.Contains(msg["text"], "PAY-1 \"Rounding is off\" (critical): verify deadline 2026-12-01 16:00 UTC at risk → L2 technical support (was L1)") {
		t.Fatalf("slack message: %s", got[0])
	}
	if len(teams.got()) != 1 || len(hook.got()) != 1 {
		t.Fatalf("after the restart teams has %d messages and the webhook %d, want 1 each", len(teams.got()), len(hook.got()))
	}

	// The verify deadline passes: PAY-1 escalates once more, to L3's experts;
	// PAY-2, at L4 already, tells the supplier and ops of the breach.
	now = escOpened.Add(9 * time.Hour)
	env.sweep(t, env.escalator(&now, contacts))
	env.sweep(t, env.escalator(&now, contacts))
	if got := slack.got(); len(got) != 2 || !strings.Contains(string(got[1]), "PAY-1") || !strings.Contains(string(got[1]), "→ L3 experts (was L2)") {
		t.Fatalf("slack after the breach: %s", got)
	}
	if got := teams.got(); len(got) != 1 {
		t.Fatalf("teams after the breach: %d messages, want still 1: PAY-2 reached L4 in this phase already", len(got))
	}
	escs, err := store.NewEscalationService(env.db).FindEscalations(ctx, pay1.ID)
	if err != nil || len(escs) != 2 || escs[1].Cause != patchgate.SLABreached || escs[1].To != patchgate.SupportL3 {
		t.Fatalf("PAY-1 escalations: %v, %v", escs, err)
	}
}

// TestEscalationCoalescesABurst: after an outage twenty tickets breach at
// once; each channel gets one message naming them all.
func TestEscalationCoalescesABurst(t *testing.T) {
	now := escOpened
	env := openEscalationEnv(t, filepath.Join(t.TempDir(), "p.db"), &now)
	for i := 1; i <= 20; i++ {
		env.ticket(t, fmt.Sprintf("PAY-%d", i), "", patchgate.SupportL1)
	}
	slack, teams := newReceiver(t), newReceiver(t)
	contacts := map[patchgate.SupportLevel][]tracking.Channel{patchgate.SupportL2: {
		{Name: "l2-slack", Kind: tracking.ChannelSlack, URL: slack.URL}, {Name: "l2-teams", Kind: tracking.ChannelTeams, URL: teams.URL}}}
	now = escOpened.Add(30 * time.Hour)
	e := env.escalator(&now, contacts)
	env.sweep(t, e)
	env.sweep(t, e)
	for name, r := range map[string]*receiver{"slack": slack, "teams": teams} {
		got := r.got()
		if len(got) != 1 {
			t.Fatalf("%s got %d messages, want 1", name, len(got))
		}
		body := string(got[0])
		if !strings.Contains(body, "20 tickets escalated") {
			t.Errorf("%s message does not count 20: %s", name, body)
		}
		for i := 1; i <= 20; i++ {
			if !strings.Contains(body, fmt.Sprintf("PAY-%d ", i)) {
				t.Errorf("%s message does not name PAY-%d", name, i)
			}
		}
	}
}

// TestEscalationMessageEscapesTicketText: a ticket's title is written by
// whoever opened it, so in a chat message it can neither ping a channel nor
// hide a link nor format the message.
func TestEscalationMessageEscapesTicketText(t *testing.T) {
	now := escOpened
	env := openEscalationEnv(t, filepath.Join(t.TempDir(), "p.db"), &now)
	env.ticket(t, "PAY-1", "<!channel> see <https://evil.example|the runbook> or [this](https://evil.example) *now*", patchgate.SupportL1)
	slack, teams := newReceiver(t), newReceiver(t)
	contacts := map[patchgate.SupportLevel][]tracking.Channel{patchgate.SupportL2: {
		{Name: "l2-slack", Kind: tracking.ChannelSlack, URL: slack.URL}, {Name: "l2-teams", Kind: tracking.ChannelTeams, URL: teams.URL}}}
	now = escOpened.Add(30 * time.Hour)
	env.sweep(t, env.escalator(&now, contacts))
	text := func(r *receiver) string {
		t.Helper()
		got := r.got()
		if len(got) != 1 {
			t.Fatalf("got %d messages, want 1", len(got))
		}
		var m map[string]any
		if err := json.Unmarshal(got[0], &m); err != nil {
			t.Fatal(err)
		}
		var all strings.Builder // every string of the message, JSON escapes decoded
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				all.WriteString(v + "\n")
			case map[string]any:
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(m)
		return all.String()
	}
	s := text(slack)
	if strings.Contains(s, "<!channel>") || strings.Contains(s, "<https://evil") || !strings.Contains(s, "&lt;!channel&gt;") {
		t.Errorf("Slack message lets the title's markup through:\n%s", s)
	}
	tm := text(teams)
	if strings.Contains(tm, "[this](https://evil.example)") || strings.Contains(tm, "*now*") || !strings.Contains(tm, `\[this\]`) {
		t.Errorf("Teams message lets the title's markup through:\n%s", tm)
	}
}
