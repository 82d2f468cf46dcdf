package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backoff between attempts to re-establish a lost LISTEN connection.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// Watch reports changes committed by any Store on this database and schema,
// this one included. The channel (buffer 1; signals coalesce) receives a
// value after each committed Update and after the listening connection has
// been lost and re-established, since changes may have been missed
// meanwhile. It is closed when ctx ends or the Store is closed.
func (s *Store) Watch(ctx context.Context) (<-chan struct{}, error) {
	l, err := s.listen(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: watch: %w", err)
	}
	ch := make(chan struct{}, 1)
	s.watchers.Add(1)
	go func() {
		defer s.watchers.Done()
		defer close(ch)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(s.life, cancel)()
		s.watch(ctx, l, ch)
	}()
	return ch, nil
}

// listener is a dedicated connection that has run LISTEN.
type listener struct {
	conn   *pgx.Conn
	schema string // notifications carry the schema of the writer
}

func (s *Store) listen(ctx context.Context) (*listener, error) {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return nil, err
	}
	l := &listener{conn: conn}
	if err := conn.QueryRow(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&l.schema); err != nil {
		closeConn(conn)
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN keyroll_keys`); err != nil {
		closeConn(conn)
		return nil, err
	}
	return l, nil
}

// watch forwards notifications until ctx ends, reconnecting as needed.
func (s *Store) watch(ctx context.Context, l *listener, ch chan<- struct{}) {
	for {
		l.forward(ctx, ch)
		closeConn(l.conn)
		if l = s.relisten(ctx); l == nil {
			return
		}
		signal(ch)
	}
}

// forward signals ch for each notification about l's schema until the
// connection fails or ctx ends.
func (l *listener) forward(ctx context.Context, ch chan<- struct{}) {
	for {
		n, err := l.conn.WaitForNotification(ctx)
		if err != nil {
			return
		}
		if n.Payload == l.schema {
			signal(ch)
		}
	}
}

// relisten retries listen with exponential backoff; nil when ctx ends.
func (s *Store) relisten(ctx context.Context) *listener {
	for wait := minBackoff; ; wait = min(2*wait, maxBackoff) {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if l, err := s.listen(ctx); err == nil {
			return l
		}
	}
}

// signal sends on ch unless a signal is already pending.
func signal(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// closeConn closes a dedicated connection, waiting a bounded time for the
// server to hear it.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Close(ctx)
}
