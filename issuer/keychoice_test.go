package issuer

import (
	"testing"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
)

// TestRetiredOverridePastPublicationFallsBack: an override to a retired key
// whose publication has ended (the loop has not yet marked it expired)
// falls back to the primary instead of failing.
func TestRetiredOverridePastPublicationFallsBack(t *testing.T) {
	p := lifecycle.DefaultPolicy()
	retired := lifecycle.Key{KID: "old", Thumbprint: "AA", State: lifecycle.Retired, NotBefore: start, NotAfter: start.AddDate(1, 0, 0), RetiredAt: start.Add(time.Hour)}
	primary := lifecycle.Key{KID: "new", Thumbprint: "BB", State: lifecycle.Primary, NotBefore: start, NotAfter: start.AddDate(1, 0, 0)}
	keys := []lifecycle.Key{retired, primary}
	app := store.Application{Name: "a", KeyThumbprint: "AA"}

	c, _, err := chooseKey(keys, app, p, p.UnpublishAt(retired).Add(-time.Second))
	if err != nil || c.Key.KID != "old" || !c.Override {
		t.Fatalf("while published: %+v %v", c, err)
	}
	c, _, err = chooseKey(keys, app, p, p.UnpublishAt(retired))
	if err != nil || c.Key.KID != "new" || c.Unusable == nil || c.Unusable.KID != "old" {
		t.Fatalf("after its publication ended: %+v %v", c, err)
	}
}
