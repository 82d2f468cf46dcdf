package fedmeta

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

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// Sign returns doc with an enveloped XML-DSig signature by key, whose
// certificate is cert, placed as the first child of the root as AD FS and
// Entra do. It uses exclusive C14N; RSA-SHA256 for RSA keys of 2048 bits or
// more (including keys otherwise used for PS256: metadata signatures are
// PKCS #1 v1.5), ECDSA-SHA256 for P-256 and ECDSA-SHA384 for P-384 keys, with
// the ECDSA signature value as r||s; the digest uses the same hash. Other key types, such as Ed25519, give
// ErrUnsupportedKey. doc must be an unsigned EntityDescriptor with an ID, as
// Build writes; the signed certificate is carried in KeyInfo.
func Sign(doc []byte, key crypto.Signer, cert *x509.Certificate) ([]byte, error) {
	hash, signer, err := signingKey(key, cert)
	if err != nil {
		return nil, err
	}
	tree, root, err := readDoc(doc)
	if err != nil {
		return nil, err
	}
	if id, _ := xmlsafe.Attr(root, "ID"); !ncName.MatchString(id) {
		return nil, fmt.Errorf("%w: EntityDescriptor needs an ID attribute for the signature to reference", ErrMalformed)
	}
	if len(xmlsafe.Children(root, NSDSig, "Signature")) > 0 {
		return nil, fmt.Errorf("%w: document is already signed", ErrMalformed)
	}
	ctx, err := dsig.NewSigningContext(signer, [][]byte{cert.Raw})
	if err != nil {
		return nil, err
	}
	ctx.Hash = hash
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.Prefix = "ds"
	ctx.IdAttribute = "ID"
	// goxmldsig canonicalizes the element it is given in place, which would
	// drop namespace declarations only used in QName values (xsi:type="fed:...").
	// Sign a copy; the enveloped transform makes the digest the same.
	sig, err := ctx.ConstructSignature(root.Copy(), true)
	if err != nil {
		return nil, fmt.Errorf("fedmeta: signing: %w", err)
	}
	root.InsertChildAt(0, sig)
	return writeDoc(tree)
}

// signingKey checks key against cert and picks the digest; ECDSA keys are
// wrapped so their signatures come out as r||s.
func signingKey(key crypto.Signer, cert *x509.Certificate) (crypto.Hash, crypto.Signer, error) {
	if key == nil || cert == nil {
		return 0, nil, errors.New("fedmeta: Sign needs a key and its certificate")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return 0, nil, errors.New("fedmeta: key does not match the certificate's public key")
	}
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return 0, nil, fmt.Errorf("%w: RSA key of %d bits (want at least 2048)", ErrUnsupportedKey, k.N.BitLen())
		}
		return crypto.SHA256, key, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return crypto.SHA256, rawECDSASigner{key, 32}, nil
		case elliptic.P384():
			return crypto.SHA384, rawECDSASigner{key, 48}, nil
		}
		return 0, nil, fmt.Errorf("%w: ECDSA curve %s (want P-256 or P-384)", ErrUnsupportedKey, k.Curve.Params().Name)
	}
	return 0, nil, fmt.Errorf("%w: %T (want RSA or ECDSA P-256/P-384)", ErrUnsupportedKey, key.Public())
}

// rawECDSASigner turns the ASN.1 DER signatures of a crypto.Signer into the
// fixed-width r||s form XML-DSig uses for ECDSA.
type rawECDSASigner struct {
	crypto.Signer
	size int // bytes per integer
}

func (s rawECDSASigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	der, err := s.Signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 {
		return nil, errors.New("fedmeta: ECDSA signer returned a malformed signature")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > 8*s.size || rs.S.BitLen() > 8*s.size {
		return nil, errors.New("fedmeta: ECDSA signer returned an out-of-range signature")
	}
	out := make([]byte, 2*s.size)
	rs.R.FillBytes(out[:s.size])
	rs.S.FillBytes(out[s.size:])
	return out, nil
}

// derECDSA converts an r||s signature value to ASN.1 DER for crypto/x509.
func derECDSA(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("ECDSA SignatureValue has %d bytes, want r||s of even length", len(raw))
	}
	n := len(raw) / 2
	r := new(big.Int).SetBytes(raw[:n])
	s := new(big.Int).SetBytes(raw[n:])
	return asn1.Marshal(struct{ R, S *big.Int }{r, s})
}
