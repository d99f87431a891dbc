package patchgate_test

import (
	"testing"

	"github.com/patchgate/patchgate"
)

func TestStandardPrioritySeverity(t *testing.T) {
	tests := []struct {
		priority string
		want     patchgate.Severity
	}{
		{"Highest", patchgate.SeverityCritical},
		{"High", patchgate.SeverityHigh},
		{"Medium", patchgate.SeverityMedium},
		{"Low", patchgate.SeverityLow},
		{"Lowest", patchgate.SeverityLow},
		{" lowest ", patchgate.SeverityLow},
		{"Blocker", patchgate.SeverityCritical}, // not standard: read as a word
		{"Whenever", patchgate.SeverityUnknown},
		{"", patchgate.SeverityUnknown},
	}
	for _, tc := range tests {
		if got := patchgate.StandardPrioritySeverity(tc.priority); got != tc.want {
			t.Errorf("StandardPrioritySeverity(%q) = %s, want %s", tc.priority, got, tc.want)
		}
	}
}
