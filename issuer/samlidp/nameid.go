package samlidp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/saml"
	"github.com/keyroll/keyroll/store"
)

// errNoEmail: the emailAddress format was asked for a user whose name is
// not an address.
var errNoEmail = errors.New("the user has no email address for an emailAddress NameID")

// nameIDFormat is the format of the NameID an answer carries: the one the
// request asks for, else the application's, else persistent. ok is false
// for a format keyroll does not issue.
func nameIDFormat(app store.Application, requested string) (string, bool) {
	switch requested {
	case "", saml.NameIDUnspecified:
		if app.Fed.NameIDFormat != "" {
			return app.Fed.NameIDFormat, true
		}
		if requested == saml.NameIDUnspecified {
			return saml.NameIDUnspecified, true
		}
		return saml.NameIDPersistent, true
	case saml.NameIDPersistent, saml.NameIDEmail, saml.NameIDTransient:
		return requested, true
	}
	return "", false
}

// nameIDKey is the HMAC key of persistent NameIDs, shared by replicas
// through the store.
type nameIDKey struct {
	mu  sync.Mutex
	key []byte
}

const nameIDSetting = "saml_nameid_key"

// nameID is u's NameID for app in format: persistent ones are an opaque
// HMAC of the application and the user (stable, different for every
// application, so applications cannot correlate users); transient ones are
// random; emailAddress is the user name when it is an address;
// unspecified is the user name.
func (p *Provider) nameID(ctx context.Context, app store.Application, u store.User, format string) (string, error) {
	switch format {
	case saml.NameIDTransient:
		return "_" + credential.Random(16), nil
	case saml.NameIDEmail:
		if !strings.Contains(u.Username, "@") {
			return "", fmt.Errorf("%w (user %s)", errNoEmail, u.Username)
		}
		return u.Username, nil
	case saml.NameIDPersistent:
		key, err := p.persistentKey(ctx)
		if err != nil {
			return "", err
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(app.ClientID + "\x00" + strings.ToLower(u.Username)))
		return hex.EncodeToString(m.Sum(nil)[:20]), nil
	}
	return u.Username, nil
}

func (p *Provider) persistentKey(ctx context.Context) ([]byte, error) {
	p.ids.mu.Lock()
	defer p.ids.mu.Unlock()
	if p.ids.key == nil {
		k, err := p.st.InitSetting(ctx, nameIDSetting, []byte(credential.Random(32)))
		if err != nil {
			return nil, fmt.Errorf("persistent NameID key: %w", err)
		}
		p.ids.key = k
	}
	return p.ids.key, nil
}

// newSessionIndex names the sign-in in the assertion's AuthnStatement.
func newSessionIndex() string { return "_" + credential.Random(16) }
