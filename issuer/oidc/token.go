package oidc

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/issuer/credential"
	"github.com/keyroll/keyroll/jws"
	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// JWT "typ" header values (RFC 9068 for access tokens).
const (
	TypeAccessToken = "at+jwt"
	TypeIDToken     = "JWT"
)

// tokenClaims are the claims of keyroll's access and ID tokens.
type tokenClaims struct {
	Iss               string `json:"iss"`
	Sub               string `json:"sub"`
	Aud               string `json:"aud"`
	Exp               int64  `json:"exp"`
	Iat               int64  `json:"iat"`
	Nbf               int64  `json:"nbf"`
	Jti               string `json:"jti"`
	ClientID          string `json:"client_id,omitempty"`
	Azp               string `json:"azp,omitempty"`
	Scope             string `json:"scope,omitempty"`
	Nonce             string `json:"nonce,omitempty"`
	AuthTime          int64  `json:"auth_time,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
}

// grant is what a token request was granted.
type grant struct {
	app      store.Application
	user     string // "" for client credentials
	scope    string // granted scopes, space-separated; openid asks for an ID token
	nonce    string
	authTime time.Time
}

func hasScope(scope, s string) bool { return slices.Contains(strings.Fields(scope), s) }

// mint signs the tokens of g with the application's effective key: an
// access token, and an ID token when openid was granted. Both expire at
// the application's lifetime (never past the policy's maximum, the signing
// certificate's NotAfter, or a retired key's end of publication).
func (p *provider) mint(ctx context.Context, g grant) (*adminapi.TokenResponse, error) {
	sk, err := p.keys.SignerFor(ctx, g.app, g.app.TokenLifetime)
	if err != nil {
		return nil, err
	}
	now := p.keys.Now().Truncate(time.Second)
	exp := sk.Expiry
	sign := func(typ string, cl *tokenClaims) (string, error) {
		payload, err := json.Marshal(cl)
		if err != nil {
			return "", err
		}
		return jws.Sign(sk.Signer, jws.Header{Alg: sk.Key.Alg, Kid: sk.Key.KID, Typ: typ, X5t: x5t(sk.Key)}, payload)
	}
	sub := g.app.ClientID
	if g.user != "" {
		sub = g.user
	}
	at := &tokenClaims{Iss: p.keys.Issuer(), Sub: sub, Aud: g.app.Audience, Exp: exp.Unix(), Iat: now.Unix(), Nbf: now.Unix(),
		Jti: credential.Random(jtiBytes), ClientID: g.app.ClientID, Azp: g.app.ClientID, Scope: g.scope}
	resp := &adminapi.TokenResponse{TokenType: "Bearer", ExpiresIn: int64(exp.Sub(now) / time.Second), Scope: g.scope}
	if resp.AccessToken, err = sign(TypeAccessToken, at); err != nil {
		return nil, err
	}
	if g.user != "" && hasScope(g.scope, "openid") {
		id := &tokenClaims{Iss: p.keys.Issuer(), Sub: sub, Aud: g.app.ClientID, Exp: exp.Unix(), Iat: now.Unix(), Nbf: now.Unix(),
			Jti: credential.Random(jtiBytes), Azp: g.app.ClientID, Nonce: g.nonce, AuthTime: g.authTime.Unix()}
		if hasScope(g.scope, "profile") {
			id.PreferredUsername = g.user
		}
		if resp.IDToken, err = sign(TypeIDToken, id); err != nil {
			return nil, err
		}
	}
	p.keys.Issued("oidc", g.app)
	return resp, nil
}

// x5t is the JWS x5t header value of k: base64url of the certificate's
// SHA-1, the bytes its hex thumbprint spells.
func x5t(k lifecycle.Key) string {
	b, err := hex.DecodeString(k.Thumbprint)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
