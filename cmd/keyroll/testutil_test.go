package main

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/keyroll/keyroll/issuer"
)

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("x5c is not base64: %v", err)
	}
	return b
}

// mustCert returns the DER certificate the JWKS publishes for kid.
func mustCert(t *testing.T, base, kid string) []byte {
	t.Helper()
	var set struct {
		Keys []struct {
			Kid string   `json:"kid"`
			X5c []string `json:"x5c"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(get(t, base+issuer.JWKSPath), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			return mustB64(t, k.X5c[0])
		}
	}
	t.Fatalf("kid %s not in the JWKS", kid)
	return nil
}

// fireNow is an env.after that fires at once: CLI tests never wait for a
// drill's refresh wait.
func fireNow(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	c <- time.Now()
	return c
}
