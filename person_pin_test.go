package patchgate_test

import (
	"testing"

	"github.com/patchgate/patchgate"
)

func TestSamePerson(t *testing.T) {
	alice := &patchgate.PersonPin{Forge: patchgate.GitHub, Login: "alice", UserID: 11}
	for _, tt := range []struct {
		name   string
		pin    *patchgate.PersonPin
		forge  patchgate.Forge
		userID int64
		want   bool
	}{
		{"the pinned account", alice, patchgate.GitHub, 11, true},
		{"another account under the login", alice, patchgate.GitHub, 12, false},
		{"the same id on the other forge", alice, patchgate.GitLab, 11, false},
		{"an actor without an id", alice, patchgate.GitHub, 0, false},
		{"no pin", nil, patchgate.GitHub, 11, false},
		{"a pin without an id", &patchgate.PersonPin{Forge: patchgate.GitHub, Login: "alice"}, patchgate.GitHub, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := patchgate.PinMatches(tt.pin, tt.forge, tt.userID); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
