// Package activities holds every side effect the workflows perform. Activities is a struct whose
// fields are its dependencies, each a narrow interface defined here, so tests pass small fakes and
// the worker passes the real store and SMS sender.
package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/activities/sms"
	"github.com/ringback/ringback/internal/agent"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/quiethours"
	"github.com/ringback/ringback/internal/schedule"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// Store is the persistence the activities need.
type Store interface {
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	TenantOwnerContact(ctx context.Context, id string) (store.OwnerContact, error)
	Restricted(ctx context.Context, tenantID, phoneHash string) (bool, store.RestrictionKind, error)
	OpenConversation(ctx context.Context, in store.OpenConversation) (int64, error)
	RecordMissedCall(ctx context.Context, in store.MissedCall) (owner int64, err error)
	RecordInbound(ctx context.Context, in store.InboundMessage) (stored bool, err error)
	SetConversationStage(ctx context.Context, tenantID string, conversationID int64, stage conversation.Stage, closedAt *time.Time) error
	ClaimOutbox(ctx context.Context, key, tenantID, recipientHash string) (store.OutboxEntry, error)
	CompleteOutbox(ctx context.Context, m store.SentMessage) error
	FailOutbox(ctx context.Context, key, reason string) error
	SendBlocks(ctx context.Context, tenantID, phoneHash string) (store.SendBlock, error)
	SentTexts(ctx context.Context, tenantID, recipientHash string, since time.Time) ([]time.Time, error)
	RecentMessages(ctx context.Context, tenantID string, conversationID int64, limit int) ([]store.ConversationMessage, error)
	OtherTenants(ctx context.Context, exceptID string) ([]store.OtherTenant, error)
	TenantProfile(ctx context.Context, tenantID string) (tenantspec.Profile, error)
	BusyIntervals(ctx context.Context, tenantID string, from, to time.Time) ([]schedule.Interval, error)
	UpcomingBookings(ctx context.Context, tenantID, phoneHash string, now time.Time) ([]store.Booking, error)
	Book(ctx context.Context, in store.Booking) (store.Booking, error)
	RescheduleBooking(ctx context.Context, c store.BookingChange, start, end time.Time) (store.Booking, error)
	CancelBooking(ctx context.Context, c store.BookingChange) (store.Booking, error)
	RecordEscalation(ctx context.Context, tenantID string, conversationID int64, reason, requestKey string) (int64, error)
	MarkEscalation(ctx context.Context, tenantID string, id int64, event store.EscalationEvent, at time.Time) error
	TenantWebhook(ctx context.Context, keys codec.Keys, tenantID string) (store.TenantWebhook, error)
}

// Activities is registered with the worker as one struct; workflows reference its methods through
// a typed nil pointer so a renamed activity is a compile error.
type Activities struct {
	Store Store
	SMS   sms.Sender
	// Hasher turns staff phone numbers into the outbox's recipient keys.
	Hasher *phone.Hasher
	// AckKey signs the acknowledgement links in escalation texts; PublicURL is where they point.
	AckKey    []byte
	PublicURL string
	// Webhooks delivers tenant webhook events; Keys opens their stored signing secrets.
	Webhooks WebhookSender
	Keys     codec.Keys
	// Model answers conversation turns; nil means none is configured and the scripted flow
	// answers every turn.
	Model ModelClient
	// Now is the clock for timestamps the activities record; nil means time.Now.
	Now func() time.Time
	// IgnoreQuietHours sends at any hour. Only the dev sandbox (texts that reach no phone) and
	// tests that run at whatever hour the machine's clock says may set it; configuration refuses
	// it anywhere else.
	IgnoreQuietHours bool
}

// Error types that workflows can branch on.
const (
	ErrTypeTenantNotFound = "TenantNotFound"
	ErrTypeSMSRejected    = "SMSRejected"
)

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// TenantProfile is what a conversation needs to know about the business.
type TenantProfile struct {
	TenantID     string
	Name         string
	Timezone     string
	GreetingText string
	// Active is false for a tenant that is closing or closed: its callers are not texted.
	Active bool
	// Numbers are the business's own numbers, which replies may quote.
	Numbers []string
	// Business is what the assistant may tell callers: services, prices, hours, closures, tone.
	Business agent.Business
	// EscalationTimeout is how long an escalation waits for the owner before the backup contact
	// is texted; HasBackup says whether there is one.
	EscalationTimeout time.Duration
	HasBackup         bool
	// FollowUpAfter is the caller's silence after which one follow-up goes out; zero for none.
	FollowUpAfter time.Duration
	// WindowStart and WindowEnd are the owner's narrower texting window; zero for the legal one.
	WindowStart, WindowEnd quiethours.Clock
}

// LoadTenantProfile reads the tenant's current profile.
func (a *Activities) LoadTenantProfile(ctx context.Context, tenantID string) (TenantProfile, error) {
	t, err := a.Store.Tenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return TenantProfile{}, temporal.NewNonRetryableApplicationError("tenant not found", ErrTypeTenantNotFound, nil)
	}
	if err != nil {
		return TenantProfile{}, err
	}
	p, err := a.Store.TenantProfile(ctx, tenantID)
	if err != nil {
		return TenantProfile{}, err
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return TenantProfile{}, temporal.NewNonRetryableApplicationError("tenant time zone: "+err.Error(), "InvalidTenantProfile", nil)
	}
	cal, err := p.Calendar(loc)
	if err != nil {
		return TenantProfile{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidTenantProfile", nil)
	}
	b := agent.Business{
		Name: t.Name, Tone: p.Tone, Timezone: t.Timezone,
		HoursText: schedule.DescribeHours(cal.Hours), Closures: cal.UpcomingClosures(a.now()),
	}
	for _, sv := range p.Services {
		b.Services = append(b.Services, agent.Service{Name: sv.Name, Minutes: sv.Minutes, PriceCents: sv.PriceCents, Description: sv.Description})
	}
	out := TenantProfile{
		TenantID: t.ID, Name: t.Name, Timezone: t.Timezone, GreetingText: t.GreetingText,
		Active: t.Status == store.TenantStatusActive, Numbers: t.Numbers, Business: b,
		EscalationTimeout: p.EscalationTimeout(), HasBackup: p.BackupPhone != "", FollowUpAfter: p.FollowUpAfter(),
	}
	if p.TextingWindow != "" {
		sp, err := schedule.ParseSpan(p.TextingWindow)
		if err != nil {
			return TenantProfile{}, temporal.NewNonRetryableApplicationError("texting window: "+err.Error(), "InvalidTenantProfile", nil)
		}
		// Only the part that narrows the legal window matters; the zero Clock means "legal".
		if sp.Open > 8*60 {
			out.WindowStart = quiethours.At(int(sp.Open)/60, int(sp.Open)%60)
		}
		if sp.Close < 21*60 {
			out.WindowEnd = quiethours.At(int(sp.Close)/60, int(sp.Close)%60)
		}
	}
	return out, nil
}

// OpenConversationInput opens (or finds) the conversation row for a workflow chain.
type OpenConversationInput struct {
	TenantID  string
	Caller    string // E.164
	PhoneHash string
	Trigger   conversation.Trigger
	Stage     conversation.Stage
	// FirstRunID is the workflow's first run, which continue-as-new preserves.
	FirstRunID string
}

// OpenConversation records the contact and conversation, keyed by workflow ID and first run ID so
// a retried call always lands on the same row.
func (a *Activities) OpenConversation(ctx context.Context, in OpenConversationInput) (int64, error) {
	info := activity.GetInfo(ctx)
	return a.Store.OpenConversation(ctx, store.OpenConversation{
		TenantID:   in.TenantID,
		PhoneE164:  in.Caller,
		PhoneHash:  in.PhoneHash,
		WorkflowID: info.WorkflowExecution.ID,
		FirstRunID: in.FirstRunID,
		Trigger:    in.Trigger,
		Stage:      in.Stage,
	})
}

// RecordMissedCallInput is one missed call to store.
type RecordMissedCallInput struct {
	TenantID       string
	ConversationID int64
	PhoneHash      string
	CallSid        string
	Status         string
	OccurredAt     time.Time
}

// RecordMissedCallResult says whether the call was new to this conversation.
type RecordMissedCallResult struct {
	// HandledElsewhere is true when an earlier conversation already recorded this CallSid: Twilio
	// retried the webhook after that conversation ended, and nobody should be texted again.
	HandledElsewhere bool
}

// RecordMissedCall stores the call and the caller's implied consent.
func (a *Activities) RecordMissedCall(ctx context.Context, in RecordMissedCallInput) (RecordMissedCallResult, error) {
	owner, err := a.Store.RecordMissedCall(ctx, store.MissedCall{
		TenantID: in.TenantID, ConversationID: in.ConversationID, PhoneHash: in.PhoneHash,
		CallSid: in.CallSid, Status: in.Status, OccurredAt: in.OccurredAt,
	})
	if err != nil {
		return RecordMissedCallResult{}, err
	}
	return RecordMissedCallResult{HandledElsewhere: owner != in.ConversationID}, nil
}

// RecordInboundInput is one inbound SMS to store.
type RecordInboundInput struct {
	TenantID       string
	ConversationID int64
	PhoneHash      string
	MessageSid     string
	Body           string
	NumMedia       int
	ReceivedAt     time.Time
}

// RecordInbound stores an inbound message once per MessageSid.
func (a *Activities) RecordInbound(ctx context.Context, in RecordInboundInput) (bool, error) {
	return a.Store.RecordInbound(ctx, store.InboundMessage{
		TenantID: in.TenantID, ConversationID: in.ConversationID, PhoneHash: in.PhoneHash,
		MessageSid: in.MessageSid, Body: in.Body, NumMedia: in.NumMedia, ReceivedAt: in.ReceivedAt,
	})
}

// SetStageInput records a conversation's stage.
type SetStageInput struct {
	TenantID       string
	ConversationID int64
	Stage          conversation.Stage
	Closed         bool
}

// SetConversationStage mirrors the workflow's stage into the conversation row.
func (a *Activities) SetConversationStage(ctx context.Context, in SetStageInput) error {
	var closedAt *time.Time
	if in.Closed {
		t := a.now()
		closedAt = &t
	}
	return a.Store.SetConversationStage(ctx, in.TenantID, in.ConversationID, in.Stage, closedAt)
}

// SendSMSInput is one outbound text.
type SendSMSInput struct {
	TenantID       string
	ConversationID int64
	From           string
	To             string
	PhoneHash      string
	Body           string
	// Step names the send within its workflow ("first-text", "reply-3"); with the workflow ID it
	// forms the idempotency key.
	Step string
	// FirstRunID is the workflow's first run (kept across continue-as-new). A caller's next
	// conversation reuses the workflow ID, so the run is what tells its texts from the last one's.
	FirstRunID string
	// ConsentReply marks the one confirmation a STOP, START or HELP earns: it goes out even to a
	// caller who has just opted out, and at any hour, as the direct answer to the caller's own
	// text. Every other text is checked against the suppression list and the quiet hours.
	ConsentReply bool
	// StaffAlert marks a text to the business's own staff (an escalation): they are not the
	// callers the consent ledger and quiet hours protect, and an emergency cannot wait for 08:00.
	StaffAlert bool
	// TenantTimezone locates a recipient whose number does not (toll-free, foreign); required
	// unless ConsentReply.
	TenantTimezone string
}

// SendSMSResult reports the provider's ID for the text.
type SendSMSResult struct {
	ProviderMessageID string
	// AlreadySent is true when an earlier attempt had completed the send.
	AlreadySent bool
	// Suppressed is true when nothing was sent because the caller opted out.
	Suppressed bool
	// Restricted is set with Suppressed when the recipient restricted or objected to processing.
	Restricted bool
	// NotBefore is set when nothing was sent because the recipient's quiet hours had begun (a
	// send retried past 21:00): the workflow sleeps until then and tries again.
	NotBefore time.Time
}

// SendSMS sends a text at most once per (workflow, step). It claims an outbox row first; a row
// already marked sent short-circuits the retry.
func (a *Activities) SendSMS(ctx context.Context, in SendSMSInput) (SendSMSResult, error) {
	if in.Step == "" || in.FirstRunID == "" {
		return SendSMSResult{}, temporal.NewNonRetryableApplicationError("send sms: step and first run id are required", "InvalidInput", nil)
	}
	// The workflow waits for the window before it schedules a send, but a send retried through a
	// provider outage can drift past 21:00; the clock is checked again here, by the hour the text
	// would actually leave.
	if !in.ConsentReply && !in.StaffAlert && !a.IgnoreQuietHours {
		d, err := quiethours.Next(a.now(), in.To, quiethours.Policy{TenantTimezone: in.TenantTimezone})
		if err != nil {
			return SendSMSResult{}, temporal.NewNonRetryableApplicationError("send sms: "+err.Error(), "InvalidInput", nil)
		}
		if !d.Allowed {
			return SendSMSResult{NotBefore: d.At}, nil
		}
	}
	key := IdempotencyKey(activity.GetInfo(ctx).WorkflowExecution.ID, in.FirstRunID, in.Step)
	entry, err := a.Store.ClaimOutbox(ctx, key, in.TenantID, in.PhoneHash)
	if err != nil {
		return SendSMSResult{}, err
	}
	switch entry.Status {
	case store.OutboxSent:
		return SendSMSResult{ProviderMessageID: entry.ProviderMessageID, AlreadySent: true}, nil
	case store.OutboxFailed:
		return SendSMSResult{}, temporal.NewNonRetryableApplicationError("send sms: rejected earlier", ErrTypeSMSRejected, nil)
	}
	msg := sms.Message{TenantID: in.TenantID, From: in.From, To: in.To, Body: in.Body, IdempotencyKey: key}
	// A pending row claimed before means an earlier attempt may have reached the provider and
	// been lost before it was recorded: ask the provider before sending again.
	if finder, ok := a.SMS.(sms.Finder); ok && entry.Attempts > 1 {
		id, found, err := finder.Find(ctx, msg, entry.ClaimedAt)
		if err != nil {
			return SendSMSResult{}, err
		}
		if found {
			if err := a.Store.CompleteOutbox(ctx, store.SentMessage{
				Key: key, TenantID: in.TenantID, ConversationID: in.ConversationID, Body: in.Body,
				ProviderMessageID: id, SentAt: a.now(),
			}); err != nil {
				return SendSMSResult{}, err
			}
			return SendSMSResult{ProviderMessageID: id, AlreadySent: true}, nil
		}
	}
	// Consent is checked here, at the last moment before the provider call, so a STOP that
	// arrived while the workflow slept or an AI turn ran always wins.
	if !in.ConsentReply && !in.StaffAlert {
		// A restriction or objection (a data-subject request) stops every text that is not
		// required, as an opt-out does.
		block, err := a.Store.SendBlocks(ctx, in.TenantID, in.PhoneHash)
		if err != nil {
			return SendSMSResult{}, err
		}
		if block.Suppressed || block.Restricted {
			reason := "recipient opted out"
			if !block.Suppressed {
				reason = "processing restricted"
			}
			if err := a.Store.FailOutbox(ctx, key, reason); err != nil {
				return SendSMSResult{}, err
			}
			return SendSMSResult{Suppressed: true, Restricted: block.Restricted && !block.Suppressed}, nil
		}
	}
	id, err := a.SMS.Send(ctx, msg)
	if err != nil {
		var perm *sms.PermanentError
		if errors.As(err, &perm) {
			if ferr := a.Store.FailOutbox(ctx, key, perm.Error()); ferr != nil {
				return SendSMSResult{}, ferr
			}
			return SendSMSResult{}, temporal.NewNonRetryableApplicationError(perm.Error(), ErrTypeSMSRejected, nil)
		}
		return SendSMSResult{}, fmt.Errorf("send sms: %w", err)
	}
	if err := a.Store.CompleteOutbox(ctx, store.SentMessage{
		Key: key, TenantID: in.TenantID, ConversationID: in.ConversationID, Body: in.Body,
		ProviderMessageID: id, SentAt: a.now(),
	}); err != nil {
		return SendSMSResult{}, err
	}
	return SendSMSResult{ProviderMessageID: id}, nil
}

// IdempotencyKey is the outbox key for a step of one workflow chain (a workflow ID and its first
// run), stable across retries and continue-as-new and distinct for every conversation.
func IdempotencyKey(workflowID, firstRunID, step string) string {
	return workflowID + "/" + firstRunID + "#" + step
}

// SendPolicyInput asks how automated texts to one recipient are limited right now.
type SendPolicyInput struct {
	TenantID  string
	PhoneHash string
	// Now is the workflow's clock, so a workflow test's skipped time and the real clock agree.
	Now time.Time
}

// SendPolicy is what the workflow needs, besides the recipient's number and the tenant's zone, to
// compute the next allowed send time with quiethours.Next.
type SendPolicy struct {
	// Enforce is false only where configuration allowed texts at any hour.
	Enforce bool
	// SentInLast24h are the texts the provider accepted for this recipient in the 24 hours
	// before Now, for the state rules that cap them.
	SentInLast24h []time.Time
}

// LoadSendPolicy reads the recipient's recent texts. It runs as a local activity before every
// automated text.
func (a *Activities) LoadSendPolicy(ctx context.Context, in SendPolicyInput) (SendPolicy, error) {
	if a.IgnoreQuietHours {
		return SendPolicy{}, nil
	}
	sent, err := a.Store.SentTexts(ctx, in.TenantID, in.PhoneHash, in.Now.Add(-24*time.Hour))
	if err != nil {
		return SendPolicy{}, err
	}
	return SendPolicy{Enforce: true, SentInLast24h: sent}, nil
}
