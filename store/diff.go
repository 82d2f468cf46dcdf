package store

import (
	"fmt"
	"reflect"

	"github.com/keyroll/keyroll/lifecycle"
)

// Diff checks a change against the keys it was computed from and splits it
// into the keys to insert and the keys to update. Backends call it inside
// their transaction; it refuses a change that would lose or duplicate a key,
// add one without its sealed private key, or leave two primaries.
func Diff(old []lifecycle.Key, c *Change) (added, updated []lifecycle.Key, err error) {
	byKID := make(map[string]lifecycle.Key, len(old))
	for _, k := range old {
		byKID[k.KID] = k
	}
	seen := make(map[string]bool, len(c.Keys))
	primaries := 0
	for _, k := range c.Keys {
		if k.KID == "" || !k.State.Valid() {
			return nil, nil, fmt.Errorf("%w: key %q has state %q", ErrConflict, k.KID, k.State)
		}
		if seen[k.KID] {
			return nil, nil, fmt.Errorf("%w: kid %s appears twice", ErrConflict, k.KID)
		}
		seen[k.KID] = true
		if k.State == lifecycle.Primary {
			primaries++
		}
		prev, ok := byKID[k.KID]
		switch {
		case !ok:
			if len(c.Sealed[k.KID]) == 0 {
				return nil, nil, fmt.Errorf("%w: new key %s comes without its private key", ErrConflict, k.KID)
			}
			added = append(added, k)
		case !reflect.DeepEqual(prev, k):
			if prev.Thumbprint != k.Thumbprint || string(prev.Cert) != string(k.Cert) {
				return nil, nil, fmt.Errorf("%w: key %s would change its certificate", ErrConflict, k.KID)
			}
			updated = append(updated, k)
		}
	}
	for kid := range byKID {
		if !seen[kid] {
			return nil, nil, fmt.Errorf("%w: the change would lose key %s", ErrConflict, kid)
		}
	}
	if primaries > 1 {
		return nil, nil, fmt.Errorf("%w: the change would leave %d primary keys", ErrConflict, primaries)
	}
	return added, updated, nil
}
