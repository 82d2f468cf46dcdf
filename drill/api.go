package drill

import (
	"context"
	"fmt"
	"net/http"

	"github.com/keyroll/keyroll/adminapi"
	"github.com/keyroll/keyroll/jws"
)

// apiTester calls a web API with a token the issuer mints for the
// application.
type apiTester struct {
	admin Admin
	app   string
	url   string
	hc    *http.Client
}

func (t *apiTester) test(ctx context.Context, k adminapi.KeyInfo) (Outcome, Evidence, error) {
	tok, err := t.admin.AppToken(ctx, t.app)
	if err != nil {
		if ctx.Err() != nil {
			return "", Evidence{}, ctx.Err()
		}
		return Undecided, Evidence{Error: "the issuer minted no token: " + err.Error()}, nil
	}
	kid := tokenKID(tok.AccessToken)
	if kid != k.KID {
		return Undecided, Evidence{TokenKID: kid, Error: fmt.Sprintf("the issuer signed the token with kid %q, not the pinned key's %q", kid, k.KID)}, nil
	}
	return t.call(ctx, tok.AccessToken)
}

// call calls the API with token as a bearer token (none when empty) and
// says what the answer means. Only cancellation is an error.
func (t *apiTester) call(ctx context.Context, token string) (Outcome, Evidence, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return Undecided, Evidence{Error: err.Error()}, nil
	}
	kid := ""
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		kid = tokenKID(token)
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", Evidence{}, ctx.Err()
		}
		return Undecided, Evidence{TokenKID: kid, Error: "calling the API: " + netError(err)}, nil
	}
	body, err := readBody(resp)
	ev := answer(resp, body)
	ev.TokenKID = kid
	if err != nil && ctx.Err() != nil {
		return "", Evidence{}, ctx.Err()
	}
	switch code := resp.StatusCode; {
	case code/100 == 2:
		return Accepted, ev, nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return Rejected, ev, nil
	default:
		ev.Note = "neither acceptance (2xx) nor rejection (401, 403)"
		return Undecided, ev, nil
	}
}

// tokenKID is the kid in a compact JWS header, or "".
func tokenKID(token string) string {
	t, err := jws.Parse(token)
	if err != nil {
		return ""
	}
	return t.Header.Kid
}

// noRedirects copies base with jar set and redirects left to the caller.
func noRedirects(base *http.Client, jar http.CookieJar) *http.Client {
	c := *base
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
