// Package softhsmtest gives tests a real PKCS #11 module: a fresh SoftHSM2
// token store in a temporary directory per test. Without SoftHSM2 a test
// skips with a message saying what to install, except under CI=true,
// where it fails.
package softhsmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// PIN and SOPIN are the PINs of every test token.
const (
	PIN   = "keyroll-test-pin"
	SOPIN = "keyroll-test-so-pin"
)

// modulePaths are where Debian, Ubuntu, Fedora, Alpine and Homebrew put
// libsofthsm2; SOFTHSM2_MODULE overrides them.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// HSM is one test's SoftHSM2: its module, configuration and token directory.
type HSM struct {
	t      testing.TB
	Module string // path of libsofthsm2
	Conf   string // SOFTHSM2_CONF of this test (already set in the environment)
	Dir    string // token directory
}

// Module returns the path of libsofthsm2, or skips (fails under CI=true).
func Module(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		unavailable(t, "softhsm2-util is not on PATH")
	}
	paths := modulePaths
	if p := os.Getenv("SOFTHSM2_MODULE"); p != "" {
		paths = []string{p}
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	unavailable(t, "libsofthsm2.so not found (set SOFTHSM2_MODULE)")
	return ""
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("SoftHSM2 is required under CI=true: %s (apt-get install softhsm2 opensc)", why)
	}
	t.Skipf("SKIP: PKCS #11 test needs SoftHSM2: %s (apt-get install softhsm2 opensc)", why)
}

// New gives the test an empty SoftHSM2 token directory and points
// SOFTHSM2_CONF at it (so the test may not run in parallel). Tokens the
// test opens must be closed before it ends (the module is finalised with
// the last one, and the next test's configuration read afresh).
func New(t testing.TB) *HSM {
	t.Helper()
	h := &HSM{t: t, Module: Module(t), Dir: t.TempDir()}
	tokens := filepath.Join(h.Dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	h.Conf = filepath.Join(h.Dir, "softhsm2.conf")
	conf := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(h.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", h.Conf)
	return h
}

// Token initialises a token labelled label with PIN and returns the label.
func (h *HSM) Token(label string) string {
	h.t.Helper()
	cmd := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SOPIN)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+h.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		h.t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return label
}
