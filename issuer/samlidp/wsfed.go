package samlidp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/keyroll/keyroll/issuer"
	"github.com/keyroll/keyroll/saml"
	"github.com/keyroll/keyroll/store"
)

// passive is the WS-Federation passive requestor endpoint (GET).
func (p *Provider) passive(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, k := range []string{"wa", "wtrealm", "wreply", "wctx"} {
		if len(q[k]) > 1 {
			p.stop(w, http.StatusBadRequest, "The parameter "+k+" is repeated.")
			return
		}
	}
	switch q.Get("wa") {
	case "wsignin1.0":
		p.signIn(w, r, q)
	case "wsignout1.0", "wsignoutcleanup1.0":
		p.signOut(w, r, q)
	case "":
		p.stop(w, http.StatusBadRequest, "This is keyroll's WS-Federation endpoint; the request has no wa. Start the sign-in at the application.")
	default:
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("wa=%q: keyroll answers wsignin1.0 and wsignout1.0.", issuer.Clip(q.Get("wa"))))
	}
}

// passivePost takes the sign-in form of a WS-Federation sign-in.
func (p *Provider) passivePost(w http.ResponseWriter, r *http.Request) {
	form, ok := p.form(w, r)
	if !ok {
		return
	}
	if !form.Has("login_request") {
		p.stop(w, http.StatusBadRequest, "WS-Federation sign-in requests come by GET (wa=wsignin1.0).")
		return
	}
	p.complete(w, r, sealWSFed, form)
}

// relyingParty finds the WS-Federation application of a realm and the
// reply URL: wreply, which must be registered exactly, or the first
// registered. It answers with an error page when it returns false.
func (p *Provider) relyingParty(w http.ResponseWriter, r *http.Request, realm, reply string) (store.Application, string, bool) {
	app, err := p.keys.AppByAudience(r.Context(), store.ProtocolWSFed, realm)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("No WS-Federation application is registered with the realm %q (keyroll apps create NAME --wsfed --realm ...).", issuer.Clip(realm)))
		return app, "", false
	case err != nil:
		p.log.Error("WS-Federation application lookup", "err", err)
		p.stop(w, http.StatusServiceUnavailable, "The sign-in service is unavailable; try again later.")
		return app, "", false
	case reply != "" && !slices.Contains(app.RedirectURIs, reply):
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("The reply address %q is not registered for %s; the sign-in stops here so that nothing is sent to it.", issuer.Clip(reply), app.Name))
		return app, "", false
	case reply != "":
		return app, reply, true
	case len(app.RedirectURIs) == 0:
		p.stop(w, http.StatusBadRequest, "The application "+app.Name+" has no reply address registered.")
		return app, "", false
	}
	return app, app.RedirectURIs[0], true
}

// signIn starts a wsignin1.0 sign-in.
func (p *Provider) signIn(w http.ResponseWriter, r *http.Request, q url.Values) {
	if q.Get("wtrealm") == "" {
		p.stop(w, http.StatusBadRequest, "The sign-in request names no application (wtrealm is missing).")
		return
	}
	app, reply, ok := p.relyingParty(w, r, q.Get("wtrealm"), q.Get("wreply"))
	if !ok {
		return
	}
	if len(q.Get("wctx")) > maxWctx {
		p.stop(w, http.StatusBadRequest, fmt.Sprintf("wctx is %d bytes long; at most %d are accepted.", len(q.Get("wctx")), maxWctx))
		return
	}
	p.showLogin(w, r, sealWSFed, PassivePath, app, pending{ClientID: app.ClientID, Answer: reply, Relay: q.Get("wctx")}, "")
}

// signOut answers wsignout1.0. keyroll keeps no sign-in session, so there
// is nothing to end: it says so, or returns to a registered wreply.
func (p *Provider) signOut(w http.ResponseWriter, r *http.Request, q url.Values) {
	if reply := q.Get("wreply"); reply != "" {
		if realm := q.Get("wtrealm"); realm != "" {
			if _, to, ok := p.relyingParty(w, r, realm, reply); ok {
				http.Redirect(w, r, to, http.StatusSeeOther)
			}
			return
		}
		p.stop(w, http.StatusBadRequest, "wreply without wtrealm: keyroll returns only to a reply address registered for the named realm.")
		return
	}
	signedOut(w)
}

// answerWSFed posts a RequestSecurityTokenResponse holding a signed SAML
// 2.0 (or, per application, SAML 1.1) assertion to the reply address.
func (p *Provider) answerWSFed(w http.ResponseWriter, r *http.Request, app store.Application, pend pending, u store.User) {
	sk, err := p.keys.SignerFor(r.Context(), app, app.TokenLifetime)
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	now := p.keys.Now().Truncate(time.Second)
	a, err := p.assertion(r, app, pend, u, sk, now)
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	s := saml.Signer{Key: sk.Signer, Cert: sk.Cert}
	build, tokenType := saml.BuildAssertion20, saml.TokenTypeSAML20
	if app.Fed.TokenType == "saml11" {
		build, tokenType = saml.BuildAssertion11, saml.TokenTypeSAML11
	}
	token, err := build(*a, s)
	if err == nil {
		token, err = saml.BuildWSFedResponse(token, tokenType, app.Audience, now, sk.Expiry)
	}
	if err != nil {
		p.unavailable(w, app, err)
		return
	}
	p.keys.Issued("wsfed", app)
	p.log.Info("user signed in", "protocol", "wsfed", "user", u.Username, "app", app.Name, "key", sk.Key.Thumbprint)
	postPage(w, pend.Answer, url.Values{"wa": {"wsignin1.0"}, "wresult": {string(token)}, "wctx": optional(pend.Relay)})
}
