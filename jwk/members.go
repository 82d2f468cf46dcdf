package jwk

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// members is one JSON object, member name → raw value.
type members map[string]json.RawMessage

var errDuplicate = errors.New("duplicate member")

// readObject reads data, which must be exactly one JSON object, into its
// members. Names are compared after unescaping, so "al\u0067" repeats "alg".
func readObject(data []byte) (members, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	m := members{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name := tok.(string) // a member name; Token errors otherwise
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("%w %s", errDuplicate, quoteShort(name))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return m, nil
}

// str returns the string member name; "" if absent.
func (m members) str(name string) (string, error) {
	raw, ok := m[name]
	if !ok {
		return "", nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", errors.New("member " + strconv.Quote(name) + " is not a string")
	}
	return s, nil
}

// strings returns the string-array member name; nil if absent.
func (m members) strings(name string) ([]string, error) {
	raw, ok := m[name]
	if !ok {
		return nil, nil
	}
	var v []string
	if raw[0] != '[' || json.Unmarshal(raw, &v) != nil {
		return nil, errors.New("member " + strconv.Quote(name) + " is not an array of strings")
	}
	return v, nil
}

// bytes decodes the base64url member name; nil if absent.
func (m members) bytes(name string) ([]byte, error) {
	s, err := m.str(name)
	if err != nil || s == "" {
		return nil, err
	}
	b, err := decodeB64URL(s)
	if err != nil {
		return nil, errors.New("member " + strconv.Quote(name) + " is not unpadded base64url")
	}
	return b, nil
}

var b64url = base64.RawURLEncoding.Strict()

// decodeB64URL decodes canonical unpadded base64url. The standard decoder
// skips line breaks; they are refused here.
func decodeB64URL(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line break in base64url")
	}
	return b64url.DecodeString(s)
}
