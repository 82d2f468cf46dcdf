package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

// Update runs fn on the current keys in one transaction that first takes
// the advisory lock, so updates from every replica run one at a time, and
// commits fn's change (with NOTIFY keyroll_keys), or nothing. fn must not
// call the store. Errors from fn are returned as they are; a change
// [store.Diff] refuses wraps [store.ErrConflict].
func (s *Store) Update(ctx context.Context, fn store.UpdateFunc) (gen int64, changed bool, err error) {
	var fnErr error // returned as it is
	err = s.locked(ctx, func(tx pgx.Tx) error {
		old, g, err := readKeys(ctx, tx)
		if err != nil {
			return err
		}
		gen = g
		c, err := fn(rows.CloneKeys(old))
		if err != nil || c == nil {
			fnErr = err
			return errNothing
		}
		p, err := rows.MakePlan(old, c)
		if err != nil || p.Empty() {
			fnErr = err
			return errNothing
		}
		return write(ctx, tx, p)
	})
	switch {
	case errors.Is(err, errNothing):
		if fnErr != nil {
			return gen, false, fnErr
		}
		return gen, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("postgres: update: %w", err)
	}
	return gen + 1, true, nil
}

// errNothing makes locked roll back without it being an error.
var errNothing = errors.New("nothing to write")

// locked runs f in a transaction that first takes the advisory lock, and
// commits if f returns nil. Key and application updates of every replica
// run one at a time.
func (s *Store) locked(ctx context.Context, f func(pgx.Tx) error) error {
	return s.withConn(ctx, func(conn *pgx.Conn) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer rollback(tx)
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if err := f(tx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
}

const (
	insertKey = `INSERT INTO keyroll_keys (seq, kid, alg, thumbprint, state, cert, not_before, not_after,
		created_at, promote_at, promoted_at, retired_at, ended_at, urgent, transient, sealed)
		VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM keyroll_keys),
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	updateKey = `UPDATE keyroll_keys SET alg = $1, state = $2, not_before = $3, not_after = $4, created_at = $5,
		promote_at = $6, promoted_at = $7, retired_at = $8, ended_at = $9, urgent = $10, transient = $11
		WHERE kid = $12`
	insertEvent = `INSERT INTO keyroll_events (time, actor, kid, thumbprint, from_state, to_state, reason, app)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	bumpGeneration = `UPDATE keyroll_meta SET value = value + 1 WHERE name = 'generation'`
	// The payload names the schema, so watchers of other keyroll schemas
	// in the same database can ignore it.
	notify = `SELECT pg_notify('keyroll_keys', COALESCE(current_schema(), ''))`
)

// write applies p inside tx, bumps the generation and queues the
// notification that PostgreSQL delivers on commit.
func write(ctx context.Context, tx pgx.Tx, p rows.Plan) error {
	for i, r := range p.Added {
		if _, err := tx.Exec(ctx, insertKey, r.KID, r.Alg, r.Thumbprint, r.State, r.Cert, r.NotBefore, r.NotAfter,
			r.CreatedAt, r.PromoteAt, r.PromotedAt, r.RetiredAt, r.EndedAt, r.Urgent, r.Transient, p.Sealed[i]); err != nil {
			return fmt.Errorf("insert key %q: %w", r.KID, err)
		}
	}
	for _, r := range p.Updated {
		tag, err := tx.Exec(ctx, updateKey, r.Alg, r.State, r.NotBefore, r.NotAfter, r.CreatedAt,
			r.PromoteAt, r.PromotedAt, r.RetiredAt, r.EndedAt, r.Urgent, r.Transient, r.KID)
		if err != nil {
			return fmt.Errorf("update key %q: %w", r.KID, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update key %q: %d rows changed", r.KID, tag.RowsAffected())
		}
	}
	if err := insertEvents(ctx, tx, p.Events); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, bumpGeneration); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, notify)
	return err
}

// insertEvents appends audit events inside tx.
func insertEvents(ctx context.Context, tx pgx.Tx, events []rows.Event) error {
	for _, r := range events {
		if _, err := tx.Exec(ctx, insertEvent, r.Time, r.Actor, r.KID, r.Thumbprint, r.From, r.To, r.Reason, r.App); err != nil {
			return fmt.Errorf("insert event for key %q: %w", r.KID, err)
		}
	}
	return nil
}
