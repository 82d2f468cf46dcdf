package issuer

import (
	"testing"

	"github.com/keyroll/keyroll/store"
)

// signalled reports whether the evidence-changed signal is pending, and
// takes it.
func signalled(m *Manager) bool {
	select {
	case <-m.EvidenceChanged():
		return true
	default:
		return false
	}
}

// TestEvidenceChanged: a drill recorded and a write of fetch rollups
// signal that readiness may have changed; a flush with nothing to write
// and reads do not, and signals coalesce.
func TestEvidenceChanged(t *testing.T) {
	f := newFetchFixture(t, FetchRecorderConfig{})
	ctx := t.Context()
	signalled(f.m)
	if err := f.rec.Flush(ctx); err != nil || signalled(f.m) {
		t.Fatalf("an empty flush signalled (%v)", err)
	}
	f.get(t, JWKSPath+"?appid="+f.app.ClientID, "app/1", "192.0.2.1:1234", "")
	if _, err := f.m.Readiness(ctx, 0); err != nil || signalled(f.m) {
		t.Fatalf("a fetch not yet written, or a readiness read, signalled (%v)", err)
	}
	if err := f.rec.Flush(ctx); err != nil || !signalled(f.m) {
		t.Fatalf("writing the fetch did not signal (%v)", err)
	}
	for range 2 {
		if _, err := f.m.RecordDrill(ctx, "orders", store.DrillRecord{Verdict: "ready", Started: f.m.Now(), Finished: f.m.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if !signalled(f.m) || signalled(f.m) {
		t.Error("two drills recorded do not leave exactly one signal pending")
	}
}
