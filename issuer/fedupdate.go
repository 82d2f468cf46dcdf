package issuer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// UpdateFromSPMetadata applies what a refreshed service provider metadata
// says to a SAML application: its assertion consumer services and signing
// certificates (the SP rolled its key, say). The entity ID never changes
// this way: metadata naming another entity is refused. It reports whether
// anything changed; a change is audited.
func (m *Manager) UpdateFromSPMetadata(ctx context.Context, clientID, entityID string, acs []string, certs [][]byte, requestsSigned bool, actor string) (bool, error) {
	_, changed, err := m.cfg.Store.UpdateApp(ctx, clientID, func(cur store.Application, _ []lifecycle.Key) (*store.Application, []lifecycle.Event, error) {
		if cur.Proto() != store.ProtocolSAML {
			return nil, nil, invalid("application %s is not a SAML application", cur.Name)
		}
		if entityID != cur.Audience {
			return nil, nil, invalid("the SP metadata of %s now names the entity %q, not %q; re-register the application to change it", cur.Name, Clip(entityID), Clip(cur.Audience))
		}
		next := cur
		next.RedirectURIs, next.Fed.SPCerts = acs, certs
		next.Fed.RequestsSigned = cur.Fed.RequestsSigned || requestsSigned
		spec := AppSpec{Name: next.Name, Protocol: next.Proto(), Audience: next.Audience, RedirectURIs: next.RedirectURIs, Fed: next.Fed}
		if err := checkFedFields(spec); err != nil {
			return nil, nil, err
		}
		if slices.Equal(cur.RedirectURIs, next.RedirectURIs) && slices.EqualFunc(cur.Fed.SPCerts, next.Fed.SPCerts, slices.Equal) &&
			cur.Fed.RequestsSigned == next.Fed.RequestsSigned {
			return nil, nil, nil
		}
		now := m.Now()
		next.UpdatedAt = now
		return &next, []lifecycle.Event{{Time: now, Actor: actor, App: cur.Name,
			Reason: fmt.Sprintf("SP metadata refreshed from %s: %d ACS URLs, %d signing certificates (were %d and %d)",
				cur.Fed.SPMetadataURL, len(acs), len(certs), len(cur.RedirectURIs), len(cur.Fed.SPCerts))}}, nil
	})
	return changed, err
}

// SPMetadataApps returns the SAML applications registered from a metadata
// URL, which a refresher keeps current.
func (m *Manager) SPMetadataApps(ctx context.Context) ([]store.Application, error) {
	apps, err := m.cfg.Store.Apps(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Application
	for _, a := range apps {
		if a.Proto() == store.ProtocolSAML && a.Fed.SPMetadataURL != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

// spRefreshEvery is how often SP metadata is read again when nobody says.
const spRefreshEvery = 24 * time.Hour

// SPRefreshInterval is how often service provider metadata is refreshed:
// the relying parties' refresh interval of the policy, at most a day.
func (m *Manager) SPRefreshInterval() time.Duration {
	return min(m.cfg.Policy.RefreshInterval, spRefreshEvery)
}
