package patchgate

import "strings"

// StandardPrioritySeverity maps the priorities a Jira site has out of the box
// to severities — Highest critical, High high, Medium medium, Low and Lowest
// low — so that a tracker configured without a severity map still gives its
// tickets an SLA. Any other value is read with ParseSeverity.
func StandardPrioritySeverity(priority string) Severity {
	switch strings.ToLower(strings.TrimSpace(priority)) {
	case "highest":
		return SeverityCritical
	case "high":
		return SeverityHigh
	case "medium":
		return SeverityMedium
	case "low", "lowest":
		return SeverityLow
	}
	return ParseSeverity(priority)
}
