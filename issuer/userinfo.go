package issuer

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// maxAccessToken bounds the bearer tokens userinfo reads.
const maxAccessToken = 16 << 10

// userinfo answers the OIDC UserInfo endpoint for an access token from
// the authorization-code flow with the openid scope.
func (p *provider) userinfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyroll"`)
		writeJSON(w, http.StatusUnauthorized, &TokenError{Code: errInvalidRequest, Description: "send the access token as Authorization: Bearer"})
		return
	}
	cl, err := p.verifyAccessToken(r.Context(), token)
	if err != nil {
		bearerError(w, http.StatusUnauthorized, errInvalidToken, err.Error())
		return
	}
	if !hasScope(cl.Scope, "openid") {
		bearerError(w, http.StatusForbidden, errInsufficientScope, "the access token was not issued with the openid scope to a signed-in user")
		return
	}
	u, err := p.st().User(r.Context(), cl.Sub)
	switch {
	case errors.Is(err, store.ErrNotFound):
		bearerError(w, http.StatusUnauthorized, errInvalidToken, "the user no longer exists")
		return
	case err != nil:
		p.log().Error("userinfo user lookup", "err", err)
		writeJSON(w, http.StatusInternalServerError, &TokenError{Code: errServerError, Description: "user lookup failed"})
		return
	}
	out := map[string]any{"sub": u.Username}
	if hasScope(cl.Scope, "profile") {
		out["preferred_username"] = u.Username
	}
	writeJSON(w, http.StatusOK, out)
}

func bearerError(w http.ResponseWriter, code int, kind, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="keyroll", error=%q, error_description=%q`, kind, strings.ReplaceAll(desc, `"`, "'")))
	writeJSON(w, code, &TokenError{Code: kind, Description: desc})
}

// verifyAccessToken checks one of keyroll's own access tokens against the
// keys it publishes: type at+jwt, a published kid whose algorithm matches,
// the signature, the issuer, and the validity period.
func (p *provider) verifyAccessToken(ctx context.Context, token string) (*tokenClaims, error) {
	if len(token) > maxAccessToken {
		return nil, errors.New("the access token is too long")
	}
	tok, err := jws.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("the access token does not parse: %v", err)
	}
	if tok.Header.Typ != TypeAccessToken {
		return nil, fmt.Errorf("the token has typ %q, not %s", tok.Header.Typ, TypeAccessToken)
	}
	k, cert := p.publishedKey(ctx, tok.Header.Kid)
	if cert == nil {
		return nil, errors.New("the token's kid is not a published key of this issuer")
	}
	if tok.Header.Alg != k.Alg {
		return nil, fmt.Errorf("the token's alg %s is not its key's %s", tok.Header.Alg, k.Alg)
	}
	if err := jws.VerifySignature(tok.Header.Alg, cert.PublicKey, tok.SigningInput, tok.Signature); err != nil {
		return nil, errors.New("the access token's signature does not verify")
	}
	var cl tokenClaims
	if err := json.Unmarshal(tok.Payload, &cl); err != nil {
		return nil, errors.New("the access token's claims do not parse")
	}
	now := p.m.Now().Unix()
	switch {
	case cl.Iss != p.issuerURL():
		return nil, errors.New("the access token is from another issuer")
	case now >= cl.Exp:
		return nil, errors.New("the access token has expired")
	case now < cl.Nbf:
		return nil, errors.New("the access token is not valid yet")
	}
	return &cl, nil
}

// publishedKey finds a published key by kid, refreshing the snapshot once
// when the kid is unknown (another replica may have just published it).
func (p *provider) publishedKey(ctx context.Context, kid string) (lifecycle.Key, *x509.Certificate) {
	find := func() (lifecycle.Key, *x509.Certificate) {
		s := p.m.Snapshot()
		for _, k := range s.Published {
			if k.KID == kid {
				return k, s.Certs[kid]
			}
		}
		return lifecycle.Key{}, nil
	}
	if k, c := find(); c != nil {
		return k, c
	}
	now, last := p.m.Now().UnixNano(), p.lastMissRefresh.Load()
	if now-last < int64(minMissRefresh) || !p.lastMissRefresh.CompareAndSwap(last, now) {
		return lifecycle.Key{}, nil // refreshed a moment ago: the kid is unknown
	}
	if err := p.m.Refresh(ctx); err != nil {
		p.log().Warn("refresh for an unknown kid failed", "err", err)
	}
	return find()
}
