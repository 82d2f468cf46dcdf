package main

import (
	"strings"

	"github.com/keyroll/keyroll/ops"
)

// metadataSignerUsage is the help of every --metadata-signer flag.
const metadataSignerUsage = "pin the metadata signer: SHA-1/SHA-256 `THUMBPRINT` of a certificate the metadata publishes, " +
	"or CERTFILE (PEM, DER or .cer); repeatable. Metadata that is unsigned or signed by any other key is refused"

// metadataPin turns --metadata-signer values into a pin (zero for none).
func metadataPin(specs []string) (ops.Pin, error) {
	var pin ops.Pin
	for _, s := range specs {
		if err := ops.AddPinSpec(&pin, s, ops.ReadFile); err != nil {
			return ops.Pin{}, err
		}
	}
	return pin, nil
}

// untrustedSource says why nothing vouches for src's keys when no signer
// is pinned: "" for https sources (trust rests on TLS), else the reason.
func untrustedSource(src ops.Source, pin ops.Pin) string {
	switch {
	case !pin.IsZero(), src.Tenant != "", src.ADFS != "":
		return ""
	case hasPrefixFold(src.Location, "https://"):
		return ""
	case hasPrefixFold(src.Location, "http://"):
		return src.Location + " is plain http and no metadata signer is pinned"
	}
	return src.Location + " is a local file and no metadata signer is pinned"
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// metadataTrustHelp is the paragraph every command reading federation
// metadata puts in its help.
const metadataTrustHelp = `Metadata trust: the signature of federation metadata is checked against
the certificates the document itself publishes unless --metadata-signer
pins the signer (a SHA-1/SHA-256 thumbprint, or a certificate file). Such a
self-check shows the document intact, not who wrote it: anyone can sign
metadata that lists their own certificate, so keyroll never calls it valid
and names the certificate that signed it. With a pin, metadata that is
unsigned or signed by any other key is refused (exit 1) and nothing of it
is used.
`
