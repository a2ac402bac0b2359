package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/store"
)

// Owner notices about the account itself, as opposed to one conversation.
const (
	NoticeClosureStarted = "closure_started"
	NoticeDeletionSoon   = "deletion_soon"
	NoticeReactivated    = "reactivated"
	NoticeErased         = "erased"
)

// OwnerNoticeInput asks for one text to the business owner.
type OwnerNoticeInput struct {
	TenantID string
	Kind     string
	// DeleteAt is when the account's data is erased (closure notices).
	DeleteAt time.Time
	// Step names the notice within its workflow, for the outbox key.
	Step       string
	FirstRunID string
}

// OwnerNoticeResult reports whether a text went out.
type OwnerNoticeResult struct {
	Sent bool
	// NoContact is true when the tenant has no number to text from or no owner phone.
	NoContact bool
}

// NotifyOwner texts the business owner about their account, from the business's own number. The
// owner is not a caller the quiet hours protect, and a deletion date is not news that should wait.
func (a *Activities) NotifyOwner(ctx context.Context, in OwnerNoticeInput) (OwnerNoticeResult, error) {
	if a.Hasher == nil {
		return OwnerNoticeResult{}, temporal.NewNonRetryableApplicationError("notify owner: no phone hasher configured", "Misconfigured", nil)
	}
	c, err := a.Store.TenantOwnerContact(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return OwnerNoticeResult{}, temporal.NewNonRetryableApplicationError("tenant not found", ErrTypeTenantNotFound, nil)
	}
	if err != nil {
		return OwnerNoticeResult{}, err
	}
	if c.From == "" || c.OwnerPhone == "" {
		return OwnerNoticeResult{NoContact: true}, nil
	}
	body, err := OwnerNoticeText(in.Kind, c.Name, in.DeleteAt, c.Timezone)
	if err != nil {
		return OwnerNoticeResult{}, temporal.NewNonRetryableApplicationError("notify owner: "+err.Error(), "InvalidInput", nil)
	}
	res, err := a.SendSMS(ctx, SendSMSInput{
		TenantID: in.TenantID, From: c.From, To: c.OwnerPhone, PhoneHash: a.Hasher.Hash(c.OwnerPhone),
		Body: body, Step: in.Step, FirstRunID: in.FirstRunID, StaffAlert: true,
	})
	if err != nil {
		return OwnerNoticeResult{}, err
	}
	return OwnerNoticeResult{Sent: !res.Suppressed}, nil
}

// OwnerNoticeText words each notice; dates are the owner's local calendar day.
func OwnerNoticeText(kind, business string, deleteAt time.Time, timezone string) (string, error) {
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		loc = time.UTC
	}
	date := deleteAt.In(loc).Format("January 2, 2006")
	switch kind {
	case NoticeClosureStarted:
		return fmt.Sprintf("Ringback: the account of %s is closed and missed calls are no longer answered. "+
			"Your data is kept until %s so you can reactivate or export it; after that it is permanently deleted. "+
			"Contact Ringback support to reactivate.", business, date), nil
	case NoticeDeletionSoon:
		return fmt.Sprintf("Ringback: the data of %s will be permanently deleted on %s. "+
			"Contact Ringback support before then to reactivate or export it.", business, date), nil
	case NoticeReactivated:
		return fmt.Sprintf("Ringback: welcome back. The account of %s is active again and missed calls are answered.", business), nil
	case NoticeErased:
		return fmt.Sprintf("Ringback: the data of %s has been permanently deleted: conversations, callers, bookings "+
			"and settings. Billing records are kept as the law requires.", business), nil
	}
	return "", fmt.Errorf("unknown notice %q", kind)
}
