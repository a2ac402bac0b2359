// Package storetest gives tests outside the store package a ready store: a fresh database,
// migrated, with the audit signer set, closed when the test ends. (The store's own tests cannot
// use it: it imports store.)
package storetest

import (
	"context"
	"testing"

	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
)

// Open returns a migrated store on a fresh test database.
func Open(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	st.SetAuditSigner(testenv.AuditSigner(t))
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
