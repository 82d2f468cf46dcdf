package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/keyroll/keyroll/store"
)

// Setting returns the value stored under name, or an error wrapping
// [store.ErrNotFound].
func (s *Store) Setting(ctx context.Context, name string) (v []byte, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		v, err = setting(ctx, conn, name)
		return err
	})
	return v, settingErr(name, err)
}

// InitSetting stores value under name unless a value is there already, and
// returns the value stored afterwards.
func (s *Store) InitSetting(ctx context.Context, name string, value []byte) (v []byte, err error) {
	if name == "" {
		return nil, errors.New("postgres: empty setting name")
	}
	if value == nil {
		value = []byte{}
	}
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		// Two statements, not one: under READ COMMITTED the SELECT takes a
		// new snapshot, so it sees a value a racing writer committed while
		// the INSERT waited for it.
		if _, err := conn.Exec(ctx, `INSERT INTO keyroll_settings (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		v, err = setting(ctx, conn, name)
		return err
	})
	return v, settingErr(name, err)
}

func setting(ctx context.Context, q querier, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRow(ctx, `SELECT value FROM keyroll_settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: setting %q", store.ErrNotFound, name)
	}
	if err == nil && v == nil {
		v = []byte{}
	}
	return v, err
}

func settingErr(name string, err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return err
	}
	return fmt.Errorf("postgres: setting %q: %w", name, err)
}
