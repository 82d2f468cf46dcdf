package saml

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// Signer is the key messages are signed with and its certificate, which is
// written into each signature's KeyInfo. RSA keys of 2048 bits or more sign
// with RSA-SHA256, ECDSA P-256 keys with ECDSA-SHA256.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
}

// Algorithm identifiers written into signatures.
const (
	algExcC14N      = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnveloped    = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algSHA256       = "http://www.w3.org/2001/04/xmlenc#sha256"
	signaturePrefix = "ds"
)

// sigContext is a checked Signer ready to sign: the key (ECDSA wrapped to
// give r||s), the SignatureMethod, the certificate text and the name of the
// ID attribute References point at.
type sigContext struct {
	key    crypto.Signer
	method string
	cert   string
	idAttr string
}

// context checks s and returns what signing needs; idAttr names the
// attribute the Reference points at.
func (s Signer) context(idAttr string) (*sigContext, error) {
	if s.Key == nil || s.Cert == nil {
		return nil, fmt.Errorf("%w: Signer needs a key and its certificate", ErrUnsupportedKey)
	}
	pub, ok := s.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(s.Cert.PublicKey) {
		return nil, fmt.Errorf("%w: key does not match the certificate's public key", ErrUnsupportedKey)
	}
	ctx := &sigContext{cert: base64.StdEncoding.EncodeToString(s.Cert.Raw), idAttr: idAttr}
	switch k := s.Key.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("%w: RSA key of %d bits (want at least 2048)", ErrUnsupportedKey, k.N.BitLen())
		}
		ctx.key, ctx.method = s.Key, SigAlgRSASHA256
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s (want P-256)", ErrUnsupportedKey, k.Curve.Params().Name)
		}
		ctx.key, ctx.method = rawECDSASigner{s.Key}, SigAlgECDSASHA256
	default:
		return nil, fmt.Errorf("%w: %T (want RSA or ECDSA P-256)", ErrUnsupportedKey, s.Key.Public())
	}
	return ctx, nil
}

// signEnveloped signs el, which must carry no signature yet, and inserts the
// enveloped signature as its child at index at: exclusive C14N, SHA-256, one
// Reference to el's ID with the enveloped-signature and exclusive C14N
// transforms, and the certificate in KeyInfo/X509Data.
func signEnveloped(ctx *sigContext, el *etree.Element, at int) error {
	id, _ := xmlsafe.Attr(el, ctx.idAttr)
	if !isNCName(id) {
		return fmt.Errorf("%w: %s %q is not an xml NCName", ErrInvalid, ctx.idAttr, id)
	}
	var buf bytes.Buffer
	if err := canonicalize(&buf, el); err != nil {
		return err
	}
	digest := sha256.Sum256(buf.Bytes())

	sig := etree.NewElement(signaturePrefix + ":Signature")
	sig.CreateAttr("xmlns:"+signaturePrefix, NSDSig)
	si := dsChild(sig, "SignedInfo")
	dsChild(si, "CanonicalizationMethod").CreateAttr("Algorithm", algExcC14N)
	dsChild(si, "SignatureMethod").CreateAttr("Algorithm", ctx.method)
	ref := dsChild(si, "Reference")
	ref.CreateAttr("URI", "#"+id)
	transforms := dsChild(ref, "Transforms")
	dsChild(transforms, "Transform").CreateAttr("Algorithm", algEnveloped)
	dsChild(transforms, "Transform").CreateAttr("Algorithm", algExcC14N)
	dsChild(ref, "DigestMethod").CreateAttr("Algorithm", algSHA256)
	dsChild(ref, "DigestValue").SetText(base64.StdEncoding.EncodeToString(digest[:]))

	buf.Reset()
	if err := canonicalize(&buf, si); err != nil {
		return err
	}
	signed := sha256.Sum256(buf.Bytes())
	value, err := ctx.key.Sign(rand.Reader, signed[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("saml: signing: %w", err)
	}
	dsChild(sig, "SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
	dsChild(dsChild(dsChild(sig, "KeyInfo"), "X509Data"), "X509Certificate").SetText(ctx.cert)
	el.InsertChildAt(at, sig)
	return nil
}

func dsChild(parent *etree.Element, local string) *etree.Element {
	return parent.CreateElement(signaturePrefix + ":" + local)
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
