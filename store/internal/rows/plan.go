package rows

import (
	"fmt"
	"reflect"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// Plan is a checked key change, encoded for writing.
type Plan struct {
	Added   []Key
	Sealed  [][]byte // Sealed[i] belongs to Added[i]
	Updated []Key
	Events  []Event
}

// MakePlan checks c against the keys it was computed from and encodes it.
func MakePlan(old []lifecycle.Key, c *store.Change) (Plan, error) {
	added, updated, err := store.Diff(old, c)
	if err != nil {
		return Plan{}, err
	}
	if err := checkChange(c, added); err != nil {
		return Plan{}, err
	}
	var p Plan
	for _, k := range added {
		r, err := EncodeKey(k)
		if err != nil {
			return Plan{}, err
		}
		p.Added = append(p.Added, r)
		p.Sealed = append(p.Sealed, c.Sealed[k.KID])
	}
	prev := make(map[string]lifecycle.Key, len(old))
	for _, k := range old {
		prev[k.KID] = k
	}
	for _, k := range updated {
		r, err := EncodeKey(k)
		if err != nil {
			return Plan{}, err
		}
		if was, err := EncodeKey(prev[k.KID]); err == nil && reflect.DeepEqual(was, r) {
			continue // the same instants in another time zone
		}
		p.Updated = append(p.Updated, r)
	}
	if p.Events, err = EncodeEvents(c.Events); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// Empty reports whether the plan writes nothing.
func (p Plan) Empty() bool { return len(p.Added)+len(p.Updated)+len(p.Events) == 0 }

// checkChange refuses what store.Diff lets through but the tables cannot
// hold: sealed bytes for a key that is not new, a thumbprint used twice.
func checkChange(c *store.Change, added []lifecycle.Key) error {
	isNew := make(map[string]bool, len(added))
	for _, k := range added {
		isNew[k.KID] = true
	}
	for kid := range c.Sealed {
		if !isNew[kid] {
			return fmt.Errorf("%w: sealed private key given for %q, which is not a new key", store.ErrConflict, kid)
		}
	}
	seen := make(map[string]string, len(c.Keys))
	for _, k := range c.Keys {
		if other, ok := seen[k.Thumbprint]; ok {
			return fmt.Errorf("%w: keys %q and %q share thumbprint %s", store.ErrConflict, other, k.KID, k.Thumbprint)
		}
		seen[k.Thumbprint] = k.KID
	}
	return nil
}
