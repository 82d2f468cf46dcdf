package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keyroll/keyroll/store"
	"github.com/keyroll/keyroll/store/internal/rows"
)

// Update runs fn on the current keys inside one BEGIN IMMEDIATE transaction
// and commits its change, or nothing. Errors from fn are returned as they
// are; a change [store.Diff] refuses wraps [store.ErrConflict].
func (s *Store) Update(ctx context.Context, fn store.UpdateFunc) (gen int64, changed bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: update: %w", err)
	}
	defer tx.Rollback()
	old, gen, err := readKeys(ctx, tx)
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: update: %w", err)
	}
	c, err := fn(rows.CloneKeys(old))
	if err != nil || c == nil {
		return gen, false, err
	}
	p, err := rows.MakePlan(old, c)
	if err != nil || p.Empty() {
		return gen, false, err
	}
	if err := write(ctx, tx, p); err != nil {
		return 0, false, fmt.Errorf("sqlite: update: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, false, fmt.Errorf("sqlite: update: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("sqlite: update: commit: %w", err)
	}
	return gen + 1, true, nil
}

const (
	insertKey = `INSERT INTO keyroll_keys (seq, kid, alg, thumbprint, state, cert, not_before, not_after,
		created_at, promote_at, promoted_at, retired_at, ended_at, urgent, transient, sealed)
		VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM keyroll_keys), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateKey = `UPDATE keyroll_keys SET alg = ?, state = ?, not_before = ?, not_after = ?, created_at = ?,
		promote_at = ?, promoted_at = ?, retired_at = ?, ended_at = ?, urgent = ?, transient = ? WHERE kid = ?`
	insertEvent = `INSERT INTO keyroll_events (time, actor, kid, thumbprint, from_state, to_state, reason, app)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	bumpGeneration = `UPDATE keyroll_meta SET value = value + 1 WHERE name = 'generation'`
)

// write applies p inside tx and bumps the generation.
func write(ctx context.Context, tx *sql.Tx, p rows.Plan) error {
	for i, r := range p.Added {
		if _, err := tx.ExecContext(ctx, insertKey, r.KID, r.Alg, r.Thumbprint, r.State, r.Cert, r.NotBefore, r.NotAfter,
			r.CreatedAt, r.PromoteAt, r.PromotedAt, r.RetiredAt, r.EndedAt, r.Urgent, r.Transient, p.Sealed[i]); err != nil {
			return fmt.Errorf("insert key %q: %w", r.KID, err)
		}
	}
	for _, r := range p.Updated {
		res, err := tx.ExecContext(ctx, updateKey, r.Alg, r.State, r.NotBefore, r.NotAfter, r.CreatedAt,
			r.PromoteAt, r.PromotedAt, r.RetiredAt, r.EndedAt, r.Urgent, r.Transient, r.KID)
		if err != nil {
			return fmt.Errorf("update key %q: %w", r.KID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("update key %q: %d rows changed (%v)", r.KID, n, err)
		}
	}
	if err := insertEvents(ctx, tx, p.Events); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, bumpGeneration)
	return err
}

// insertEvents appends audit events inside tx.
func insertEvents(ctx context.Context, tx *sql.Tx, events []rows.Event) error {
	for _, r := range events {
		if _, err := tx.ExecContext(ctx, insertEvent, r.Time, r.Actor, r.KID, r.Thumbprint, r.From, r.To, r.Reason, r.App); err != nil {
			return fmt.Errorf("insert event for key %q: %w", r.KID, err)
		}
	}
	return nil
}
