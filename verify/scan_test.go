package verify

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

func TestScanClaims(t *testing.T) {
	c := new(Claims)
	in := ` { "iss" : "https:\/\/sts.example\/t\u00e9", "x":{"a":[1,2,{"b":null}],"c":"\"}"},
		"aud":["a","b","c"], "exp":1.5e9, "nbf":1500000000.25, "iat":0, "sub":"s", "jti":"j", "tid":"t",
		"big": -12.5E-3, "t": true, "f": false } `
	if err := scanClaims(in, c); err != nil {
		t.Fatal(err)
	}
	want := Claims{Issuer: "https://sts.example/té", Subject: "s", Audience: []string{"a", "b", "c"},
		Expiry: time.Unix(1.5e9, 0), NotBefore: time.Unix(1500000000, 250000000), IssuedAt: time.Unix(0, 0),
		ID: "j", TenantID: "t"}
	if c.Issuer != want.Issuer || c.Subject != want.Subject || !reflect.DeepEqual(c.Audience, want.Audience) ||
		!c.Expiry.Equal(want.Expiry) || !c.NotBefore.Equal(want.NotBefore) || !c.IssuedAt.Equal(want.IssuedAt) ||
		c.ID != want.ID || c.TenantID != want.TenantID {
		t.Fatalf("got %+v", c)
	}
}

func TestScanClaimsRejects(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `"x"`, `{`, `{"iss":"a"`, `{"iss":"a",}`, `{"iss":"a"} x`, `{"iss":"a""sub":"b"}`,
		`{"iss":1}`, `{"iss":null}`, `{"aud":1}`, `{"aud":["a",1]}`, `{"aud":["a"`, `{"exp":"1"}`, `{"exp":-1}`,
		`{"exp":1e300}`, `{"exp":01}`, `{"exp":1.}`, `{"exp":.5}`, `{"iss":"a","iss":"a"}`, `{"Exp":1}`,
		`{"ſub":"x"}`, `{"x":tru}`, `{"x":"\q"}`, `{"x":"\u12"}`, "{\"x\":\"a\x01\"}", `{"x":[1,]}`,
		`{"x":{"a" 1}}`, "{\"iss\":\"\xff\"}", `{"x":1 "y":2}`,
	} {
		if err := scanClaims(in, new(Claims)); !errors.Is(err, ErrMalformedClaims) {
			t.Errorf("%q: err = %v, want ErrMalformedClaims", in, err)
		}
	}
	deep := ""
	for range 100 {
		deep += "["
	}
	if err := scanClaims(`{"x":`+deep, new(Claims)); !errors.Is(err, ErrMalformedClaims) {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestScanClaimsAllocations(t *testing.T) {
	in := `{"iss":"https://issuer.example","sub":"alice","aud":["api","other"],"exp":1893499200,"nbf":1893495600,"iat":1893495600,"jti":"x","roles":["a","b"],"nested":{"k":[1,2,3]}}`
	c := new(Claims)
	allocs := testing.AllocsPerRun(100, func() {
		*c = Claims{}
		if err := scanClaims(in, c); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("scanClaims allocates %.0f times on a plain payload, want 0", allocs)
	}
}

// FuzzScanClaims: the scanner never panics, and whenever it accepts
// input, encoding/json accepts it too and reads the same claims.
func FuzzScanClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"a","aud":["x","y"],"exp":1700000000,"nbf":1.5,"iat":0,"sub":"s","jti":"j","tid":"t"}`,
		`{"iss":"https:\/\/a\ud83d\ude00","aud":"x","exp":17e8,"other":{"a":[null,true,false,-1.5e-3,"\u0000"]}}`,
		`{"iss":"a","iss":"b"}`, `{"ISS":"x"}`, `{"aud":[]}`, `{}`, `{"x":"\ud800"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c := new(Claims)
		if scanClaims(in, c) != nil {
			return
		}
		if !json.Valid([]byte(in)) {
			t.Fatalf("scanner accepted invalid JSON %q", in)
		}
		var ref struct {
			Iss *string  `json:"iss"`
			Sub *string  `json:"sub"`
			Aud any      `json:"aud"`
			Exp *float64 `json:"exp"`
			Jti *string  `json:"jti"`
			Tid *string  `json:"tid"`
			Nbf *float64 `json:"nbf"`
			Iat *float64 `json:"iat"`
		}
		if err := json.Unmarshal([]byte(in), &ref); err != nil {
			t.Fatalf("encoding/json refuses what the scanner accepted: %q: %v", in, err)
		}
		str := func(p *string, got string, name string) {
			if p != nil && *p != got && utf8.ValidString(*p) {
				t.Fatalf("%s: scanner %q, encoding/json %q", name, got, *p)
			}
		}
		str(ref.Iss, c.Issuer, "iss")
		str(ref.Sub, c.Subject, "sub")
		str(ref.Jti, c.ID, "jti")
		str(ref.Tid, c.TenantID, "tid")
		secs := float64(c.Expiry.Unix()) + float64(c.Expiry.Nanosecond())/1e9
		if ref.Exp != nil && math.Abs(secs-*ref.Exp) > 1e-3 {
			t.Fatalf("exp: scanner %v, encoding/json %v", c.Expiry, *ref.Exp)
		}
		switch a := ref.Aud.(type) {
		case string:
			if len(c.Audience) != 1 || c.Audience[0] != a {
				t.Fatalf("aud: scanner %q, encoding/json %q", c.Audience, a)
			}
		case []any:
			if len(c.Audience) != len(a) {
				t.Fatalf("aud: scanner %q, encoding/json %q", c.Audience, a)
			}
		}
	})
}
