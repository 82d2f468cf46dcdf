package strictjson

import (
	"errors"
	"testing"
)

type req struct {
	Key    string `json:"key"`
	Urgent bool   `json:"urgent"`
	Nested struct {
		A []int `json:"a"`
	} `json:"nested"`
}

func TestDecode(t *testing.T) {
	good := []string{`{"key":"x"}`, ` {"key":"x","urgent":true,"nested":{"a":[1,2]}} `, `{}`, `{"nested":{"a":[]}}`}
	for _, s := range good {
		var r req
		if err := Decode([]byte(s), &r); err != nil {
			t.Errorf("Decode(%s) = %v", s, err)
		}
	}
	bad := map[string]error{
		`{"key":"x","key":"y"}`:              ErrDuplicate,
		`{"key":"x","KEY":"y"}`:              ErrDuplicate,
		`{"key":"x","\u006bey":"y"}`:         ErrDuplicate,
		`{"nested":{"a":[1],"a":[2]}}`:       ErrDuplicate,
		`{"key":"x"} {"key":"y"}`:            ErrTrailing,
		`{"key":"x"}]`:                       nil,
		`{"key":"x","other":1}`:              nil,
		"{\"key\":\"\xff\"}":                 ErrUTF8,
		`{"key":"x",}`:                       nil,
		`{"urgent":true,"nested":{}}garbage`: nil,
	}
	for s, want := range bad {
		var r req
		err := Decode([]byte(s), &r)
		if err == nil || (want != nil && !errors.Is(err, want)) {
			t.Errorf("Decode(%s) = %v, want %v", s, err, want)
		}
	}
	// Members of different objects may share a name.
	var r req
	if err := Decode([]byte(`{"key":"x","nested":{"a":[1]}}`), &r); err != nil {
		t.Error(err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"key":"x"}`, `{"key":"x","key":"y"}`, `{"nested":{"a":[1,2]}}`, `[]`, `{"a":{"b":{"c":[{}]}}}`, `{"key":"x"} 1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r req
		if Decode(data, &r) != nil {
			return
		}
		var m map[string]any
		if err := Decode(data, &m); err != nil {
			t.Fatalf("accepted into a struct but not into a map: %v", err)
		}
	})
}
