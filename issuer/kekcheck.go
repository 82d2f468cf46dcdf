package issuer

import (
	"context"
	"errors"

	"github.com/keyroll/keyroll/store"
)

// StoreIsNew reports whether st is a new, empty store: no KEK check value
// and no key. Only such a store may be given a newly created KEK; one that
// has either was made under a KEK that must be found, not replaced.
func StoreIsNew(ctx context.Context, st KeyStore) (bool, error) {
	if _, err := st.Setting(ctx, kekCheckSetting); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	ks, _, err := st.Keys(ctx)
	return len(ks) == 0, err
}
