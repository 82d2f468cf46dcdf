// Package xmlsafe guards incoming XML before any of it is trusted: it refuses
// oversized documents, non-UTF-8 input, DTDs and every other markup
// declaration (so no external entities and no entity expansion), too many
// elements, too deep nesting, more than one top-level element and duplicate
// attributes. The raw-byte checks run before an XML parser sees the input.
//
// It also holds the small namespace-aware helpers keyroll's XML readers share
// ([Is], [Child], [Children], [Path], [Walk], [Attr], [NSAttr], [Describe],
// [ResolveQName]).
//
// Every error wraps one of [ErrTooLarge], [ErrDTD] or [ErrMalformed] and is an
// [*Error], which callers may present under their own sentinels with
// [Relabel].
package xmlsafe

import "errors"

// Sentinel errors. Their messages are neutral (no package or document kind),
// so callers can wrap them under their own names.
var (
	// ErrTooLarge: the document exceeds Limits.MaxSize or Limits.MaxElements.
	ErrTooLarge = errors.New("XML document too large")
	// ErrDTD: the document contains a DOCTYPE or another markup declaration.
	ErrDTD = errors.New("DTD or markup declaration not allowed")
	// ErrMalformed: not well-formed XML, or not of the accepted form (for
	// example two top-level elements or a duplicate attribute).
	ErrMalformed = errors.New("malformed XML")
)

// Limits bounds what Read accepts. A zero field takes its value from Default.
type Limits struct {
	MaxSize     int // bytes
	MaxDepth    int // element nesting
	MaxElements int // elements in the whole document
}

// Default is 1 MiB, 64 levels and 20,000 elements: several times the
// largest real federation metadata keyroll has seen (70 KB, a few thousand
// elements, eight levels).
var Default = Limits{MaxSize: 1 << 20, MaxDepth: 64, MaxElements: 20_000}

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = Default.MaxSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = Default.MaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = Default.MaxElements
	}
	return l
}
