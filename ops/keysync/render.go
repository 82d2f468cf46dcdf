package keysync

import (
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/keyroll/keyroll/jwk"
	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/trust"
	"github.com/keyroll/keyroll/ops/webconfig"
)

// render returns the new content of the target and fills res; when the
// key set is unchanged res.Changed stays false.
func render(opt Options, keys []ops.Key, old []byte, exists bool, res *Result) ([]byte, error) {
	switch opt.Format {
	case PEM:
		return renderPEM(keys, old, exists, res)
	case JWKS:
		return renderJWKS(keys, old, exists, res)
	case WebConfig:
		return renderWebConfig(keys, old, exists, opt.Issuer, res)
	}
	return nil, fmt.Errorf("unknown format %q", opt.Format)
}

func ids(keys []ops.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.ID()
	}
	return out
}

func renderPEM(keys []ops.Key, old []byte, exists bool, res *Result) ([]byte, error) {
	var have []string
	if exists {
		anchors, err := trust.Read(old, res.Path)
		if err != nil || !isPEM(old) {
			return nil, fmt.Errorf("%s: %w (%v)", res.Path, ErrNotOurFormat, err)
		}
		for _, a := range anchors {
			have = append(have, a.SHA1)
		}
	}
	diff(res, have, ids(keys))
	var out []byte
	for _, k := range keys {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw})...)
	}
	return out, nil
}

func isPEM(data []byte) bool {
	b, _ := pem.Decode(data)
	return b != nil && b.Type == "CERTIFICATE"
}

func renderJWKS(keys []ops.Key, old []byte, exists bool, res *Result) ([]byte, error) {
	var have []string
	if exists {
		p, err := ops.Parse(old, res.Path)
		if err != nil || p.Kind != ops.KindJWKS {
			return nil, fmt.Errorf("%s: %w (%v)", res.Path, ErrNotOurFormat, err)
		}
		have = ids(p.Keys)
	}
	diff(res, have, ids(keys))
	set := jwk.Set{Keys: make([]jwk.Key, len(keys))}
	for i, k := range keys {
		set.Keys[i] = k.JWK
	}
	out, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func renderWebConfig(keys []ops.Key, old []byte, exists bool, issuer string, res *Result) ([]byte, error) {
	if !exists {
		return nil, fmt.Errorf("%s does not exist: sync updates the issuerNameRegistry of an existing Web.config", res.Path)
	}
	out, ch, err := webconfig.Replace(old, issuer, ids(keys))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", res.Path, err)
	}
	res.Added, res.Removed, res.Changed, res.Keys = ch.Added, ch.Removed, ch.Changed(), len(keys)
	return out, nil
}
