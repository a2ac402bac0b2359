-- Appointments and escalations. {{.Schema}} is a validated schema name (t_<tenant id>).

-- One calendar per business: any two booked appointments that overlap conflict, whatever their
-- service. The exclusion constraint makes a double booking impossible even when two conversations
-- book the same time at the same instant; the loser gets SQLSTATE 23P01. Cancelled rows stay, for
-- the owner's history, and no longer hold their time. Ranges are half-open, so back-to-back
-- appointments do not conflict.
CREATE TABLE {{.Schema}}.bookings (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id       bigint NOT NULL REFERENCES {{.Schema}}.contacts (id),
    conversation_id  bigint REFERENCES {{.Schema}}.conversations (id),
    service          text NOT NULL CHECK (length(service) BETWEEN 1 AND 80),
    during           tstzrange NOT NULL CHECK (
                         NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)
                         AND lower_inc(during) AND NOT upper_inc(during)),
    status           text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'cancelled')),
    -- The caller's name as they gave it, for the owner.
    name             text NOT NULL CHECK (length(name) <= 100),
    -- The booking activity's idempotency key: a retried activity finds its booking here instead
    -- of failing on its own slot or booking twice.
    request_key      text NOT NULL UNIQUE CHECK (length(request_key) BETWEEN 1 AND 200),
    -- The idempotency key of the request that cancelled it.
    cancel_key       text UNIQUE CHECK (length(cancel_key) BETWEEN 1 AND 200),
    -- The booking this one replaced when it was rescheduled.
    replaces         bigint REFERENCES {{.Schema}}.bookings (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    cancelled_at     timestamptz,
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&) WHERE (status = 'booked')
);
CREATE INDEX bookings_contact ON {{.Schema}}.bookings (contact_id, lower(during));

-- A conversation handed to a person. Usage counts read it.
CREATE TABLE {{.Schema}}.escalations (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id     bigint NOT NULL REFERENCES {{.Schema}}.conversations (id),
    reason              text NOT NULL CHECK (length(reason) BETWEEN 1 AND 100),
    -- The escalating activity's idempotency key, so a retry records one escalation.
    request_key         text NOT NULL UNIQUE CHECK (length(request_key) BETWEEN 1 AND 200),
    created_at          timestamptz NOT NULL DEFAULT now(),
    acknowledged_at     timestamptz,
    notified_backup_at  timestamptz
);
CREATE INDEX escalations_conversation ON {{.Schema}}.escalations (conversation_id, created_at);
CREATE INDEX escalations_created ON {{.Schema}}.escalations (created_at);
