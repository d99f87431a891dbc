package people

import (
	"context"

	"github.com/patchgate/patchgate"
)

// Tokens stores API tokens, first pinning each person a token names
// (--user github:alice) to the forge user id that holds the login now, so
// that the token approves as that account under any later login, and never
// as whoever registers the login after it is released.
type Tokens struct {
	patchgate.TokenService
	People interface {
		Current(ctx context.Context, forge patchgate.Forge, login string) (*patchgate.PersonPin, error)
	}
}

var _ patchgate.TokenService = (*Tokens)(nil)

// CreateToken pins t's users' ids, then stores t. A login the forge cannot
// resolve refuses the token (EINVALID, naming the login and what to do):
// a token naming nobody in particular must not approve as someone.
func (s *Tokens) CreateToken(ctx context.Context, t *patchgate.Token) error {
	for i, u := range t.Users {
		pin, err := s.People.Current(ctx, u.Forge, u.Login)
		if err != nil {
			return patchgate.Errorf(patchgate.EINVALID, "token %q not created: %s names no account patchgate can pin (%v): check the login on %s, and that patchgate has API access to %s (%s.token in the configuration)",
				t.Name, u.String(), err, u.Forge, u.Forge, u.Forge)
		}
		t.Users[i].UserID = pin.UserID
	}
	return s.TokenService.CreateToken(ctx, t)
}
