package issuer

import (
	"context"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// KeyStore is the part of the store the key manager's rotation and
// publication use: the keys and their generation, the sealed private
// keys, the one serialised Update every key change goes through, and
// named settings (the KEK check, damaged-key marks). A store.Store is one;
// the code that serves applications, users, administrators and evidence
// uses the store package's own AppStore, UserStore, ConsoleStore and
// EvidenceStore views instead.
type KeyStore interface {
	Keys(ctx context.Context) ([]lifecycle.Key, int64, error)
	Generation(ctx context.Context) (int64, error)
	Sealed(ctx context.Context, kid string) ([]byte, error)
	Update(ctx context.Context, fn store.UpdateFunc) (gen int64, changed bool, err error)
	Setting(ctx context.Context, name string) ([]byte, error)
	InitSetting(ctx context.Context, name string, value []byte) ([]byte, error)
}

var _ KeyStore = store.Store(nil)
