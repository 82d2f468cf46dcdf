package verify

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// DefaultSAMLSignatureMethods are the XML-DSig signature methods accepted
// unless [SAMLConfig.SignatureMethods] says otherwise: RSA with SHA-256,
// SHA-384 or SHA-512. SHA-1 is refused.
func DefaultSAMLSignatureMethods() []string {
	return []string{dsig.RSASHA256SignatureMethod, dsig.RSASHA384SignatureMethod, dsig.RSASHA512SignatureMethod}
}

// samlDigests and samlTransforms are the digest and transform algorithms accepted.
var (
	samlDigests = []string{
		"http://www.w3.org/2001/04/xmlenc#sha256",
		"http://www.w3.org/2001/04/xmldsig-more#sha384",
		"http://www.w3.org/2001/04/xmlenc#sha512",
	}
	samlTransforms = []string{
		string(dsig.EnvelopedSignatureAltorithmId),
		string(dsig.CanonicalXML10ExclusiveAlgorithmId),
	}
)

// signatureOf checks the shape of el's enveloped signature before any
// cryptography: one ds:Signature child, one Reference whose URI is "#" and
// el's own ID, allow-listed algorithms. It returns the KeyInfo certificate,
// if any (only a hint of which key to use: it must be in the key set).
func (v *SAMLVerifier) signatureOf(el *etree.Element) (*x509.Certificate, error) {
	sig, err := child(el, nsDSig, "Signature")
	if err != nil {
		return nil, err
	}
	if sig == nil {
		return nil, ErrSAMLUnsigned
	}
	id := attr(el, "ID")
	si, err := child(sig, nsDSig, "SignedInfo")
	if err != nil || si == nil || id == "" {
		return nil, fmt.Errorf("%w: missing SignedInfo or ID", ErrSAMLReference)
	}
	refs := children(si, nsDSig, "Reference")
	if len(refs) != 1 || attr(refs[0], "URI") != "#"+id {
		return nil, fmt.Errorf("%w: want one Reference to #%s", ErrSAMLReference, clip(id))
	}
	if err := v.algorithms(si, refs[0]); err != nil {
		return nil, err
	}
	return keyInfoCert(sig)
}

// algorithms checks every algorithm the signature names.
func (v *SAMLVerifier) algorithms(si, ref *etree.Element) error {
	alg := func(parent *etree.Element, tag string, allowed []string) error {
		el, err := child(parent, nsDSig, tag)
		if err != nil {
			return err
		}
		if el == nil || !slices.Contains(allowed, attr(el, "Algorithm")) {
			a := ""
			if el != nil {
				a = attr(el, "Algorithm")
			}
			return fmt.Errorf("%w: %s %s", ErrSAMLAlgorithm, tag, clip(a))
		}
		return nil
	}
	c14n := []string{string(dsig.CanonicalXML10ExclusiveAlgorithmId)}
	if err := errorsFirst(alg(si, "CanonicalizationMethod", c14n), alg(si, "SignatureMethod", v.methods),
		alg(ref, "DigestMethod", samlDigests)); err != nil {
		return err
	}
	if ts, err := child(ref, nsDSig, "Transforms"); err != nil {
		return err
	} else if ts != nil {
		for _, t := range ts.ChildElements() {
			if t.Tag != "Transform" || !slices.Contains(samlTransforms, attr(t, "Algorithm")) {
				return fmt.Errorf("%w: transform %s", ErrSAMLAlgorithm, clip(attr(t, "Algorithm")))
			}
		}
	}
	return nil
}

func errorsFirst(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// keyInfoCert reads the first X509Certificate of the signature's KeyInfo.
func keyInfoCert(sig *etree.Element) (*x509.Certificate, error) {
	ki, err := child(sig, nsDSig, "KeyInfo")
	if err != nil || ki == nil {
		return nil, err
	}
	data, _ := child(ki, nsDSig, "X509Data")
	if data == nil {
		return nil, nil
	}
	c, _ := child(data, nsDSig, "X509Certificate")
	if c == nil {
		return nil, nil
	}
	b64, err := text(c)
	if err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: KeyInfo certificate: %v", ErrSAMLMalformed, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: KeyInfo certificate: %v", ErrSAMLMalformed, err)
	}
	return cert, nil
}

// samlCerts returns the usable certificates of ks that could have signed:
// the one KeyInfo names, or all when it names none.
func samlCerts(ks *KeySet, named *x509.Certificate, limit int) []*x509.Certificate {
	var out []*x509.Certificate
	for i := range ks.entries {
		e := &ks.entries[i]
		if e.unusable != nil || e.fam != famRSA || len(e.key.Certs) == 0 {
			continue
		}
		c := e.key.Certs[0]
		if named != nil && !named.Equal(c) {
			continue
		}
		out = append(out, c)
		if len(out) == limit {
			break
		}
	}
	return out
}

// validated checks el's signature against the key set (refreshing once,
// throttled like JWTs, when the signing certificate is unknown) and
// returns the subtree the signature covers, as goxmldsig hands it back:
// the only thing read afterwards.
func (v *SAMLVerifier) validated(ctx context.Context, el *etree.Element, now time.Time) (*etree.Element, *x509.Certificate, error) {
	named, err := v.signatureOf(el)
	if err != nil {
		return nil, nil, err
	}
	ks, fresh, err := v.cache.keys(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	certs := samlCerts(ks, named, DefaultMaxKeyTries)
	var out missOutcome
	for range maxMissRefreshes {
		if len(certs) > 0 || fresh {
			break
		}
		out = v.cache.refreshOnMiss(ctx, ks, now)
		if out.ks != nil && out.ks != ks {
			ks = out.ks
			certs = samlCerts(ks, named, DefaultMaxKeyTries)
		}
		if out.final {
			break
		}
	}
	if len(certs) == 0 {
		what := "an unnamed signing certificate"
		if named != nil {
			sum := sha1.Sum(named.Raw)
			what = "certificate x5t " + clip(base64.RawURLEncoding.EncodeToString(sum[:]))
		}
		return nil, nil, (&missError{key: what}).explain(out, ks)
	}
	nsctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSAMLMalformed, err)
	}
	detached, err := etreeutils.NSDetatch(nsctx, el) // with the namespaces its ancestors declare
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSAMLMalformed, err)
	}
	var firstErr error
	for _, c := range certs {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		vc.Clock = dsig.NewFakeClockAt(now)
		got, err := vc.Validate(detached)
		if err == nil {
			return got, c, nil
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
	}
	return nil, nil, firstErr
}
