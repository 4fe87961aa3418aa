package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Execer is what [Migrate] needs: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Migrate creates the table DefaultTable and its index if they do not
// exist. It is idempotent and safe to run concurrently from many replicas.
// For a table named in Config, use [Store.Migrate].
func Migrate(ctx context.Context, db Execer) error {
	return migrate(ctx, db, newStatements(DefaultTable))
}

// Migrate creates the store's table and its index if they do not exist. It
// is idempotent and safe to run concurrently from many replicas.
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.pool, s.sql)
}

func migrate(ctx context.Context, db Execer, sql statements) error {
	// Without arguments pgx sends the statements as one simple-protocol
	// message, which PostgreSQL runs as one transaction.
	if _, err := db.Exec(ctx, sql.migrate); err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}
