package webconfig

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/keyroll/keyroll/lifecycle"
)

// Errors Replace returns.
var (
	// ErrEmptySet: Replace was asked to trust no thumbprint at all.
	ErrEmptySet = errors.New("refusing to write an empty thumbprint set into Web.config")
	// ErrUnknownIssuer: no entry has the issuer name asked for.
	ErrUnknownIssuer = errors.New("no thumbprint entries for that issuer in Web.config")
)

// AmbiguousIssuerError says Replace needs an issuer name because the
// registry trusts several.
type AmbiguousIssuerError struct {
	Issuers []string
}

// Error implements error.
func (e *AmbiguousIssuerError) Error() string {
	return fmt.Sprintf("Web.config trusts thumbprints for %d issuers (%s); say which to update", len(e.Issuers), strings.Join(e.Issuers, ", "))
}

// BadThumbprintError is a thumbprint given to Replace that is not SHA-1 hex.
type BadThumbprintError struct {
	Value string
}

// Error implements error.
func (e *BadThumbprintError) Error() string {
	return fmt.Sprintf("%q is not a SHA-1 thumbprint (40 hex digits)", e.Value)
}

// Change says what Replace did.
type Change struct {
	Issuer  string
	Added   []string // thumbprints now trusted that were not
	Removed []string // thumbprints no longer trusted
}

// Changed reports whether the file content changed.
func (c Change) Changed() bool { return len(c.Added)+len(c.Removed) > 0 }

// Replace makes the entries of one issuer trust exactly thumbprints (SHA-1,
// any format lifecycle.NormalizeThumbprint accepts) and returns the new
// document. Entries whose thumbprint stays are untouched; a replaced
// thumbprint is rewritten inside its attribute's quotes; extra thumbprints
// are added after the issuer's last entry, copying it; surplus entries are
// removed with their line. Every other byte is kept. When the issuer already
// trusts exactly that set, data is returned as is and the Change is empty.
//
// issuer may be empty when every entry belongs to the same issuer.
func Replace(data []byte, issuer string, thumbprints []string) ([]byte, Change, error) {
	want, err := normalizeSet(thumbprints)
	if err != nil {
		return nil, Change{}, err
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, Change{}, err
	}
	entries, issuer, err := selectIssuer(cfg, issuer)
	if err != nil {
		return nil, Change{}, err
	}
	plan := planEdits(data, entries, want)
	plan.change.Issuer = issuer
	if !plan.change.Changed() {
		return data, plan.change, nil
	}
	return apply(data, plan.edits), plan.change, nil
}

func normalizeSet(tps []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, t := range tps {
		n := lifecycle.NormalizeThumbprint(t)
		if len(n) != 40 {
			return nil, &BadThumbprintError{Value: t}
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, ErrEmptySet
	}
	return out, nil
}

func selectIssuer(cfg *Config, issuer string) ([]Entry, string, error) {
	if issuer == "" {
		names := cfg.Issuers()
		if len(names) > 1 {
			return nil, "", &AmbiguousIssuerError{Issuers: names}
		}
		issuer = names[0]
	}
	var out []Entry
	for _, e := range cfg.Entries {
		if e.Issuer == issuer {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, "", fmt.Errorf("%w: %q (it has: %s)", ErrUnknownIssuer, issuer, strings.Join(cfg.Issuers(), ", "))
	}
	return out, issuer, nil
}

// edit replaces data[from:to] with text.
type edit struct {
	from, to int
	text     string
}

type plan struct {
	edits  []edit
	change Change
}

// planEdits keeps entries whose thumbprint is wanted, reuses the others for
// missing thumbprints, then appends or deletes.
func planEdits(data []byte, entries []Entry, want []string) plan {
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[w] = true
	}
	kept := map[string]bool{}
	var free []Entry
	for _, e := range entries {
		if wanted[e.Thumbprint] && !kept[e.Thumbprint] {
			kept[e.Thumbprint] = true
			continue
		}
		free = append(free, e)
	}
	var p plan
	for _, w := range want {
		if !kept[w] {
			p.change.Added = append(p.change.Added, w)
		}
	}
	for _, e := range free {
		if !wanted[e.Thumbprint] {
			p.change.Removed = append(p.change.Removed, display(e))
		}
	}
	reuse := min(len(p.change.Added), len(free))
	for i, tp := range p.change.Added[:reuse] {
		p.edits = append(p.edits, edit{from: free[i].valStart, to: free[i].valEnd, text: tp})
	}
	if extra := p.change.Added[reuse:]; len(extra) > 0 {
		p.edits = append(p.edits, appendAfter(data, entries[len(entries)-1], extra))
	}
	for _, e := range free[reuse:] {
		if wanted[e.Thumbprint] { // a duplicate of a kept entry
			p.change.Removed = append(p.change.Removed, display(e)+" (duplicate)")
		}
		p.edits = append(p.edits, deleteEntry(data, e))
	}
	return p
}

func display(e Entry) string {
	if e.Thumbprint != "" {
		return e.Thumbprint
	}
	return e.Raw
}

// lineBreakBefore returns where the line break before the entry's line
// starts (covering a CR of a CRLF), or -1 when the entry is not alone at the
// start of its line.
func lineBreakBefore(data []byte, e Entry) int {
	if !e.ownLine || e.lineStart == 0 {
		return -1
	}
	nl := e.lineStart - 1
	if nl > 0 && data[nl-1] == '\r' {
		nl--
	}
	return nl
}

// appendAfter copies last, with its line break and indentation, once per
// thumbprint, right after it.
func appendAfter(data []byte, last Entry, tps []string) edit {
	prefix := " "
	if nl := lineBreakBefore(data, last); nl >= 0 {
		prefix = string(data[nl:last.start])
	}
	head := string(data[last.start:last.valStart])
	tail := string(data[last.valEnd:last.end])
	var b strings.Builder
	for _, tp := range tps {
		b.WriteString(prefix + head + tp + tail)
	}
	return edit{from: last.end, to: last.end, text: b.String()}
}

// deleteEntry removes an entry with its line break and indentation.
func deleteEntry(data []byte, e Entry) edit {
	if nl := lineBreakBefore(data, e); nl >= 0 {
		return edit{from: nl, to: e.end}
	}
	return edit{from: e.start, to: e.end}
}

// apply performs non-overlapping edits back to front.
func apply(data []byte, edits []edit) []byte {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].from > edits[j].from })
	out := bytes.Clone(data)
	for _, e := range edits {
		out = append(out[:e.from], append([]byte(e.text), out[e.to:]...)...)
	}
	return out
}
