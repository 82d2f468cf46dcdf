package samlidp

// pending is a sign-in request carried through the sign-in page, sealed by
// issuer/signin (bound to the browser's cookie, for at most
// signin.FormLifetime).
type pending struct {
	ClientID     string `json:"c"`
	Answer       string `json:"a"`           // the ACS or reply URL the answer is posted to
	RequestID    string `json:"i,omitempty"` // InResponseTo; "" for IdP-initiated and WS-Fed
	Relay        string `json:"r,omitempty"` // RelayState or wctx, returned as sent
	NameIDFormat string `json:"f,omitempty"` // what the request asked for; "" takes the app's
}

// Names of the sealed requests: a SAML handle cannot be replayed at the
// WS-Federation endpoint or the OIDC one, and the other way round.
const (
	sealSAML  = "saml"
	sealWSFed = "wsfed"
)
