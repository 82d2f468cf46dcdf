// Package keysync writes the keys a provider publishes into the files of a
// relying party that cannot fetch them itself: a PEM bundle, a JWKS file, or
// the issuerNameRegistry of a Web.config.
//
// A sync is safe to run from cron every few minutes: it writes only when the
// set of keys changed (compared as sets, so order and formatting never cause
// a write), keeps the previous file as a backup, replaces the file
// atomically (temporary file, fsync, rename), and refuses to write an empty
// set, one read from a metadata document whose signature does not verify,
// or one from which the parser skipped a signing key (it would be dropped).
package keysync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/keyroll/keyroll/ops"
	"github.com/keyroll/keyroll/ops/internal/atomicfile"
)

// Format is the kind of file written.
type Format string

// The formats.
const (
	PEM       Format = "pem"       // a bundle of CERTIFICATE blocks
	JWKS      Format = "jwks"      // a JSON Web Key Set
	WebConfig Format = "webconfig" // the thumbprints of a Web.config issuerNameRegistry
)

// Errors callers act on.
var (
	// ErrEmptySet: nothing publishable in this format; nothing was written.
	ErrEmptySet = errors.New("refusing to write an empty key set")
	// ErrBadSignature: the metadata's signature does not verify; nothing was written.
	ErrBadSignature = errors.New("refusing to sync from metadata whose signature does not verify")
	// ErrSkippedKeys: the provider publishes a signing key keyroll could not
	// read (weak, alg mismatch, kid shared by different keys, ...); writing
	// the others would drop a key the provider may sign with, so nothing
	// was written.
	ErrSkippedKeys = errors.New("refusing to sync: the provider publishes signing keys keyroll cannot read, and writing the others would drop them")
	// ErrUntrustedSource: the keys come from a source that is neither
	// fetched over https nor signed by a pinned metadata signer, and would
	// change the file; nothing was written.
	ErrUntrustedSource = errors.New("refusing to change the trusted keys from a source that is neither https nor signed by a pinned metadata signer")
	// ErrNotOurFormat: the target exists but is not a file of the format.
	ErrNotOurFormat = errors.New("the target file exists but is not of the format being written; refusing to overwrite it")
)

// FormatFor returns the format named by explicit ("" or "auto": from path's
// extension: .pem/.crt → PEM, .json/.jwks → JWKS, .config → Web.config).
func FormatFor(path, explicit string) (Format, error) {
	switch Format(strings.ToLower(explicit)) {
	case PEM, JWKS, WebConfig:
		return Format(strings.ToLower(explicit)), nil
	case "", "auto":
	default:
		return "", fmt.Errorf("unknown format %q: use pem, jwks or webconfig", explicit)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pem", ".crt":
		return PEM, nil
	case ".json", ".jwks":
		return JWKS, nil
	case ".config":
		return WebConfig, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its name: use --format pem|jwks|webconfig", path)
}

// Options tune Sync.
type Options struct {
	Format Format
	// Issuer selects the Web.config issuer (authority or trustedIssuers name)
	// whose thumbprints are replaced; needed when the file trusts several.
	Issuer string
	// NoBackup skips writing path+".bak" with the previous content.
	NoBackup bool
	// AllowInvalidSignature syncs from metadata whose signature does not verify.
	AllowInvalidSignature bool
	// Untrusted, when not empty, says why nothing vouches for the source
	// (neither https nor a pinned metadata signer). Sync then writes
	// nothing that would change the file, failing with ErrUntrustedSource.
	Untrusted string
	// Write replaces a file atomically; nil means atomicfile.Write.
	Write func(path string, data []byte, perm fs.FileMode) error
}

// BackupSuffix is appended to the target's name for the backup.
const BackupSuffix = ".bak"

// Result says what Sync did.
type Result struct {
	Path    string
	Format  Format
	Changed bool
	Backup  string   // the backup written, if any
	Keys    int      // keys in the file now
	Added   []string // key IDs (thumbprints) added
	Removed []string // key IDs removed
	Skipped []string // published keys this format cannot hold, with why
}

// Sync makes the file at path hold exactly the keys p publishes.
func Sync(p *ops.Published, path string, opt Options) (Result, error) {
	res := Result{Path: path, Format: opt.Format}
	if p.Signature.Signed && !p.Signature.Valid && !opt.AllowInvalidSignature {
		return res, fmt.Errorf("%w: %s", ErrBadSignature, p.Signature.Err)
	}
	if skipped := p.SkippedSigning(); len(skipped) > 0 {
		return res, skippedError(skipped)
	}
	keys, skipped := usable(p.Keys, opt.Format)
	res.Skipped = skipped
	if len(keys) == 0 {
		return res, fmt.Errorf("%w: %s publishes no key that can be written as %s", ErrEmptySet, p.Location, opt.Format)
	}
	old, exists, err := readTarget(path)
	if err != nil {
		return res, err
	}
	out, err := render(opt, keys, old, exists, &res)
	if err != nil || !res.Changed {
		return res, err
	}
	if opt.Untrusted != "" {
		res.Changed = false
		return res, fmt.Errorf("%w (%s); it would add %s and remove %s", ErrUntrustedSource, opt.Untrusted,
			listOrNone(res.Added), listOrNone(res.Removed))
	}
	write := opt.Write
	if write == nil {
		write = atomicfile.Write
	}
	if exists && !opt.NoBackup {
		res.Backup = path + BackupSuffix
		if err := write(res.Backup, old, 0o600); err != nil {
			return res, fmt.Errorf("backup: %w", err)
		}
	}
	if err := write(path, out, 0o644); err != nil {
		res.Changed = false
		return res, err
	}
	return res, nil
}

// skippedError names each skipped key and why, wrapping ErrSkippedKeys.
func skippedError(skipped []error) error {
	msgs := make([]string, len(skipped))
	for i, err := range skipped {
		msgs[i] = err.Error()
	}
	return fmt.Errorf("%w: %s", ErrSkippedKeys, strings.Join(msgs, "; "))
}

// usable returns the keys the format can hold, sorted by certificate date,
// and a note for each it cannot.
func usable(keys []ops.Key, f Format) ([]ops.Key, []string) {
	var out []ops.Key
	var skipped []string
	for _, k := range keys {
		switch {
		case f != JWKS && !k.HasCert():
			skipped = append(skipped, "kid "+k.KID+": no certificate (x5c), so it cannot be written as "+string(f))
		case f == JWKS && k.JWK.Public == nil:
			skipped = append(skipped, "kid "+k.KID+": cannot be written as a JWK")
		default:
			out = append(out, k)
		}
	}
	ops.SortByNotBefore(out)
	return out, skipped
}

func readTarget(path string) ([]byte, bool, error) {
	data, err := ops.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// diff fills res.Added/Removed/Changed from the old and new key ID sets.
func diff(res *Result, old, new []string) {
	in := func(set []string, s string) bool {
		for _, x := range set {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, n := range new {
		if !in(old, n) {
			res.Added = append(res.Added, n)
		}
	}
	for _, o := range old {
		if !in(new, o) {
			res.Removed = append(res.Removed, o)
		}
	}
	sort.Strings(res.Added)
	sort.Strings(res.Removed)
	res.Changed = len(res.Added)+len(res.Removed) > 0
	res.Keys = len(new)
}

// RunHook runs command with sh -c after a change, with KEYROLL_SYNC_FILE set
// to the file written.
func RunHook(ctx context.Context, command, path string, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Env = append(os.Environ(), "KEYROLL_SYNC_FILE="+path)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("--exec %q: %w", command, err)
	}
	return nil
}

// pendingSuffix names the marker that a failed --exec leaves beside the
// synced file, so that the next run executes the hook again even though the
// keys have not changed since (the application may never have reloaded).
const pendingSuffix = ".exec-pending"

// Hook runs command after a change, or when the hook failed after an
// earlier change (a marker beside path records that), and reports whether
// it ran. A failure leaves the marker for the next run; a success removes it.
func Hook(ctx context.Context, command, path string, changed bool, stdout, stderr io.Writer) (ran bool, err error) {
	marker := path + pendingSuffix
	_, statErr := os.Stat(marker)
	pending := statErr == nil
	if !changed && !pending {
		return false, nil
	}
	if err := RunHook(ctx, command, path, stdout, stderr); err != nil {
		if werr := os.WriteFile(marker, []byte(command+"\n"), 0o600); werr != nil {
			err = errors.Join(err, fmt.Errorf("recording the failed --exec: %w", werr))
		}
		return true, err
	}
	if pending {
		if err := os.Remove(marker); err != nil && !os.IsNotExist(err) {
			return true, fmt.Errorf("--exec succeeded but its pending marker stays: %w", err)
		}
	}
	return true, nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
