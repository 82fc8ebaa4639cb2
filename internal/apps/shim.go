// Package apps is a temporary stand-in with the API of the real package
// (branch duo-api), deleted when that lands.
package apps

import (
	"context"

	"enrollportal/internal/audit"
	"enrollportal/internal/clock"
	"enrollportal/internal/secret"
	"enrollportal/internal/store"
)

type Service struct {
	Store store.Store
	Box   *secret.Box
	Clock clock.Clock
}

type NewApp struct {
	Name, Kind, NewUserPolicy string
	RedirectURIs              []string
}

type Created struct {
	App                    store.Application
	ClientID, ClientSecret string
}

func (s *Service) Secret(a store.Application) (string, error) {
	b, err := s.Box.Open(a.ClientSecret, []byte("app:"+a.ClientID))
	return string(b), err
}

func (s *Service) Create(ctx context.Context, n NewApp, who audit.Who) (Created, error) {
	now := s.Clock.Now()
	id := secret.NewID("DI", 20)
	sec := secret.NewKey(40)
	a := store.Application{Key: secret.NewID("DA", 20), Name: n.Name, Kind: n.Kind, ClientID: id,
		ClientSecret: s.Box.Seal([]byte(sec), []byte("app:"+id)), UsernameNormalization: store.NormalizeSimple,
		RedirectURIs: n.RedirectURIs, CreatedAt: now, UpdatedAt: now}
	err := s.Store.InTx(ctx, func(q store.Queries) error { return q.CreateApplication(ctx, &a) })
	return Created{App: a, ClientID: id, ClientSecret: sec}, err
}
