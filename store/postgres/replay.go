package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/store/internal/rows"
)

// UseOnce records id until expires; false when it is already recorded. The
// primary key makes concurrent replicas agree: one insert wins.
func (s *Store) UseOnce(ctx context.Context, id string, expires, now time.Time) (bool, error) {
	fresh := false
	err := s.withConn(ctx, func(conn *pgx.Conn) error {
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM keyroll_used_ids WHERE expires_at < $1`, rows.SinceNanos(now)); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, `INSERT INTO keyroll_used_ids (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
				id, rows.SinceNanos(expires))
			fresh = tag.RowsAffected() == 1
			return err
		})
	})
	if err != nil {
		return false, fmt.Errorf("postgres: record a used message id: %w", err)
	}
	return fresh, nil
}
