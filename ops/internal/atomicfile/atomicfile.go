// Package atomicfile replaces files so that a reader sees the old content or
// the new, never a mix, and a failure at any step leaves the old file as it
// was: write a temporary file in the same directory, fsync it, rename it over
// the target, fsync the directory.
package atomicfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is the part of *os.File a write uses; tests substitute failing ones.
type File interface {
	io.Writer
	Sync() error
	Close() error
	Chmod(fs.FileMode) error
	Name() string
}

// Writer writes files atomically. The zero value uses the real file system.
type Writer struct {
	// CreateTemp makes the temporary file; nil means os.CreateTemp.
	CreateTemp func(dir, pattern string) (File, error)
}

// Write replaces path with data via [Writer]'s zero value.
func Write(path string, data []byte, perm fs.FileMode) error {
	return Writer{}.Write(path, data, perm)
}

// Write replaces path with data. perm applies when path does not exist yet;
// an existing file keeps its mode.
func (w Writer) Write(path string, data []byte, perm fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	f, err := w.create(dir, "."+base+".keyroll-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

func (w Writer) create(dir, pattern string) (File, error) {
	if w.CreateTemp != nil {
		return w.CreateTemp(dir, pattern)
	}
	return os.CreateTemp(dir, pattern)
}

// syncDir makes the rename durable; file systems that cannot sync a
// directory are ignored, the rename has happened either way.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
