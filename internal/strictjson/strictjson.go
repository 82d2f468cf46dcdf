// Package strictjson decodes JSON request bodies strictly: one value and
// nothing after it, no member twice in any object (also not under the
// case folding encoding/json applies when it matches field names), no
// member the target does not know, valid UTF-8 only. encoding/json alone
// takes the last of duplicate members, ignores unknown ones unless told,
// and accepts trailing data after the first value with Decoder.
//
// It walks encoding/json's own tokenizer: admin request bodies are decoded
// into structs by encoding/json anyway, so its grammar is the one that
// matters, and this path is not hot. The token parsers (jws headers,
// verify claims) share the zero-allocation scanner in internal/jsonscan.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Errors of Decode; syntax and type errors come from encoding/json.
var (
	ErrDuplicate = errors.New("a member appears twice")
	ErrTrailing  = errors.New("data after the JSON value")
	ErrUTF8      = errors.New("not valid UTF-8")
)

// Decode decodes data into v strictly (see the package doc).
func Decode(data []byte, v any) error {
	if !utf8.Valid(data) {
		return ErrUTF8
	}
	if err := checkMembers(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailing
	}
	return nil
}

// fold is the key two member names collide under in encoding/json.
func fold(s string) string { return strings.ToLower(strings.ToUpper(s)) }

// checkMembers walks every token and refuses duplicate members.
func checkMembers(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		seen   map[string]bool
		key    bool // next token in this object is a member name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			name, _ := tok.(string)
			if top.seen[fold(name)] {
				return fmt.Errorf("%w: %q", ErrDuplicate, clip(name))
			}
			top.seen[fold(name)] = true
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true // after this value, a name or '}'
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, seen: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'), json.Delim('}'):
			stack = stack[:len(stack)-1]
		}
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
