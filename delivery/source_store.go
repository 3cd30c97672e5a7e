package delivery

import (
	"context"
	"errors"
	"strconv"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// StoreSource runs each user's active stored script (the ones ManageSieve
// uploads). An upload or activation is in effect from the next message:
// the script's version is its update time. :personal includes name the
// user's other stored scripts.
type StoreSource struct {
	Store store.Scripts
}

// Scripts implements Source.
func (s StoreSource) Scripts(_ context.Context, user string) ([]Script, error) {
	sc, err := s.Store.ActiveScript(user)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []Script{{
		Name:     "store:" + sc.User + ":" + sc.Name,
		Version:  strconv.FormatInt(sc.Updated.UnixNano(), 10),
		Text:     sc.Source,
		Includes: storeResolver{s.Store, user},
	}}, nil
}

// storeResolver resolves a stored script's :personal includes among the
// user's stored scripts.
type storeResolver struct {
	scripts store.Scripts
	user    string
}

func (r storeResolver) Resolve(_ sieve.Location, name string) ([]byte, error) {
	sc, err := r.scripts.GetScript(r.user, name)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return nil, sieve.ErrScriptNotFound
	}
	if err != nil {
		return nil, err
	}
	return sc.Source, nil
}
