package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestVerificationShowSaysWhenTestsAreNotListed: `verification show` of a
// suite run with plain `go test ./...` says its tests are not listed and how
// to list them; a suite that counted tests does not.
func TestVerificationShowSaysWhenTestsAreNotListed(t *testing.T) {
	var buf bytes.Buffer
	printVerification(&buf, &patchgate.Verification{ID: 1, Repo: testRepo, SHA: strings.Repeat("a", 40), Suites: []*patchgate.SuiteRun{
		{Name: "quiet", Required: true, State: patchgate.RunSuccess},
		{Name: "counted", Required: true, State: patchgate.RunSuccess, Passed: 4},
	}})
	out := buf.String()
	if !strings.Contains(out, "quiet: this run does not list its tests") || !strings.Contains(out, "go test -json ./...") ||
		strings.Contains(out, "counted: this run") {
		t.Errorf("verification show: got\n%s\nwant the quiet suite's hint alone", out)
	}
}
