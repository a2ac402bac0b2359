package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/internal/optout"
)

// SignalOptedOut tells a running conversation that its caller opted out: it sends nothing more
// and closes.
const SignalOptedOut = "opted-out"

// ConsentReplyInput is the one reply a STOP, START or HELP earns.
type ConsentReplyInput struct {
	TenantID       string
	Caller         string
	CallerHash     string
	BusinessNumber string
	Kind           optout.Kind
}

// ConsentReplyWorkflowID keys the reply by the message that asked for it, so a webhook Twilio
// retries never earns a second reply.
func ConsentReplyWorkflowID(tenantID, callerHash, messageSid string) (string, error) {
	if tenantID == "" || len(callerHash) < callerHashPrefix || messageSid == "" {
		return "", fmt.Errorf("consent reply workflow id: need a tenant id, a caller hash and a message sid")
	}
	return "consent/" + tenantID + "/" + callerHash[:callerHashPrefix] + "/" + messageSid, nil
}

// ConsentReply sends the single confirmation of an opt-out or opt-in, or the HELP answer. The
// consent change itself was recorded by the webhook before it answered Twilio; this workflow
// only makes the reply durable and sends it at most once.
func ConsentReply(ctx workflow.Context, in ConsentReplyInput) error {
	if in.Kind == optout.None {
		return temporal.NewNonRetryableApplicationError("consent reply: nothing to reply to", "InvalidInput", nil)
	}
	var profile activities.TenantProfile
	if err := workflow.ExecuteActivity(storeOptions(ctx), acts.LoadTenantProfile, in.TenantID).Get(ctx, &profile); err != nil {
		return err
	}
	// A reply nobody receives within a day is no longer an answer to anything.
	opts := workflow.GetActivityOptions(smsOptions(ctx))
	opts.ScheduleToCloseTimeout = 24 * time.Hour
	sendCtx := workflow.WithActivityOptions(ctx, opts)
	return workflow.ExecuteActivity(sendCtx, acts.SendSMS, activities.SendSMSInput{
		TenantID: in.TenantID, From: in.BusinessNumber, To: in.Caller, PhoneHash: in.CallerHash,
		Body: optout.Confirmation(in.Kind, profile.Name), Step: "consent-reply", ConsentReply: true,
		FirstRunID: firstRunID(ctx),
	}).Get(ctx, nil)
}
