package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

var subjectBenchMessages = flag.Int("subject-bench-messages", 1_000_000,
	"BenchmarkSubjectData: messages of other callers in the tenant, ten per conversation")

// BenchmarkSubjectData reads one caller with 1,000 messages out of a tenant holding
// -subject-bench-messages messages of other callers (storetest.SeedBusyTenant). The target is
// 200 ms per export; make bench reports it with the export built. Seeding a million messages
// takes a minute or two.
//
//	go test -run '^$' -bench SubjectData -benchtime 20x ./store/
func BenchmarkSubjectData(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b)
	tn, err := s.CreateTenant(ctx, tenantspec.Spec{Name: "Busy Salon", Numbers: []string{"+16145550160"},
		Timezone: "America/New_York", OwnerPhone: "+16145550199"})
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("+16145550123"))
	sub := store.Subject{TenantID: tn.ID, PhoneE164: "+16145550123", PhoneHash: hex.EncodeToString(sum[:])}
	start := time.Now()
	if err := storetest.SeedBusyTenant(ctx, s, sub, *subjectBenchMessages); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d messages of others in %s", *subjectBenchMessages, time.Since(start).Round(time.Second))

	b.ResetTimer()
	for b.Loop() {
		rec, err := s.SubjectData(ctx, sub)
		if err != nil {
			b.Fatal(err)
		}
		if len(rec.Messages) != storetest.SubjectMessages || len(rec.Calls) != storetest.SubjectCalls ||
			len(rec.ConsentEvents) != storetest.SubjectConsentEvents {
			b.Fatalf("read %d messages, %d calls, %d consent events", len(rec.Messages), len(rec.Calls), len(rec.ConsentEvents))
		}
	}
}
