package verify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/jwk"
)

// A thumbprint pin accepts metadata signed by the certificate the document
// publishes under that thumbprint, and nothing else.
func TestFederationMetadataThumbprintPin(t *testing.T) {
	a := rsaKey(t, "meta-a").withCert(t)
	rogue := rsaKey(t, "meta-rogue").withCert(t)
	pin := fedmeta.Pin{Thumbprints: []string{jwk.SHA1Thumbprint(a.cert.Raw)}}
	for name, tc := range map[string]struct {
		doc  []byte
		want error
	}{
		"signed by the pinned key":          {metadataDoc(t, &a, fedmeta.Config{}, a), nil},
		"re-signed, listing the pinned key": {metadataDoc(t, &rogue, fedmeta.Config{}, a, rogue), fedmeta.ErrPinnedSignerMismatch},
		"re-signed by its own key":          {metadataDoc(t, &rogue, fedmeta.Config{}, rogue), fedmeta.ErrPinnedSignerMismatch},
		"stripped":                          {metadataDoc(t, nil, fedmeta.Config{}, a), fedmeta.ErrNoSignature},
	} {
		c, err := NewCache(FederationMetadataSignedBy(newMetadataServer(t, tc.doc).srv.URL, pin))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Refresh(context.Background()); !errors.Is(err, tc.want) || (tc.want != nil && c.KeySet() != nil) {
			t.Errorf("%s: Refresh = %v, want %v", name, err, tc.want)
		}
	}
}

// Without a pin, a signed document must at least verify under one of its
// own certificates: damage is refused, though that decides no trust.
func TestFederationMetadataUnpinnedDamagedSignatureRefused(t *testing.T) {
	a := rsaKey(t, "meta-a").withCert(t)
	doc := strings.Replace(string(metadataDoc(t, &a, fedmeta.Config{}, a)), "https://issuer.example/", "https://evil.example/", 1)
	c, err := NewCache(StaticBytes("damaged", []byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(context.Background()); !errors.Is(err, fedmeta.ErrInvalidSignature) {
		t.Fatalf("Refresh = %v, want ErrInvalidSignature", err)
	}
}
