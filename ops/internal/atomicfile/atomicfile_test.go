package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// failing is a temp file whose Write fails after half the data, as a full
// disk would.
type failing struct {
	*os.File
	failSync bool
}

func (f failing) Write(p []byte) (int, error) {
	if f.failSync {
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:len(p)/2])
	return n, errors.New("no space left on device")
}

func (f failing) Sync() error {
	if f.failSync {
		return errors.New("input/output error")
	}
	return f.File.Sync()
}

func TestWriteReplacesAndKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.pem")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("new content"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(got) != "new content" || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v", got, st.Mode().Perm())
	}
	assertNoTemp(t, filepath.Dir(path))
}

func TestWriteFailureLeavesOldFile(t *testing.T) {
	for _, failSync := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "Web.config")
		os.WriteFile(path, []byte("original"), 0o644)
		w := Writer{CreateTemp: func(dir, pattern string) (File, error) {
			f, err := os.CreateTemp(dir, pattern)
			return failing{File: f, failSync: failSync}, err
		}}
		if err := w.Write(path, []byte("a new and longer content"), 0o644); err == nil {
			t.Fatalf("failSync=%v: write succeeded", failSync)
		}
		if got, _ := os.ReadFile(path); string(got) != "original" {
			t.Errorf("failSync=%v: file is now %q", failSync, got)
		}
		assertNoTemp(t, dir)
	}
}

func TestWriteIntoMissingDirectory(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "nope", "f"), []byte("x"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".*keyroll-*"))
	if len(m) > 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}
