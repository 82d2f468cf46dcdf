package rows

import (
	"fmt"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Key is a key as stored.
type Key struct {
	Seq                              int64
	KID, Alg, Thumbprint, State      string
	Cert                             []byte
	NotBefore, NotAfter, CreatedAt   int64
	PromoteAt, PromotedAt, RetiredAt int64
	EndedAt                          int64
	Urgent, Transient                bool
}

// keyProblem says what makes k unstorable, or "".
func keyProblem(k lifecycle.Key) string {
	switch {
	case k.KID == "":
		return "empty kid"
	case !k.State.Valid():
		return fmt.Sprintf("unknown state %q", k.State)
	case k.Alg == "":
		return "empty alg"
	case k.Thumbprint == "":
		return "empty thumbprint"
	case len(k.Cert) == 0:
		return "empty certificate"
	case k.NotAfter.Before(k.NotBefore):
		return "not_after is before not_before"
	}
	return ""
}

// EncodeKey encodes k for writing; the error wraps store.ErrConflict.
func EncodeKey(k lifecycle.Key) (Key, error) {
	if p := keyProblem(k); p != "" {
		return Key{}, fmt.Errorf("%w: key %q: %s", store.ErrConflict, k.KID, p)
	}
	r := Key{KID: k.KID, Alg: k.Alg, Thumbprint: k.Thumbprint, State: string(k.State),
		Cert: k.Cert, Urgent: k.Urgent, Transient: k.Transient}
	times := []struct {
		dst *int64
		t   time.Time
	}{{&r.NotBefore, k.NotBefore}, {&r.NotAfter, k.NotAfter}, {&r.CreatedAt, k.CreatedAt},
		{&r.PromoteAt, k.PromoteAt}, {&r.PromotedAt, k.PromotedAt}, {&r.RetiredAt, k.RetiredAt}, {&r.EndedAt, k.EndedAt}}
	for _, x := range times {
		n, err := Nanos(x.t)
		if err != nil {
			return Key{}, fmt.Errorf("%w: key %q: %v", store.ErrConflict, k.KID, err)
		}
		*x.dst = n
	}
	return r, nil
}

// Decode turns a stored row back into a key; the error wraps store.ErrCorrupt.
func (r Key) Decode() (lifecycle.Key, error) {
	k := lifecycle.Key{KID: r.KID, Alg: r.Alg, Thumbprint: r.Thumbprint, Cert: r.Cert,
		NotBefore: FromNanos(r.NotBefore), NotAfter: FromNanos(r.NotAfter), State: lifecycle.State(r.State),
		CreatedAt: FromNanos(r.CreatedAt), PromoteAt: FromNanos(r.PromoteAt), PromotedAt: FromNanos(r.PromotedAt),
		RetiredAt: FromNanos(r.RetiredAt), EndedAt: FromNanos(r.EndedAt), Urgent: r.Urgent, Transient: r.Transient}
	if p := keyProblem(k); p != "" {
		return lifecycle.Key{}, fmt.Errorf("%w: key %q (seq %d): %s", store.ErrCorrupt, r.KID, r.Seq, p)
	}
	return k, nil
}

// CloneKeys deep-copies keys so that an update function that edits its
// argument in place cannot also edit the copy Diff compares against.
func CloneKeys(keys []lifecycle.Key) []lifecycle.Key {
	out := make([]lifecycle.Key, len(keys))
	for i, k := range keys {
		k.Cert = append([]byte(nil), k.Cert...)
		out[i] = k
	}
	return out
}
