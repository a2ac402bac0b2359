package activities

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/store"
)

// TestTwoCallersRacingForOneSlotGetOneBooking: two conversations book the same open slot at the
// same moment; the database settles it, one caller gets the booking and the other a refusal the
// model can act on, with other open times.
func TestTwoCallersRacingForOneSlotGetOneBooking(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, ny) // a Friday; the default profile opens Mon–Fri 09–17
	slots, err := f.acts.FindSlots(ctx, FindSlotsInput{TenantID: f.tenant.ID, Service: "Appointment", Now: now})
	if err != nil || len(slots) == 0 {
		t.Fatalf("slots = %v, %v", slots, err)
	}
	slot := slots[0]

	callers := []string{"+16145550101", "+16145550102"}
	var convs []int64
	for i, c := range callers {
		id, err := f.store.OpenConversation(ctx, storeOpen(f.tenant.ID, c, fmt.Sprintf("run-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, id)
	}
	results := make([]BookResult, len(callers))
	errs := make([]error, len(callers))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = f.acts.BookAppointment(ctx, BookInput{
				TenantID: f.tenant.ID, ConversationID: convs[i], PhoneHash: hashOf(c), Service: "Appointment",
				Start: slot, Name: "Caller", RequestKey: fmt.Sprintf("race-%d", i), Now: now,
			})
		}()
	}
	close(start)
	wg.Wait()
	var booked, refused int
	for i := range callers {
		switch {
		case errs[i] != nil:
			t.Fatalf("caller %d: %v", i, errs[i])
		case results[i].Booked:
			booked++
		case results[i].Refusal != "":
			refused++
			if !strings.Contains(results[i].Refusal, "taken") || len(results[i].Alternatives) == 0 {
				t.Errorf("refusal %+v: the model needs the reason and other times", results[i])
			}
			for _, alt := range results[i].Alternatives {
				if alt.Equal(slot) {
					t.Errorf("the taken slot was offered as an alternative")
				}
			}
		}
	}
	if booked != 1 || refused != 1 {
		t.Fatalf("booked %d, refused %d: want exactly one booking", booked, refused)
	}
}

// TestBookAppointmentRefusesTimesTheCalendarDoesNot: the schedule's reason reaches the model.
func TestBookAppointmentRefusesTimesTheCalendarDoesNot(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ny, _ := time.LoadLocation("America/New_York")
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, ny)
	conv, err := f.store.OpenConversation(ctx, storeOpen(f.tenant.ID, caller, "run-1"))
	if err != nil {
		t.Fatal(err)
	}
	for start, want := range map[time.Time]string{
		time.Date(2026, 11, 23, 10, 15, 0, 0, ny): "grid",
		time.Date(2026, 11, 22, 10, 0, 0, 0, ny):  "Sunday",
		time.Date(2026, 11, 19, 10, 0, 0, 0, ny):  "past",
	} {
		res, err := f.acts.BookAppointment(ctx, BookInput{
			TenantID: f.tenant.ID, ConversationID: conv, PhoneHash: hashOf(caller), Service: "Appointment",
			Start: start, Name: "Dana", RequestKey: "k-" + start.String(), Now: now,
		})
		if err != nil || res.Booked || !strings.Contains(res.Refusal, want) {
			t.Errorf("%v: %+v, %v; want a refusal mentioning %q", start, res, err, want)
		}
	}
}

func storeOpen(tenantID, e164, firstRunID string) store.OpenConversation {
	return store.OpenConversation{
		TenantID: tenantID, PhoneE164: e164, PhoneHash: hashOf(e164), WorkflowID: "conv/" + tenantID + "/" + firstRunID,
		FirstRunID: firstRunID, Trigger: conversation.TriggerInboundSMS, Stage: conversation.StageOpening,
	}
}
