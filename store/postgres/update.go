package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/store"
)

// Update runs fn on the current keys in one transaction that first takes
// the advisory lock, so updates from every replica run one at a time, and
// commits fn's change (with NOTIFY keyroll_keys), or nothing. fn must not
// call the store. Errors from fn are returned as they are; a change
// [store.Diff] refuses wraps [store.ErrConflict].
func (s *Store) Update(ctx context.Context, fn store.UpdateFunc) (gen int64, changed bool, err error) {
	conn, err := s.pool.acquire(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: update: %w", err)
	}
	defer s.pool.release(conn)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: update: %w", err)
	}
	defer rollback(tx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return 0, false, fmt.Errorf("postgres: update: lock: %w", err)
	}
	old, gen, err := readKeys(ctx, tx)
	if err != nil {
		return 0, false, fmt.Errorf("postgres: update: %w", err)
	}
	c, err := fn(cloneKeys(old))
	if err != nil || c == nil {
		return gen, false, err
	}
	p, err := makePlan(old, c)
	if err != nil || p.empty() {
		return gen, false, err
	}
	if err := write(ctx, tx, p); err != nil {
		return 0, false, fmt.Errorf("postgres: update: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, false, fmt.Errorf("postgres: update: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("postgres: update: commit: %w", err)
	}
	return gen + 1, true, nil
}

const (
	insertKey = `INSERT INTO keyroll_keys (seq, kid, alg, thumbprint, state, cert, not_before, not_after,
		created_at, promote_at, promoted_at, retired_at, ended_at, urgent, transient, sealed)
		VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM keyroll_keys),
		$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	updateKey = `UPDATE keyroll_keys SET alg = $1, state = $2, not_before = $3, not_after = $4, created_at = $5,
		promote_at = $6, promoted_at = $7, retired_at = $8, ended_at = $9, urgent = $10, transient = $11
		WHERE kid = $12`
	insertEvent = `INSERT INTO keyroll_events (time, actor, kid, thumbprint, from_state, to_state, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`
	bumpGeneration = `UPDATE keyroll_meta SET value = value + 1 WHERE name = 'generation'`
	// The payload names the schema, so watchers of other keyroll schemas
	// in the same database can ignore it.
	notify = `SELECT pg_notify('keyroll_keys', COALESCE(current_schema(), ''))`
)

// write applies p inside tx, bumps the generation and queues the
// notification that PostgreSQL delivers on commit.
func write(ctx context.Context, tx pgx.Tx, p plan) error {
	for i, r := range p.added {
		if _, err := tx.Exec(ctx, insertKey, r.KID, r.Alg, r.Thumbprint, r.State, r.Cert, r.NotBefore, r.NotAfter,
			r.CreatedAt, r.PromoteAt, r.PromotedAt, r.RetiredAt, r.EndedAt, r.Urgent, r.Transient, p.sealed[i]); err != nil {
			return fmt.Errorf("insert key %q: %w", r.KID, err)
		}
	}
	for _, r := range p.updated {
		tag, err := tx.Exec(ctx, updateKey, r.Alg, r.State, r.NotBefore, r.NotAfter, r.CreatedAt,
			r.PromoteAt, r.PromotedAt, r.RetiredAt, r.EndedAt, r.Urgent, r.Transient, r.KID)
		if err != nil {
			return fmt.Errorf("update key %q: %w", r.KID, err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("update key %q: %d rows changed", r.KID, tag.RowsAffected())
		}
	}
	for _, r := range p.events {
		if _, err := tx.Exec(ctx, insertEvent, r.Time, r.Actor, r.KID, r.Thumbprint, r.From, r.To, r.Reason); err != nil {
			return fmt.Errorf("insert event for key %q: %w", r.KID, err)
		}
	}
	if _, err := tx.Exec(ctx, bumpGeneration); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, notify)
	return err
}
