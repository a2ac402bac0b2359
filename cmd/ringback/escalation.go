package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ringback/ringback/connect"
	"github.com/ringback/ringback/ingress"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/store"
)

// escalationAckCmd takes an escalation over for its owner, as the link in the escalation text
// does: recorded in the tenant's audit log, then signalled to the conversation.
func escalationAckCmd(ctx context.Context, cfg config.Config, args []string, out, stderr io.Writer) error {
	fs := newFlags("escalation ack")
	workflowID := fs.String("workflow", "", "the conversation's workflow ID, conv/<tenant>/<caller HMAC>")
	escalationID := fs.Int64("escalation", 0, "the escalation's number")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tenant, ok := ingress.ConversationTenant(*workflowID)
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: escalation ack: unexpected argument %q", errUsage, fs.Arg(0))
	case !ok:
		return fmt.Errorf("%w: escalation ack: --workflow must be a conversation's workflow ID (conv/<tenant>/…)", errUsage)
	case *escalationID <= 0:
		return fmt.Errorf("%w: escalation ack: --escalation must be a positive number", errUsage)
	case cfg.DatabaseURL == "":
		return errors.New("DATABASE_URL is not set")
	case cfg.MasterKey == nil:
		// The acknowledgement travels as a payload sealed under the tenant's data key.
		return errors.New("escalation ack: RINGBACK_MASTER_KEY or RINGBACK_MASTER_KEY_FILE is not set")
	}
	conn, err := connect.Open(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Store.Tenant(ctx, tenant); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("escalation ack: no such tenant %s", tenant)
	} else if err != nil {
		return err
	}
	err = ingress.AcknowledgeEscalation(ctx, conn.Temporal, conn.Store, *workflowID, *escalationID, ingress.AckByOperator)
	if errors.Is(err, ingress.ErrConversationEnded) {
		return fmt.Errorf("escalation ack: %s: %w", *workflowID, err)
	}
	if err != nil {
		return fmt.Errorf("escalation ack: %w", err)
	}
	fmt.Fprintf(out, "acknowledged escalation %d of %s\n", *escalationID, *workflowID)
	return nil
}
