package xmlsafe

import (
	"errors"
	"fmt"
)

// Error is every error this package returns: one of the sentinels and what
// exactly was wrong.
type Error struct {
	Kind   error  // ErrTooLarge, ErrDTD or ErrMalformed
	Detail string // e.g. "2000000 bytes, limit 1048576"
}

// Error implements error.
func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Detail }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func fail(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Relabel presents an error of this package under a caller's own sentinel:
// labels maps ErrTooLarge, ErrDTD and ErrMalformed to the caller's errors.
// The result reads "<caller sentinel>: <detail>" and matches, with errors.Is,
// both the caller's sentinel and this package's. Other errors, and kinds
// labels does not map, are returned unchanged.
func Relabel(err error, labels map[error]error) error {
	var xe *Error
	if !errors.As(err, &xe) {
		return err
	}
	own, ok := labels[xe.Kind]
	if !ok {
		return err
	}
	return &relabeled{own: own, xe: xe}
}

type relabeled struct {
	own error
	xe  *Error
}

func (r *relabeled) Error() string   { return r.own.Error() + ": " + r.xe.Detail }
func (r *relabeled) Unwrap() []error { return []error{r.own, r.xe} }
