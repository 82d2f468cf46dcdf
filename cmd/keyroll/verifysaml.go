package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keyroll/keyroll/verify"
)

// runSAML is "keyroll verify --saml": it verifies a SAML 2.0 Response or a
// WS-Federation wresult against the metadata's certificates.
func (f *verifyFlags) runSAML(ctx context.Context, e *env, c *command, arg string) int {
	data, err := readSAML(e, arg)
	if err != nil {
		return opsFail(e, c, err)
	}
	cache, err := verify.NewCache(f.source(), verify.WithFetchTimeout(f.timeout))
	if err != nil {
		return opsFail(e, c, err)
	}
	if err := cache.Refresh(ctx); err != nil {
		return opsFail(e, c, fmt.Errorf("cannot get the keys: %w", err))
	}
	iss := f.issClaim
	if iss == "" {
		iss = cache.KeySet().Issuer()
	}
	v, err := verify.NewSAML(cache, verify.SAMLConfig{Issuer: iss, Audience: f.audiences, Recipient: f.recipient})
	if err != nil {
		return opsUsageError(e, c, err)
	}
	var a *verify.Assertion
	if bytes.Contains(data, []byte("RequestSecurityTokenResponse")) {
		a, err = v.VerifyWSFed(ctx, data)
	} else {
		a, err = v.VerifyResponse(ctx, data, f.inResponseTo)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "keyroll verify: SAML rejected: %v\n", err)
		return exitFail
	}
	if err := writeJSONOut(e.stdout, a); err != nil {
		return opsFail(e, c, err)
	}
	return exitOK
}

// readSAML reads the response from a file or standard input ("-"), as XML
// or base64 (what an HTML form posts), bounded by verify.MaxSAMLSize.
func readSAML(e *env, arg string) ([]byte, error) {
	var r io.Reader = e.stdin
	if arg != "-" {
		f, err := os.Open(arg)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, 2*verify.MaxSAMLSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 2*verify.MaxSAMLSize {
		return nil, fmt.Errorf("more than %d bytes: not a SAML response", 2*verify.MaxSAMLSize)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("the SAML response is empty")
	}
	if data[0] != '<' {
		dec, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(data), nil)))
		if err != nil {
			return nil, fmt.Errorf("neither XML nor base64: %v", err)
		}
		data = dec
	}
	return data, nil
}
