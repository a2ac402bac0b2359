package activities

import (
	"context"
	"errors"
	"time"

	"github.com/ringback/ringback/activities/model"
	"github.com/ringback/ringback/internal/agent"
	"github.com/ringback/ringback/internal/guard"
)

// ModelClient asks a language model for a conversation's next reply (activities/model.Client).
type ModelClient interface {
	Complete(ctx context.Context, req model.Request) (model.Reply, error)
}

// HistoryLimit bounds the stored texts a model turn sees. With the system prompt and one turn's
// tool calls it keeps every request well inside a small local model's context.
const HistoryLimit = 20

// ModelTurnInput asks for the model's next step in a conversation.
type ModelTurnInput struct {
	TenantID       string
	ConversationID int64
	// Caller is the caller's E.164 number: the outbound guard lets a reply quote it, and nobody
	// else's.
	Caller          string
	BusinessNumbers []string
	Business        agent.Business
	// Now is the workflow's clock, for "today" in the prompt.
	Now time.Time
	// Turn is this turn so far: the model's tool calls and their results, after the stored texts.
	Turn []model.Message
	// KnownNames are names the conversation has learned, so the fallback sees them masked.
	KnownNames []string
	// ToolsAllowed is false when the caller's text looked like an attempt to steer the model:
	// it may still answer, but it cannot act.
	ToolsAllowed bool
}

// ModelTurnResult is the model's answer, already checked by the outbound guard.
type ModelTurnResult struct {
	Content   string
	ToolCalls []model.ToolCall
	// Source is model.SourcePrimary or model.SourceFallback.
	Source string
	// Unavailable is true when no model answered; the workflow's scripted flow takes the turn.
	Unavailable bool
	// Blocked is true when the outbound guard stopped Content; BlockReasons says why.
	Blocked      bool
	BlockReasons []string
	// Restricted is true when the caller restricted or objected to processing (a data-subject
	// request): the model was not asked, and nothing may be sent.
	Restricted bool
}

// ModelTurn runs one model request for the conversation: the system prompt built from the
// business's facts, the last HistoryLimit texts, this turn's tool calls and results. A model that
// does not answer is a result (Unavailable), not an error, so the workflow can fall back to the
// scripted flow at once instead of retrying for minutes while the caller waits.
func (a *Activities) ModelTurn(ctx context.Context, in ModelTurnInput) (ModelTurnResult, error) {
	// Checked before anything reads the caller's texts: a restriction stops AI processing itself,
	// not only its replies.
	if a.Hasher != nil {
		restricted, _, err := a.Store.Restricted(ctx, in.TenantID, a.Hasher.Hash(in.Caller))
		if err != nil {
			return ModelTurnResult{}, err
		}
		if restricted {
			return ModelTurnResult{Restricted: true}, nil
		}
	}
	if a.Model == nil {
		return ModelTurnResult{Unavailable: true}, nil
	}
	history, err := a.Store.RecentMessages(ctx, in.TenantID, in.ConversationID, HistoryLimit)
	if err != nil {
		return ModelTurnResult{}, err
	}
	system := agent.SystemPrompt(in.Business, in.Now)
	msgs := make([]model.Message, 0, len(history)+len(in.Turn)+1)
	msgs = append(msgs, model.Message{Role: model.RoleSystem, Content: system})
	for _, m := range history {
		role := model.RoleAssistant
		if m.Inbound {
			role = model.RoleUser
		}
		msgs = append(msgs, model.Message{Role: role, Content: m.Body})
	}
	msgs = append(msgs, in.Turn...)
	req := model.Request{Messages: msgs, KnownNames: in.KnownNames, Region: "US"}
	if in.ToolsAllowed {
		for _, t := range agent.Tools() {
			req.Tools = append(req.Tools, model.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
		}
	}
	reply, err := a.Model.Complete(ctx, req)
	if errors.Is(err, model.ErrUnavailable) {
		return ModelTurnResult{Unavailable: true}, nil
	}
	if err != nil {
		return ModelTurnResult{}, err
	}
	res := ModelTurnResult{Content: reply.Content, ToolCalls: reply.ToolCalls, Source: reply.Source}
	if !in.ToolsAllowed {
		// A model may call tools it was not offered; nothing it was not given may happen.
		res.ToolCalls = nil
	}
	if res.Content == "" {
		return res, nil
	}
	others, err := a.Store.OtherTenants(ctx, in.TenantID)
	if err != nil {
		return ModelTurnResult{}, err
	}
	gctx := guard.OutboundContext{
		CallerNumber: in.Caller, KnownNames: in.KnownNames,
		BusinessName: in.Business.Name, BusinessNumbers: in.BusinessNumbers,
		SystemPrompt: system, PublicFacts: agent.PublicFacts(in.Business),
	}
	for _, o := range others {
		gctx.OtherTenants = append(gctx.OtherTenants, guard.OtherTenant{Name: o.Name, Numbers: o.Numbers})
	}
	if v := guard.Outbound(res.Content, gctx); !v.Allowed {
		res.Blocked, res.BlockReasons = true, v.Reasons
		res.Content = ""
	}
	return res, nil
}
