-- The suppression list: callers who opted out of a tenant's texts, by HMAC only. It has no
-- foreign key to the caller's contact row on purpose: erasing a caller's data must leave their
-- opt-out in force (deleted callers stay opted out), and a new call or text does not lift it; only
-- the caller's own START does.
CREATE TABLE control.suppressions (
    tenant_id        text NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    phone_hash       text NOT NULL CHECK (phone_hash ~ '^[0-9a-f]{64}$'),
    opted_out_at     timestamptz NOT NULL,
    source_event_id  bigint NOT NULL REFERENCES control.consent_events (id),
    PRIMARY KEY (tenant_id, phone_hash)
);
