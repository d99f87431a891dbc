package main

import (
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestEscalationConfig: a valid policy turns into each level's channels; a
// bad one names each bad key.
func TestEscalationConfig(t *testing.T) {
	good := DefaultConfig()
	good.Repos = []RepoConfig{{Forge: "github", Name: "acme/payments", SupportLevel: "l2", Supplier: "Acme", Contract: "MC-1"}}
	hook := EscalationContactConfig{Name: "oncall", Type: "webhook", URL: "https://ops.example/hook", Secret: strings.Repeat("s", 16)}
	good.Escalation.Levels = map[string]EscalationLevelConfig{
		"L2": {Contacts: []EscalationContactConfig{{Name: "leads", Type: "slack", URL: "https://hooks.slack.com/services/x"}, hook}},
		"L4": {Contacts: []EscalationContactConfig{{Name: "supplier", Type: "teams", URL: "https://acme.webhook.office.com/x"}, hook}},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid policy: %v", err)
	}
	if !good.Escalation.Enabled() || DefaultConfig().Escalation.Enabled() {
		t.Fatal("Enabled: want true with contacts, false by default")
	}
	contacts := good.Escalation.Contacts()
	if len(contacts[patchgate.SupportL2]) != 2 || contacts[patchgate.SupportL4][0].Kind != "teams" || contacts[patchgate.SupportL4][1].Secret != hook.Secret {
		t.Fatalf("contacts: %+v", contacts)
	}
	if r := good.Repos[0].Repository(good.Release); r.SupportLevel != patchgate.SupportL2 || r.Supplier != "Acme" || r.Contract != "MC-1" {
		t.Fatalf("repository: %+v", r)
	}

	bad := good
	bad.Repos = []RepoConfig{{Forge: "github", Name: "acme/payments", SupportLevel: "L5"}}
	bad.Escalation.Interval = 0
	bad.Escalation.Levels = map[string]EscalationLevelConfig{
		"L9": {Contacts: []EscalationContactConfig{{Name: "x", Type: "slack", URL: "https://hooks.slack.com/x"}}},
		"L2": {Contacts: []EscalationContactConfig{{Name: "", Type: "email", URL: "ftp://x"}, {Name: "x", Type: "webhook", URL: "https://h.example"}}},
	}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad policy validated")
	}
	for _, want := range []string{"escalation.interval: 0s: want 10s to 1h", `escalation.levels.L9: "L9" is not a support level`,
		"escalation.levels.L2.contacts[0].name:", `escalation.levels.L2.contacts[0].type: "email"`, "escalation.levels.L2.contacts[0].url:",
		"escalation.levels.L2.contacts[1].secret: a webhook contact needs a secret", "escalation.levels.L9.contacts[0].name: x names another channel",
		`repos[0].support_level: "L5"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}
