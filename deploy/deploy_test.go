// Package deploy holds what keyroll is deployed with (a systemd unit) and
// the test that checks it.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit: systemd-analyze verify accepts the unit (with its
// ExecStart pointed at a binary that exists here).
func TestSystemdUnit(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is not installed (Debian's systemd package)")
		}
		t.Skip("systemd-analyze is not installed; the unit is not checked")
	}
	unit, err := os.ReadFile("keyroll.service")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/keyroll serve ") {
		t.Fatal("the unit does not start keyroll serve from /usr/local/bin")
	}
	path := filepath.Join(t.TempDir(), "keyroll.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/keyroll", "/bin/true")), 0o644)
	out, err := exec.Command(bin, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
