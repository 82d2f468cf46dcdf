package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keyroll/keyroll/store"
)

// Setting returns the value stored under name, or an error wrapping
// [store.ErrNotFound].
func (s *Store) Setting(ctx context.Context, name string) ([]byte, error) {
	return setting(ctx, s.r, name)
}

func setting(ctx context.Context, q querier, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM keyroll_settings WHERE name = ?`, name).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: setting %q", store.ErrNotFound, name)
	case err != nil:
		return nil, fmt.Errorf("sqlite: setting %q: %w", name, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// InitSetting stores value under name unless a value is there already, and
// returns the value stored afterwards.
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	if name == "" {
		return nil, errors.New("sqlite: empty setting name")
	}
	if value == nil {
		value = []byte{}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: setting %q: %w", name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO keyroll_settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return nil, fmt.Errorf("sqlite: setting %q: %w", name, err)
	}
	v, err := setting(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: setting %q: %w", name, err)
	}
	return v, nil
}
