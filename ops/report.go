package ops

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyroll/keyroll/ops/internal/atomicfile"
)

// KeyJSON is the --json form of a key: snake_case, RFC 3339 dates, null
// where a key without a certificate has no value.
type KeyJSON struct {
	KID           string     `json:"kid"`
	Thumbprint    *string    `json:"thumbprint"`
	SHA256        *string    `json:"sha256"`
	JWKThumbprint string     `json:"jwk_thumbprint"`
	Alg           string     `json:"alg"`
	Kty           string     `json:"kty"`
	Subject       *string    `json:"subject"`
	NotBefore     *time.Time `json:"not_before"`
	NotAfter      *time.Time `json:"not_after"`
	Source        string     `json:"source"`
	Sources       []string   `json:"sources"`
	Location      string     `json:"location"`
	// Expired: the certificate's NotAfter has passed (set by the caller,
	// which knows the time).
	Expired bool `json:"expired"`
}

// JSON returns k's --json form; location is the document it came from.
func (k Key) JSON(location string) KeyJSON {
	j := KeyJSON{KID: k.KID, JWKThumbprint: k.JWKThumbprint, Alg: k.Alg, Kty: k.Kty, Source: k.Source(), Sources: k.Sources, Location: location}
	if k.HasCert() {
		nb, na := k.NotBefore, k.NotAfter
		j.Thumbprint, j.SHA256, j.Subject = &k.Thumbprint, &k.SHA256, &k.Subject
		j.NotBefore, j.NotAfter = &nb, &na
	}
	return j
}

// Date prints t as YYYY-MM-DD (UTC), or "-" for the zero time.
func Date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

// WriteHeader prints where p came from, its issuer and its signature.
func WriteHeader(w io.Writer, p *Published) {
	fmt.Fprintf(w, "Source:    %s (%s)\n", p.Location, p.Kind)
	if p.Discovery != "" {
		fmt.Fprintf(w, "Via:       %s\n", p.Discovery)
	}
	if p.Issuer != "" {
		fmt.Fprintf(w, "Issuer:    %s\n", p.Issuer)
	}
	if p.Kind == KindMetadata {
		fmt.Fprintf(w, "Signature: %s\n", p.Signature)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "Skipped:   %v\n", s)
	}
}

// WriteKeysTable prints keys as a table (certificates expired at now
// marked EXPIRED, with a warning), then a note for keys without a
// certificate.
func WriteKeysTable(w io.Writer, keys []Key, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tTHUMBPRINT (SHA-1)\tSHA-256\tALG\tSUBJECT\tNOT BEFORE\tNOT AFTER\tSOURCE")
	var bare, expired []Key
	for _, k := range keys {
		tp, s256, subj := k.Thumbprint, k.SHA256, k.Subject
		if !k.HasCert() {
			tp, s256, subj = "-", "-", "(no certificate)"
			bare = append(bare, k)
		}
		notAfter := Date(k.NotAfter)
		if k.ExpiredAt(now) {
			notAfter += " EXPIRED"
			expired = append(expired, k)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, tp, s256, k.Alg, subj, Date(k.NotBefore), notAfter, k.Source())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(expired) > 0 {
		fmt.Fprintf(w, "\nWARNING: %d of %d published certificate(s) have expired (as of %s); relying parties that check certificate dates refuse tokens they sign:\n", len(expired), len(keys), Date(now))
		for _, k := range expired {
			fmt.Fprintf(w, "  kid %s (%s) expired %s\n", k.KID, k.Thumbprint, Date(k.NotAfter))
		}
	}
	if len(bare) > 0 {
		fmt.Fprintf(w, "\n%d key(s) are published without a certificate (no x5c), so they have no certificate thumbprint or dates.\nTheir RFC 7638 JWK thumbprints:\n", len(bare))
		for _, k := range bare {
			fmt.Fprintf(w, "  kid %s: %s\n", k.KID, k.JWKThumbprint)
		}
	}
	return nil
}

// BundleName is the PEM bundle Download writes.
const BundleName = "signing-certs.pem"

// Download writes each certificate into dir as THUMBPRINT.cer, holding what
// Microsoft's manual rollover steps produce (the base64 of the X509Certificate element,
// no trailing whitespace), and all of them as a PEM bundle. It returns the
// files written. Keys without a certificate are left out.
func Download(dir string, keys []Key) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	var bundle strings.Builder
	for _, k := range keys {
		if !k.HasCert() {
			continue
		}
		name := filepath.Join(dir, k.Thumbprint+".cer")
		if err := atomicfile.Write(name, []byte(base64.StdEncoding.EncodeToString(k.Cert.Raw)), 0o644); err != nil {
			return files, err
		}
		files = append(files, name)
		bundle.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw}))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no key has a certificate to download")
	}
	name := filepath.Join(dir, BundleName)
	if err := atomicfile.Write(name, []byte(bundle.String()), 0o644); err != nil {
		return files, err
	}
	return append(files, name), nil
}
