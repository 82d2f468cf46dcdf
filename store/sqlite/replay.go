package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyroll/keyroll/store/internal/rows"
)

// UseOnce records id until expires; false when it is already recorded.
func (s *Store) UseOnce(ctx context.Context, id string, expires, now time.Time) (bool, error) {
	fresh := false
	err := s.write(ctx, "record a used message id", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM keyroll_used_ids WHERE expires_at < ?`, rows.SinceNanos(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO keyroll_used_ids (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
			id, rows.SinceNanos(expires))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	return fresh, err
}
