package keyring

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/store"
)

const tenantA, tenantB = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"

func newKeyring(t *testing.T, master string, st *store.Store) *Keyring {
	t.Helper()
	k, err := New([]byte(master), st)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var master = strings.Repeat("M", 32)

func TestFirstKeyIsCreatedOnceAcrossProcesses(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	// Two keyrings stand for two processes racing to create a tenant's first key.
	rings := []*Keyring{newKeyring(t, master, st), newKeyring(t, master, st)}
	keys := make([]codec.Key, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := rings[i%2].Current(ctx, tenantA)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k.ID != "aaaaaaaaaaaaaaaa/v1" || !bytes.Equal(k.Secret, keys[0].Secret) {
			t.Fatalf("processes disagree on the first key: %s vs %s", k.ID, keys[0].ID)
		}
	}
	rows, err := st.DataKeys(ctx, tenantA)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows = %d, %v", len(rows), err)
	}
	if bytes.Contains(rows[0].Wrapped, keys[0].Secret) || rows[0].MasterKeyID != MasterKeyID([]byte(master)) {
		t.Fatal("stored key is not wrapped under the master key")
	}
}

func TestRotationAndOldVersions(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	k := newKeyring(t, master, st)
	v1, err := k.Current(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := k.Rotate(ctx, tenantA)
	if err != nil || v2.ID != "aaaaaaaaaaaaaaaa/v2" || bytes.Equal(v1.Secret, v2.Secret) {
		t.Fatalf("rotate = %s, %v", v2.ID, err)
	}
	if cur, _ := k.Current(ctx, tenantA); cur.ID != v2.ID {
		t.Fatalf("current after rotation = %s", cur.ID)
	}
	// A process that never saw v2 finds it by ID, and old versions keep working.
	other := newKeyring(t, master, st)
	for _, want := range []codec.Key{v1, v2} {
		got, err := other.ByID(ctx, want.ID)
		if err != nil || !bytes.Equal(got.Secret, want.Secret) {
			t.Fatalf("ByID(%s) = %v", want.ID, err)
		}
	}
	if _, err := other.ByID(ctx, "aaaaaaaaaaaaaaaa/v3"); err == nil {
		t.Fatal("a version that does not exist was returned")
	}
	// Tenants have independent keys.
	b, _ := k.Current(ctx, tenantB)
	if b.ID != "bbbbbbbbbbbbbbbb/v1" || bytes.Equal(b.Secret, v1.Secret) {
		t.Fatalf("tenant B key = %s", b.ID)
	}
}

func TestDestroyShredsEverywhere(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	k := newKeyring(t, master, st)
	other := newKeyring(t, master, st)
	clock := time.Now()
	other.now = func() time.Time { return clock }
	v1, _ := k.Current(ctx, tenantA)
	if _, err := k.Rotate(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ByID(ctx, v1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Current(ctx, tenantB); err != nil {
		t.Fatal(err)
	}

	if err := k.Destroy(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func() error{
		func() error { _, err := k.ByID(ctx, v1.ID); return err },
		func() error { _, err := k.Current(ctx, tenantA); return err },
		func() error { _, err := k.Rotate(ctx, tenantA); return err },
	} {
		if err := f(); !errors.Is(err, codec.ErrKeyDestroyed) {
			t.Fatalf("after destroy: %v, want ErrKeyDestroyed", err)
		}
	}
	// Another process forgets the key once its cache entry expires.
	clock = clock.Add(DefaultCacheTTL + time.Second)
	if _, err := other.ByID(ctx, v1.ID); !errors.Is(err, codec.ErrKeyDestroyed) {
		t.Fatalf("other process after TTL: %v", err)
	}
	rows, _ := st.DataKeys(ctx, tenantA)
	for _, r := range rows {
		if r.Wrapped != nil || r.DestroyedAt == nil {
			t.Fatalf("version %d still stored", r.Version)
		}
	}
	if ok, err := st.InsertDataKey(ctx, tenantA, 9, []byte("x"), "m"); ok || err != nil {
		t.Fatalf("a shredded scope accepted a new key: %v %v", ok, err)
	}
	if _, err := k.Current(ctx, tenantB); err != nil {
		t.Fatalf("tenant B affected: %v", err)
	}
	// A scope destroyed before it ever had a key can never get one.
	if err := k.Destroy(ctx, "cccccccccccccccc"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Current(ctx, "cccccccccccccccc"); !errors.Is(err, codec.ErrKeyDestroyed) {
		t.Fatalf("never-keyed destroyed scope: %v", err)
	}
}

func TestWrongMasterKeyIsNamed(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	if _, err := newKeyring(t, master, st).Current(ctx, tenantA); err != nil {
		t.Fatal(err)
	}
	_, err := newKeyring(t, strings.Repeat("X", 32), st).ByID(ctx, "aaaaaaaaaaaaaaaa/v1")
	if err == nil || !strings.Contains(err.Error(), "wrapped under master key") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), master) {
		t.Fatal("error shows the master key")
	}
}

func TestInvalidInput(t *testing.T) {
	st := storetest.Open(t)
	if _, err := New([]byte("short"), st); err == nil {
		t.Fatal("short master key accepted")
	}
	k := newKeyring(t, master, st)
	for _, scope := range []string{"", "Control", "t_aaaaaaaaaaaaaaaa", "aaaa'; drop table"} {
		if _, err := k.Current(context.Background(), scope); err == nil {
			t.Errorf("scope %q accepted", scope)
		}
	}
}
