package patchgate

import (
	"context"
	"strings"
)

// PersonPin pins a login named in the configuration or on a token to the
// forge's numeric user id it had when patchgate first needed it. People are
// compared by that id: a renamed login keeps its rights, and whoever registers
// a released login does not inherit them.
type PersonPin struct {
	Forge Forge  `json:"forge"`
	Login string `json:"login"`
	// UserID is the forge's numeric id of the account.
	UserID int64 `json:"user_id"`
}

// PinKey is the form a login is pinned under: both forges compare logins
// without regard to case.
func PinKey(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// PersonService pins logins to forge user ids. Implementations are safe for
// concurrent use.
type PersonService interface {
	// FindPin returns the pin of login on forge; ENOTFOUND when none.
	FindPin(ctx context.Context, forge Forge, login string) (*PersonPin, error)
	// PinPerson pins p.Login to p.UserID unless the login is pinned already,
	// and returns the pin that holds: the first pin wins, for good.
	PinPerson(ctx context.Context, p PersonPin) (*PersonPin, error)
}

// UserLookup asks one forge for the numeric user id of a login, as the login
// is registered now.
type UserLookup interface {
	// UserID returns the id of login; ENOTFOUND when no account has it.
	UserID(ctx context.Context, login string) (int64, error)
}

// PinMatches decides whether an actor the forge names by user id is the
// person a pin names: ids equal and known. A login alone never decides it.
func PinMatches(pin *PersonPin, forge Forge, userID int64) bool {
	return pin != nil && pin.Forge == forge && pin.UserID != 0 && pin.UserID == userID
}
