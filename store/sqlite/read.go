package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keyroll/keyroll/lifecycle"
	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

// querier is what reads need: a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Keys returns every key, oldest first, and the generation they belong to.
func (s *Store) Keys(ctx context.Context) ([]lifecycle.Key, int64, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer tx.Rollback()
	keys, gen, err := readKeys(ctx, tx)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: keys: %w", err)
	}
	return keys, gen, nil
}

const selectKeys = `SELECT seq, kid, alg, thumbprint, state, cert, not_before, not_after,
	created_at, promote_at, promoted_at, retired_at, ended_at, urgent, transient
	FROM keyroll_keys ORDER BY seq`

// readKeys reads the keys and the generation; q should be a transaction so
// that both come from one snapshot.
func readKeys(ctx context.Context, q querier) ([]lifecycle.Key, int64, error) {
	gen, err := generation(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	rs, err := q.QueryContext(ctx, selectKeys)
	if err != nil {
		return nil, 0, err
	}
	defer rs.Close()
	keys := []lifecycle.Key{}
	for rs.Next() {
		var r rows.Key
		if err := rs.Scan(&r.Seq, &r.KID, &r.Alg, &r.Thumbprint, &r.State, &r.Cert, &r.NotBefore, &r.NotAfter,
			&r.CreatedAt, &r.PromoteAt, &r.PromotedAt, &r.RetiredAt, &r.EndedAt, &r.Urgent, &r.Transient); err != nil {
			return nil, 0, fmt.Errorf("%w: key row %d: %v", store.ErrCorrupt, len(keys)+1, err)
		}
		k, err := r.Decode()
		if err != nil {
			return nil, 0, err
		}
		keys = append(keys, k)
	}
	return keys, gen, rs.Err()
}

func generation(ctx context.Context, q querier) (int64, error) {
	var gen int64
	err := q.QueryRowContext(ctx, `SELECT value FROM keyroll_meta WHERE name = 'generation'`).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: the generation counter is missing", store.ErrCorrupt)
	}
	return gen, err
}

// Generation returns the number of committed changes.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	gen, err := generation(ctx, s.r)
	if err != nil {
		return 0, fmt.Errorf("sqlite: generation: %w", err)
	}
	return gen, nil
}

// Sealed returns the encrypted private key of kid, or an error wrapping
// [store.ErrNotFound].
func (s *Store) Sealed(ctx context.Context, kid string) ([]byte, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT sealed FROM keyroll_keys WHERE kid = ?`, kid).Scan(&b)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: key %q", store.ErrNotFound, kid)
	case err != nil:
		return nil, fmt.Errorf("sqlite: sealed key %q: %w", kid, err)
	case len(b) == 0:
		return nil, fmt.Errorf("%w: key %q has no sealed private key", store.ErrCorrupt, kid)
	}
	return b, nil
}

// Events returns the audit events with Time ≥ since, oldest first, at most
// limit of them (0: all).
func (s *Store) Events(ctx context.Context, since time.Time, limit int) ([]lifecycle.Event, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlite: events: negative limit %d", limit)
	}
	lim := int64(limit)
	if limit == 0 {
		lim = -1 // SQLite: no limit
	}
	rs, err := s.r.QueryContext(ctx, `SELECT time, actor, kid, thumbprint, from_state, to_state, reason, app
		FROM keyroll_events WHERE time >= ? ORDER BY time, id LIMIT ?`, rows.SinceNanos(since), lim)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer rs.Close()
	events := []lifecycle.Event{}
	for rs.Next() {
		var r rows.Event
		if err := rs.Scan(&r.Time, &r.Actor, &r.KID, &r.Thumbprint, &r.From, &r.To, &r.Reason, &r.App); err != nil {
			return nil, fmt.Errorf("%w: event row: %v", store.ErrCorrupt, err)
		}
		e, err := r.Decode()
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rs.Err()
}
