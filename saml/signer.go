package saml

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Signer is the key messages are signed with and its certificate, which is
// written into each signature's KeyInfo. RSA keys of 2048 bits or more sign
// with RSA-SHA256, ECDSA P-256 keys with ECDSA-SHA256.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
}

// context returns a goxmldsig signing context for s with exclusive C14N and
// the "ds" prefix; idAttr names the attribute the Reference points at.
func (s Signer) context(idAttr string) (*dsig.SigningContext, error) {
	if s.Key == nil || s.Cert == nil {
		return nil, fmt.Errorf("%w: Signer needs a key and its certificate", ErrUnsupportedKey)
	}
	pub, ok := s.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(s.Cert.PublicKey) {
		return nil, fmt.Errorf("%w: key does not match the certificate's public key", ErrUnsupportedKey)
	}
	var signer crypto.Signer
	switch k := s.Key.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("%w: RSA key of %d bits (want at least 2048)", ErrUnsupportedKey, k.N.BitLen())
		}
		signer = s.Key
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s (want P-256)", ErrUnsupportedKey, k.Curve.Params().Name)
		}
		signer = rawECDSASigner{s.Key}
	default:
		return nil, fmt.Errorf("%w: %T (want RSA or ECDSA P-256)", ErrUnsupportedKey, s.Key.Public())
	}
	ctx, err := dsig.NewSigningContext(signer, [][]byte{s.Cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	ctx.Hash = crypto.SHA256
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.Prefix = "ds"
	ctx.IdAttribute = idAttr
	return ctx, nil
}

// signEnveloped signs el (which must declare every namespace it uses and
// carry no signature yet) and inserts the enveloped signature as its child
// at index at.
func signEnveloped(ctx *dsig.SigningContext, el *etree.Element, at int) error {
	// goxmldsig canonicalises in place; sign a copy (the enveloped transform
	// makes the digest the same).
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		return fmt.Errorf("saml: signing: %w", err)
	}
	el.InsertChildAt(at, sig)
	return nil
}

// rawECDSASigner turns the ASN.1 DER signatures of a P-256 crypto.Signer into
// the fixed-width r||s form XML-DSig uses for ECDSA.
type rawECDSASigner struct{ crypto.Signer }

func (s rawECDSASigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	der, err := s.Signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 ||
		rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 256 || rs.S.BitLen() > 256 {
		return nil, errors.New("saml: ECDSA signer returned a malformed signature")
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}

// derECDSA converts an r||s signature value to ASN.1 DER.
func derECDSA(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("ECDSA signature of %d bytes, want r||s of even length", len(raw))
	}
	n := len(raw) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
}
