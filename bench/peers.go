package bench

import (
	"context"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/coreos/go-oidc/v3/oidc"
	jwtv5 "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// setupKeyfunc: keyfunc's default HTTP-backed key set (fetched at
// creation, refreshed in the background) as the jwt/v5 Keyfunc, with the
// alg, iss, aud and exp checks a relying party needs.
func setupKeyfunc(ctx context.Context, f *Fixture) (*Prepared, error) {
	ctx, cancel := context.WithCancel(ctx)
	k, err := keyfunc.NewDefaultCtx(ctx, []string{f.JWKSURL("keyfunc+jwt")})
	if err != nil {
		cancel()
		return nil, err
	}
	kf := k.Keyfunc
	p := jwtv5.NewParser(jwtv5.WithValidMethods([]string{f.Alg}), jwtv5.WithIssuer(Issuer),
		jwtv5.WithAudience(Audience), jwtv5.WithExpirationRequired())
	return &Prepared{
		Bind: func(tok string) Verify {
			return func() error {
				_, err := p.ParseWithClaims(tok, &jwtv5.RegisteredClaims{}, kf)
				return err
			}
		},
		Close: cancel,
	}, nil
}

// setupJWX: a jwk.Cache (httprc) holding the JWKS, used through a
// CachedSet by jwt.ParseString, which verifies and validates exp, nbf,
// iat, iss and aud. The parse options are built once.
func setupJWX(ctx context.Context, f *Fixture) (*Prepared, error) {
	c, err := jwk.NewCache(ctx, httprc.NewClient())
	if err != nil {
		return nil, err
	}
	url := f.JWKSURL("jwx")
	if err := c.Register(ctx, url); err != nil {
		c.Shutdown(ctx)
		return nil, err
	}
	set, err := c.CachedSet(url)
	if err != nil {
		c.Shutdown(ctx)
		return nil, err
	}
	opts := []jwxjwt.ParseOption{jwxjwt.WithKeySet(set), jwxjwt.WithIssuer(Issuer), jwxjwt.WithAudience(Audience)}
	return &Prepared{
		Bind: func(tok string) Verify {
			return func() error {
				_, err := jwxjwt.ParseString(tok, opts...)
				return err
			}
		},
		Close: func() { c.Shutdown(context.Background()) },
	}, nil
}

// setupOIDC: go-oidc's RemoteKeySet (fetched at the first verification,
// which happens in the checks before any timing) and IDTokenVerifier.
func setupOIDC(ctx context.Context, f *Fixture) (*Prepared, error) {
	ks := oidc.NewRemoteKeySet(ctx, f.JWKSURL("go-oidc"))
	v := oidc.NewVerifier(Issuer, ks, &oidc.Config{ClientID: Audience, SupportedSigningAlgs: []string{f.Alg}})
	return &Prepared{
		Bind: func(tok string) Verify {
			return func() error {
				_, err := v.Verify(ctx, tok)
				return err
			}
		},
		Close: func() {},
	}, nil
}
