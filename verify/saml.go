package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/keyroll/keyroll/clock"
)

// SAMLConfig configures a [SAMLVerifier]. Issuer and Audience are required.
type SAMLConfig struct {
	// Issuer is the identity provider's entity ID: the assertion's Issuer
	// must be exactly this.
	Issuer string
	// Audience lists this service's accepted entity IDs; every
	// AudienceRestriction of the assertion must name one of them.
	Audience []string
	// Recipient is this service's assertion consumer URL. When set, the
	// bearer SubjectConfirmationData Recipient and the Response
	// Destination (if present) must equal it.
	Recipient string
	// Skew is the clock skew allowed on every time (default DefaultSkew).
	Skew time.Duration
	// SignatureMethods replaces the signature allow-list
	// ([DefaultSAMLSignatureMethods]).
	SignatureMethods []string
	// ReplayCacheSize bounds the assertion IDs remembered against replay
	// (default DefaultSAMLReplayCacheSize); negative disables the check.
	ReplayCacheSize int
	// Clock overrides the cache's clock.
	Clock clock.Clock
}

// DefaultSAMLReplayCacheSize is how many accepted assertion IDs a
// [SAMLVerifier] remembers, each until its validity ends.
const DefaultSAMLReplayCacheSize = 100000

// SAMLVerifier validates SAML 2.0 responses and WS-Federation tokens
// carrying a SAML 2.0 assertion, with the signing certificates of a
// [Cache] (normally of [FederationMetadata]), refreshed on an unknown
// certificate exactly like JWT keys. It is strict against signature
// wrapping: the document must hold exactly one assertion and no duplicate
// ID, where the protocol puts it; the signature must be enveloped in the
// assertion (or the Response) and reference exactly it; and everything is
// read from the subtree the verified signature covers, as the XML-DSig
// validator returns it, never from the document received. It is safe for
// concurrent use.
type SAMLVerifier struct {
	cfg     SAMLConfig
	methods []string
	cache   *Cache
	clk     clock.Clock
	replay  *replayCache
}

// NewSAML returns a SAML verifier using c's keys.
func NewSAML(c *Cache, cfg SAMLConfig) (*SAMLVerifier, error) {
	switch {
	case c == nil:
		return nil, errors.New("verify: nil cache")
	case cfg.Issuer == "":
		return nil, errors.New("verify: SAML issuer is required")
	case len(cfg.Audience) == 0 || slices.Contains(cfg.Audience, ""):
		return nil, errors.New("verify: a SAML audience is required")
	case cfg.Skew < 0:
		return nil, errors.New("verify: skew must not be negative")
	}
	v := &SAMLVerifier{cfg: cfg, cache: c, clk: cfg.Clock, methods: cfg.SignatureMethods}
	if cfg.Skew == 0 {
		v.cfg.Skew = DefaultSkew
	}
	if v.clk == nil {
		v.clk = c.clk
	}
	if len(v.methods) == 0 {
		v.methods = DefaultSAMLSignatureMethods()
	}
	if n := cfg.ReplayCacheSize; n >= 0 {
		if n == 0 {
			n = DefaultSAMLReplayCacheSize
		}
		v.replay = newReplayCache(n)
	}
	return v, nil
}

// Assertion is what a verified SAML assertion says.
type Assertion struct {
	ID            string
	Issuer        string
	IssueInstant  time.Time
	Subject       string // NameID
	SubjectFormat string // NameID Format
	NotBefore     time.Time
	NotOnOrAfter  time.Time
	Audiences     []string
	SessionIndex  string
	Attributes    map[string][]string
	// SigningKey is the x5t (base64url SHA-1) of the certificate that
	// verified the signature.
	SigningKey string
}

// VerifyResponse validates a SAML 2.0 Response (XML, already
// base64-decoded; data must not change until it returns, and is not
// retained). inResponseTo is the ID of the AuthnRequest this
// service sent, or "" to accept only an unsolicited response.
func (v *SAMLVerifier) VerifyResponse(ctx context.Context, data []byte, inResponseTo string) (*Assertion, error) {
	return v.verify(ctx, data, kindResponse, inResponseTo)
}

// VerifyWSFed validates a WS-Federation sign-in response: the wresult
// (a WS-Trust RequestSecurityTokenResponse, or a collection of one)
// carrying a signed SAML 2.0 assertion. SAML 1.1 tokens are refused with
// [ErrSAMLUnsupported]. wresult must not change until it returns, and is
// not retained.
func (v *SAMLVerifier) VerifyWSFed(ctx context.Context, wresult []byte) (*Assertion, error) {
	return v.verify(ctx, wresult, kindWSFed, "")
}

func (v *SAMLVerifier) verify(ctx context.Context, data []byte, kind samlKind, inResponseTo string) (*Assertion, error) {
	d, err := parseSAML(data)
	if err != nil {
		return nil, err
	}
	defer d.doc.release() // nothing returned holds a node, or a substring of data
	if d.kind != kind {
		return nil, fmt.Errorf("%w: got a %s, want a %s", ErrSAMLMalformed, kindName(d.kind), kindName(kind))
	}
	now := v.clk.Now()
	var sig samlSignature
	err = v.signatureOf(d.assertion, &sig)
	if errors.Is(err, ErrSAMLUnsigned) && kind == kindResponse {
		err = v.signatureOf(d.root, &sig) // a signed Response covers its assertion
	}
	if err != nil {
		return nil, err
	}
	key, err := v.validated(ctx, &sig, now)
	if err != nil {
		return nil, err
	}
	// Read only inside what was verified: the signed element, in the tree
	// its canonical form was computed from (its Signature is not read).
	got := sig.el
	if got == d.root {
		as := children(got, nsSAML, "Assertion")
		if len(as) != 1 {
			return nil, fmt.Errorf("%w: found %d in the signed response", ErrSAMLAssertionCount, len(as))
		}
		if err := v.checkResponse(got, inResponseTo); err != nil {
			return nil, err
		}
		got = as[0]
	} else if kind == kindResponse {
		if err := v.checkResponse(d.root, inResponseTo); err != nil {
			return nil, err
		}
	}
	a, err := v.readAssertion(got, now, inResponseTo, kind)
	if err != nil {
		return nil, err
	}
	a.SigningKey = key.x5t
	if v.replay != nil && !v.replay.add(a.Issuer+"\x00"+a.ID, a.NotOnOrAfter.Add(v.cfg.Skew), now) {
		return nil, fmt.Errorf("%w: %s", ErrSAMLReplay, clip(a.ID))
	}
	return a, nil
}

func kindName(k samlKind) string {
	if k == kindWSFed {
		return "WS-Federation RequestSecurityTokenResponse"
	}
	return "SAML Response"
}

// checkResponse checks the Response's own status, destination and
// InResponseTo. Unless the Response is signed these are unsigned, so they
// can only refuse, never make an assertion acceptable.
func (v *SAMLVerifier) checkResponse(r *xnode, inResponseTo string) error {
	st, _ := child(r, nsSAMLP, "Status")
	var code *xnode
	if st != nil {
		code, _ = child(st, nsSAMLP, "StatusCode")
	}
	if code == nil || attr(code, "Value") != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		val := ""
		if code != nil {
			val = attr(code, "Value")
		}
		return fmt.Errorf("%w: %s", ErrSAMLStatus, clip(val))
	}
	if dst := attr(r, "Destination"); dst != "" && v.cfg.Recipient != "" && dst != v.cfg.Recipient {
		return fmt.Errorf("%w: Destination %s", ErrSAMLRecipient, clip(dst))
	}
	if irt := attr(r, "InResponseTo"); irt != inResponseTo {
		return fmt.Errorf("%w: response answers %s, expected %s", ErrSAMLInResponseTo, clip(irt), clip(inResponseTo))
	}
	return nil
}
