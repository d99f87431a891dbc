package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/tracking"
	"go.yaml.in/yaml/v3"
)

// EscalationConfig is the escalation policy: who hears of a ticket that
// escalates to each support level (L1 help desk … L4 outside supplier) as its
// SLA phase comes at risk or is breached. Without levels nothing escalates.
type EscalationConfig struct {
	// Levels maps L1…L4 to that level's contacts.
	Levels map[string]EscalationLevelConfig `yaml:"levels" json:"levels"`
	// Interval is how often tickets are checked and notices sent.
	Interval time.Duration `yaml:"interval" json:"interval"`
}

// EscalationLevelConfig is one support level's contacts.
type EscalationLevelConfig struct {
	Contacts []EscalationContactConfig `yaml:"contacts" json:"contacts"`
}

// EscalationContactConfig is one contact channel.
type EscalationContactConfig struct {
	// Name identifies the channel in logs and notices; a name given at two
	// levels must be the same channel, which then gets one message per sweep.
	Name string `yaml:"name" json:"name"`
	// Type is webhook (patchgate's signed JSON, event ticket.escalated), slack
	// (a Slack-compatible incoming webhook) or teams (a Microsoft Teams
	// incoming webhook: a MessageCard).
	Type   string `yaml:"type" json:"type"`
	URL    string `yaml:"url" json:"url"`
	Secret string `yaml:"secret" json:"secret"`
}

// UnmarshalJSON reads PATCHGATE_ESCALATION_LEVELS' contacts as the YAML
// they are.
func (c *EscalationLevelConfig) UnmarshalJSON(b []byte) error {
	type plain EscalationLevelConfig
	return yaml.Unmarshal(b, (*plain)(c))
}

// Enabled reports whether any level has contacts.
func (c EscalationConfig) Enabled() bool {
	for _, l := range c.Levels {
		if len(l.Contacts) > 0 {
			return true
		}
	}
	return false
}

// Contacts is the policy as the escalator takes it.
func (c EscalationConfig) Contacts() map[patchgate.SupportLevel][]tracking.Channel {
	out := map[patchgate.SupportLevel][]tracking.Channel{}
	for level, l := range c.Levels {
		lv, _ := patchgate.ParseSupportLevel(level)
		for _, ct := range l.Contacts {
			out[lv] = append(out[lv], tracking.Channel{Name: ct.Name, Kind: ct.Type, URL: ct.URL, Secret: ct.Secret})
		}
	}
	return out
}

// validate checks the policy and the repositories' levels, suppliers and
// contracts, naming each bad key.
func (c EscalationConfig) validate(repos []RepoConfig) []error {
	var errs []error
	if c.Interval < 10*time.Second || c.Interval > time.Hour {
		errs = append(errs, configKeyErrorf("escalation.interval: %s: want 10s to 1h", c.Interval))
	}
	channels := map[string]EscalationContactConfig{}
	for _, level := range slices.Sorted(maps.Keys(c.Levels)) {
		key := "escalation.levels." + level
		if lv, ok := patchgate.ParseSupportLevel(level); !ok || string(lv) != strings.ToUpper(level) {
			errs = append(errs, configKeyErrorf("%s: %q is not a support level: want L1, L2, L3 or L4", key, level))
		}
		for i, ct := range c.Levels[level].Contacts {
			ck := fmt.Sprintf("%s.contacts[%d]", key, i)
			if strings.TrimSpace(ct.Name) == "" {
				errs = append(errs, configKeyErrorf("%s.name: name the channel (support-leads, supplier)", ck))
			}
			switch ct.Type {
			case tracking.ChannelWebhook:
				if len(ct.Secret) < 16 {
					errs = append(errs, configKeyErrorf("%s.secret: a webhook contact needs a secret of at least 16 characters", ck))
				}
			case tracking.ChannelSlack, tracking.ChannelTeams:
			default:
				errs = append(errs, configKeyErrorf("%s.type: %q: want webhook, slack or teams", ck, ct.Type))
			}
			if err := validateHTTPURL(ct.URL); err != nil {
				errs = append(errs, configKeyErrorf("%s.url: %w", ck, err))
			}
			if prev, ok := channels[ct.Name]; ok && prev != ct {
				errs = append(errs, configKeyErrorf("%s.name: %s names another channel already: give each channel its own name", ck, ct.Name))
			}
			channels[ct.Name] = ct
		}
	}
	for i, r := range repos {
		if r.SupportLevel != "" {
			if err := patchgate.SupportLevel(strings.ToUpper(strings.TrimSpace(r.SupportLevel))).Validate(); err != nil {
				errs = append(errs, configKeyErrorf("repos[%d].support_level: %q: want L1, L2, L3 or L4", i, r.SupportLevel))
			}
		}
	}
	return errs
}
