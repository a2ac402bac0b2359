-- The tamper-evident audit log (see internal/auditlog): one Merkle-tree log per tenant and one
-- for the control plane ('control'). It lives in the control schema with no foreign key to
-- control.tenants, so it outlives the erasure of the tenants it describes.
--
-- The triggers below make the tables append-only for every ordinary session. They do not stop a
-- superuser who switches them off; the signed checkpoints make such a change detectable, and
-- `ringback audit verify` detects it.

-- One row per log. Each append locks its log's row, which serialises appends to one log while
-- leaving other logs free.
CREATE TABLE control.audit_logs (
    log_id      text PRIMARY KEY CHECK (log_id = 'control' OR log_id ~ '^[a-z2-7]{16}$'),
    size        bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE control.audit_entries (
    log_id       text NOT NULL REFERENCES control.audit_logs (log_id),
    idx          bigint NOT NULL CHECK (idx >= 0),
    event_id     text NOT NULL,
    actor        text NOT NULL,
    action       text NOT NULL,
    -- An HMAC of whatever the event concerns, never a raw identifier.
    subject      text NOT NULL CHECK (subject = '' OR subject ~ '^[0-9a-f]{16,128}$'),
    occurred_at  timestamptz NOT NULL,
    -- The canonical payload. json, unlike jsonb, keeps the text exactly as hashed. NULL once
    -- retention has removed it.
    payload      json,
    -- The canonical record (all the above, the payload by its SHA-256): the bytes whose hash is
    -- this entry's leaf. It holds no payload, so it is kept when the payload goes.
    record       bytea NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, idx),
    UNIQUE (log_id, event_id)
);
-- Retention sweeps look for old entries that still have a payload.
CREATE INDEX audit_entries_retention ON control.audit_entries (occurred_at) WHERE payload IS NOT NULL;
-- Access requests ask what was done about one person.
CREATE INDEX audit_entries_subject ON control.audit_entries (log_id, subject) WHERE subject <> '';

-- The Merkle tree's stored hashes (golang.org/x/mod/sumdb/tlog), by stored hash index: each
-- append adds the new leaf and the subtrees it completes, on average two rows.
CREATE TABLE control.audit_hashes (
    log_id  text NOT NULL REFERENCES control.audit_logs (log_id),
    idx     bigint NOT NULL CHECK (idx >= 0),
    hash    bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (log_id, idx)
);

-- A signed note after every append: "ringback audit <log>\n<size>\n<root>\n" plus signature.
-- Every one is kept, so verification can say exactly which entry first diverged.
CREATE TABLE control.audit_checkpoints (
    log_id      text NOT NULL REFERENCES control.audit_logs (log_id),
    size        bigint NOT NULL CHECK (size > 0),
    note        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, size)
);

CREATE FUNCTION control.audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'control.% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;

-- Entries may change in one way only: the retention sweep (store.PruneAuditPayloads) removes the
-- payload of an entry older than the cutoff it declares for its transaction. Anything else, or
-- an entry on the young side of the cutoff, is refused.
CREATE FUNCTION control.audit_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('ringback.audit_retention', true) = 'on' THEN
        cutoff := nullif(current_setting('ringback.audit_retention_cutoff', true), '')::timestamptz;
        IF cutoff IS NULL THEN
            RAISE EXCEPTION 'audit retention: ringback.audit_retention_cutoff is not set';
        END IF;
        IF OLD.occurred_at >= cutoff THEN
            RAISE EXCEPTION 'audit retention: entry % of log % is not older than the cutoff', OLD.idx, OLD.log_id;
        END IF;
        IF NEW.payload IS NOT NULL OR (to_jsonb(NEW) - 'payload') IS DISTINCT FROM (to_jsonb(OLD) - 'payload') THEN
            RAISE EXCEPTION 'audit retention may only remove the payload';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'control.audit_entries is append-only: % refused', TG_OP;
END
$$;

-- A log's size only ever grows by one, as an append records an entry.
CREATE FUNCTION control.audit_logs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.size = OLD.size + 1
       AND (to_jsonb(NEW) - 'size') = (to_jsonb(OLD) - 'size') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'control.audit_logs only grows: % refused', TG_OP;
END
$$;

CREATE TRIGGER audit_logs_guard BEFORE UPDATE OR DELETE ON control.audit_logs
    FOR EACH ROW EXECUTE FUNCTION control.audit_logs_guard();
CREATE TRIGGER audit_entries_guard BEFORE UPDATE OR DELETE ON control.audit_entries
    FOR EACH ROW EXECUTE FUNCTION control.audit_entries_guard();
CREATE TRIGGER audit_hashes_append_only BEFORE UPDATE OR DELETE ON control.audit_hashes
    FOR EACH ROW EXECUTE FUNCTION control.audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON control.audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION control.audit_refuse_change();

-- Row triggers do not fire for TRUNCATE, which needs its own statement-level triggers.
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON control.audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION control.audit_refuse_change();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON control.audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION control.audit_refuse_change();
CREATE TRIGGER audit_hashes_no_truncate BEFORE TRUNCATE ON control.audit_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION control.audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON control.audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION control.audit_refuse_change();
