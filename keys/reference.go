package keys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/keyroll/keyroll/internal/strictjson"
)

// Reference is what the store keeps, in place of a sealed private key, for
// a key that lives in an HSM: which token holds it and how to find it
// there. It holds nothing secret.
type Reference struct {
	Backend string `json:"backend"` // "pkcs11"
	Token   string `json:"token"`   // token label
	ID      string `json:"id"`      // CKA_ID of the private and public objects, hex
	Label   string `json:"label"`   // CKA_LABEL: the kid
	KID     string `json:"kid"`     // the key this reference belongs to
}

// referencePrefix starts every stored reference; its version names the
// JSON shape that follows. Sealed keys start with a random 12-byte nonce,
// so the two cannot be confused (2^-96).
const (
	referencePrefix = "keyroll key reference/"
	referenceV1     = referencePrefix + "v1\n"
)

// ErrBadReference means a stored reference does not decode.
var ErrBadReference = errors.New("stored key reference does not decode")

// IsReference reports whether a stored private-key record is a Reference
// (of any version) rather than a sealed key.
func IsReference(stored []byte) bool { return bytes.HasPrefix(stored, []byte(referencePrefix)) }

// Marshal encodes r as a versioned reference record.
func (r Reference) Marshal() []byte {
	body, _ := json.Marshal(r) // strings only: cannot fail
	return append([]byte(referenceV1), body...)
}

// ParseReference decodes what Reference.Marshal produced.
func ParseReference(stored []byte) (Reference, error) {
	body, ok := bytes.CutPrefix(stored, []byte(referenceV1))
	if !ok {
		if IsReference(stored) {
			line, _, _ := bytes.Cut(stored, []byte("\n"))
			return Reference{}, fmt.Errorf("%w: unsupported version %q", ErrBadReference, line)
		}
		return Reference{}, fmt.Errorf("%w: not a reference", ErrBadReference)
	}
	var r Reference
	if err := strictjson.Decode(body, &r); err != nil {
		return Reference{}, fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	if r.Backend == "" || r.ID == "" || r.KID == "" {
		return Reference{}, fmt.Errorf("%w: backend, id and kid are required", ErrBadReference)
	}
	return r, nil
}
