package issuer

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/lifecycle"
)

// Sign-on endpoints named in the federation metadata: SAML 2.0 single
// sign-on (issuer/samlidp) and the WS-Federation passive requestor.
const (
	PassivePath = "/wsfed"
	SAMLPath    = "/saml2"
)

// Snapshot is an immutable view of the keys and the documents that publish
// them, rebuilt whenever the store's generation changes. Every replica
// builds byte-identical JWKS from the same generation.
type Snapshot struct {
	Generation int64
	Keys       []lifecycle.Key // every key, oldest first
	Published  []lifecycle.Key // primary first, then next keys, then retired keys, each newest first
	Primary    *lifecycle.Key  // nil when there is none
	Certs      map[string]*x509.Certificate
	NextChange time.Time // when the policy next changes anything (zero: never)
	// NextKID is the kid of the (non-transient) next key; "" when there is
	// none. A client served this snapshot holds it.
	NextKID string

	JWKS         []byte
	JWKSETag     string
	Metadata     []byte // signed by the primary where its key type allows
	MetadataETag string
	MetadataErr  error // why Metadata is unsigned, if it is
	// StateErr says why the key set cannot keep rolling (a
	// *lifecycle.StateError): several primaries, an unpromotable next
	// key, no primary the policy can restore. Such a replica is unhealthy
	// until keyroll keys repair fixes the store.
	StateErr error
}

func (m *Manager) build(ctx context.Context, all []lifecycle.Key, gen int64) (*Snapshot, error) {
	s := &Snapshot{Generation: gen, Keys: all, Certs: map[string]*x509.Certificate{}}
	s.Published = orderPublished(all)
	var set jwk.Set
	var certs []*x509.Certificate
	for i, k := range s.Published {
		cert, err := x509.ParseCertificate(k.Cert)
		if err != nil {
			return nil, fmt.Errorf("issuer: certificate of key %s does not parse: %w", k.KID, err)
		}
		s.Certs[k.KID] = cert
		certs = append(certs, cert)
		jk, err := jwk.FromCertificate(cert, k.KID, k.Alg)
		if err != nil {
			return nil, fmt.Errorf("issuer: key %s: %w", k.KID, err)
		}
		set.Keys = append(set.Keys, jk)
		if k.State == lifecycle.Primary {
			s.Primary = &s.Published[i]
		}
	}
	if set.Keys == nil {
		set.Keys = []jwk.Key{}
	}
	var err error
	if s.JWKS, err = json.Marshal(set); err != nil {
		return nil, err
	}
	s.JWKSETag = etag(s.JWKS)
	if ni := lifecycle.NextIndex(all); ni >= 0 {
		s.NextKID = all[ni].KID
	}
	s.NextChange = lifecycle.NextDue(all, m.cfg.Policy, m.Now())
	if s.StateErr = m.consistent(all); s.StateErr != nil {
		m.cfg.Logger.Error("the key set cannot keep rolling", "generation", gen, "err", s.StateErr)
	}
	s.Metadata, s.MetadataErr = m.metadata(ctx, s, certs)
	s.MetadataETag = etag(s.Metadata)
	return s, nil
}

// metadata builds the federation metadata and signs it with the primary.
// When the primary's key type has no XML-DSig algorithm (Ed25519) the
// document is served unsigned and the reason is kept.
func (m *Manager) metadata(ctx context.Context, s *Snapshot, certs []*x509.Certificate) ([]byte, error) {
	sum := sha256.Sum256(s.JWKS)
	doc, err := fedmeta.Build(fedmeta.Config{
		EntityID:   m.cfg.Issuer,
		PassiveURL: strings.TrimSuffix(m.cfg.Issuer, "/") + PassivePath,
		SSOURL:     strings.TrimSuffix(m.cfg.Issuer, "/") + SAMLPath,
		Certs:      certs,
		ID:         "_" + fmt.Sprintf("%x", sum[:16]),
	})
	if err != nil {
		return nil, fmt.Errorf("issuer: build federation metadata: %w", err)
	}
	if s.Primary == nil {
		return doc, errors.New("no primary key to sign the metadata")
	}
	signer, err := m.sign.open(ctx, *s.Primary)
	if err != nil {
		return doc, err
	}
	signed, err := fedmeta.Sign(doc, signer, s.Certs[s.Primary.KID])
	if err != nil {
		m.cfg.Logger.Warn("federation metadata served unsigned", "primary", s.Primary.KID, "alg", s.Primary.Alg, "err", err)
		return doc, err
	}
	return signed, nil
}

// orderPublished lists published keys primary first, then next keys, then
// retired keys; newest first within a state. Relying parties must not depend
// on the order, but people reading the JWKS like the signer on top.
func orderPublished(all []lifecycle.Key) []lifecycle.Key {
	var out []lifecycle.Key
	for _, st := range []lifecycle.State{lifecycle.Primary, lifecycle.Next, lifecycle.Retired} {
		for i := len(all) - 1; i >= 0; i-- {
			if all[i].State == st {
				out = append(out, all[i])
			}
		}
	}
	return out
}

// etag is a strong entity tag over the exact bytes served.
func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}
