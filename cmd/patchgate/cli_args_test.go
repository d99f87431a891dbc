package main

import (
	"strings"
	"testing"
)

// TestWrongArgumentsNameTheCommandAndItsUsage: a missing or extra argument
// says which command wanted what and how to call it, not only cobra's
// "accepts 1 arg(s), received 0".
func TestWrongArgumentsNameTheCommandAndItsUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"evidence", "verify"}, "patchgate evidence verify: accepts 1 arg(s), received 0; usage: patchgate evidence verify FILE"},
		{[]string{"forge", "check"}, "usage: patchgate forge check REPO"},
		{[]string{"token", "revoke", "a", "b"}, "patchgate token revoke: accepts 1 arg(s), received 2"},
	} {
		root := newRootCommand()
		root.SetArgs(tc.args)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("patchgate %s: got %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}
