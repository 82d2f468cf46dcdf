package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/keyroll/keyroll/fedmeta"
	"github.com/keyroll/keyroll/jwk"
)

// CacheStore persists the last good key document of a [Cache] so that a
// restarted process can verify tokens while the source is unreachable.
// Implementations must be safe for concurrent use; the cache never runs
// two Saves at once. The bytes are opaque (a small JSON envelope holding
// the document exactly as fetched, its source name, fetch time and ETag),
// and are decoded and checked again on Load exactly like a fresh fetch.
type CacheStore interface {
	// Load returns the saved bytes, or nil and no error if nothing is saved.
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the saved bytes, all or nothing.
	Save(ctx context.Context, data []byte) error
}

// FileStore is a [CacheStore] in one file. Save writes a temporary file in
// the same directory, syncs it and renames it over Path, so a crash leaves
// the old file or the new one, never a torn one.
type FileStore struct {
	Path string
}

// maxStored bounds what Load reads: the largest document, base64-encoded,
// plus the envelope.
var maxStored = int64(max(jwk.MaxSetSize, fedmeta.MaxSize))*4/3 + 4096

// Load reads the file; a missing file is not an error.
func (s *FileStore) Load(ctx context.Context) ([]byte, error) {
	f, err := os.Open(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify: cache file: %w", err)
	}
	defer f.Close()
	data, err := readLimited(f, maxStored)
	if err != nil {
		return nil, fmt.Errorf("verify: cache file %s: %w", s.Path, err)
	}
	return data, nil
}

// Save atomically replaces the file with data (mode 0600).
func (s *FileStore) Save(ctx context.Context, data []byte) error {
	if err := writeFileAtomic(s.Path, data); err != nil {
		return fmt.Errorf("verify: cache file: %w", err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// envelope is the persisted form of a key document.
type envelope struct {
	Format  string    `json:"format"`
	Source  string    `json:"source"`
	Fetched time.Time `json:"fetched"`
	ETag    string    `json:"etag,omitempty"`
	LastMod string    `json:"last_modified,omitempty"`
	Body    []byte    `json:"body"`
}

const envelopeFormat = "keyroll-keycache/1"

// save persists ks with its validators.
func (c *Cache) save(ks *KeySet, etag, lastMod string) error {
	if c.store == nil {
		return nil
	}
	data, err := json.Marshal(envelope{Format: envelopeFormat, Source: c.src.Name(),
		Fetched: ks.fetched.UTC(), ETag: etag, LastMod: lastMod, Body: ks.body})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	if err := c.store.Save(ctx, data); err != nil {
		return fmt.Errorf("verify: saving the key cache: %w", err)
	}
	return nil
}

// load installs the persisted set, if any and usable, at construction.
func (c *Cache) load() {
	if c.store == nil {
		return
	}
	ks, env, err := c.loadStored()
	if ks == nil && err == nil {
		return
	}
	ev := RefreshEvent{Source: c.src.Name(), Trigger: TriggerLoad, Outcome: OutcomeRejected, Err: err}
	if err == nil {
		c.cur.Store(ks)
		c.etag, c.lastMod = env.ETag, env.LastMod
		next := c.nextRefresh(ks, Document{}, ks.fetched)
		c.nextTry.Store(next.UnixNano())
		ev = RefreshEvent{Source: c.src.Name(), Trigger: TriggerLoad, Outcome: OutcomeUpdated,
			Keys: ks.usable, Skipped: ks.skipped, Fetched: ks.fetched, NextRefresh: next}
	} else {
		c.lastErr = err
	}
	c.obs.Refreshed(ev)
}

func (c *Cache) loadStored() (*KeySet, envelope, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	data, err := c.store.Load(ctx)
	if err != nil || data == nil {
		return nil, envelope{}, err
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil || env.Format != envelopeFormat {
		return nil, envelope{}, fmt.Errorf("verify: persisted cache is not a %s envelope", envelopeFormat)
	}
	if env.Source != c.src.Name() {
		return nil, envelope{}, fmt.Errorf("verify: persisted cache belongs to source %s, not %s", clip(env.Source), clip(c.src.Name()))
	}
	now := c.clk.Now()
	fetched := env.Fetched
	if fetched.IsZero() {
		return nil, envelope{}, errors.New("verify: persisted cache has no fetch time")
	}
	if fetched.After(now) { // a clock that went back must not make keys fresher
		fetched = now
	}
	dec, err := c.src.Decode(env.Body)
	if err != nil {
		return nil, envelope{}, fmt.Errorf("verify: persisted cache: %w", err)
	}
	ks, err := newKeySet(dec, env.Body, fetched)
	if err != nil {
		return nil, envelope{}, fmt.Errorf("verify: persisted cache: %w", err)
	}
	if !ks.validUntil.IsZero() && !now.Before(ks.validUntil) {
		return nil, envelope{}, fmt.Errorf("verify: persisted cache: %w", ErrMetadataExpired)
	}
	c.seal(ks)
	return ks, env, nil
}
