package store_test

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testPeople(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	s := store.NewPersonService(open(t))
	_, err := s.FindPin(ctx, patchgate.GitHub, "alice")
	wantCode(t, err, patchgate.ENOTFOUND)
	for _, tt := range []struct {
		name string
		pin  patchgate.PersonPin
		want int64
	}{
		{"first pin", patchgate.PersonPin{Forge: patchgate.GitHub, Login: "Alice", UserID: 11}, 11},
		{"a later account under the login", patchgate.PersonPin{Forge: patchgate.GitHub, Login: "alice", UserID: 99}, 11},
		{"the login on the other forge", patchgate.PersonPin{Forge: patchgate.GitLab, Login: "alice", UserID: 99}, 99},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.PinPerson(ctx, tt.pin)
			if err != nil || got.UserID != tt.want {
				t.Fatalf("PinPerson = %+v, %v; want user id %d", got, err, tt.want)
			}
			found, err := s.FindPin(ctx, tt.pin.Forge, tt.pin.Login)
			if err != nil || found.UserID != tt.want || found.Login != "alice" {
				t.Fatalf("FindPin = %+v, %v; want alice pinned to %d", found, err, tt.want)
			}
		})
	}
	_, err = s.PinPerson(ctx, patchgate.PersonPin{Forge: patchgate.GitHub, Login: "bob"})
	wantCode(t, err, patchgate.EINVALID)
}
