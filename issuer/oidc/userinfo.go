package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/internal/httpjson"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/store"
)

// MaxAccessToken bounds the bearer tokens UserInfo reads.
const MaxAccessToken = 16 << 10

// userinfo answers the OIDC UserInfo endpoint for an access token from
// the authorization-code flow with the openid scope.
func (p *provider) userinfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyroll"`)
		httpjson.Write(w, http.StatusUnauthorized, &adminapi.TokenError{Code: errInvalidRequest, Description: "send the access token as Authorization: Bearer"})
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
	u, err := p.st.User(r.Context(), cl.Sub)
	switch {
	case errors.Is(err, store.ErrNotFound):
		bearerError(w, http.StatusUnauthorized, errInvalidToken, "the user no longer exists")
		return
	case err != nil:
		p.log.Error("userinfo user lookup", "err", err)
		httpjson.Write(w, http.StatusInternalServerError, &adminapi.TokenError{Code: errServerError, Description: "user lookup failed"})
		return
	}
	out := map[string]any{"sub": u.Username}
	if hasScope(cl.Scope, "profile") {
		out["preferred_username"] = u.Username
	}
	httpjson.Write(w, http.StatusOK, out)
}

func bearerError(w http.ResponseWriter, code int, kind, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="keyroll", error=%q, error_description=%q`, kind, strings.ReplaceAll(desc, `"`, "'")))
	httpjson.Write(w, code, &adminapi.TokenError{Code: kind, Description: desc})
}

// verifyAccessToken checks one of keyroll's own access tokens against the
// keys it publishes: type at+jwt, a published kid whose algorithm matches,
// the signature, the issuer, and the validity period.
func (p *provider) verifyAccessToken(ctx context.Context, token string) (*tokenClaims, error) {
	if len(token) > MaxAccessToken {
		return nil, errors.New("the access token is too long")
	}
	tok, err := jws.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("the access token does not parse: %v", err)
	}
	if tok.Header.Typ != TypeAccessToken {
		return nil, fmt.Errorf("the token has typ %q, not %s", tok.Header.Typ, TypeAccessToken)
	}
	k, cert := p.keys.PublishedKey(ctx, tok.Header.Kid)
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
	now := p.keys.Now().Unix()
	switch {
	case cl.Iss != p.keys.Issuer():
		return nil, errors.New("the access token is from another issuer")
	case now >= cl.Exp:
		return nil, errors.New("the access token has expired")
	case now < cl.Nbf:
		return nil, errors.New("the access token is not valid yet")
	}
	return &cl, nil
}
