-- One tenant's customer data. {{.Schema}} is a validated schema name (t_<tenant id>).

CREATE TABLE {{.Schema}}.contacts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone_e164   text NOT NULL UNIQUE CHECK (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
    phone_hash   text NOT NULL UNIQUE CHECK (phone_hash ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A conversation is one workflow execution chain: its workflow ID plus the first run's ID, which
-- survives continue-as-new.
CREATE TABLE {{.Schema}}.conversations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id    bigint NOT NULL REFERENCES {{.Schema}}.contacts (id),
    workflow_id   text NOT NULL,
    first_run_id  text NOT NULL,
    trigger       text NOT NULL CHECK (trigger IN ('missed_call', 'inbound_sms')),
    stage         text NOT NULL,
    opened_at     timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz,
    UNIQUE (workflow_id, first_run_id)
);
CREATE INDEX conversations_contact ON {{.Schema}}.conversations (contact_id, opened_at);

-- Missed calls, one row per Twilio CallSid whatever webhook (status callback or Dial action)
-- reported it and however often Twilio retried.
CREATE TABLE {{.Schema}}.calls (
    call_sid         text PRIMARY KEY,
    contact_id       bigint NOT NULL REFERENCES {{.Schema}}.contacts (id),
    conversation_id  bigint NOT NULL REFERENCES {{.Schema}}.conversations (id),
    status           text NOT NULL,
    occurred_at      timestamptz NOT NULL
);

CREATE TABLE {{.Schema}}.messages (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id      bigint NOT NULL REFERENCES {{.Schema}}.conversations (id),
    direction            text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    body                 text NOT NULL,
    -- Inbound: Twilio's MessageSid. Outbound: the outbox idempotency key.
    dedupe_key           text NOT NULL UNIQUE,
    provider_message_id  text,
    num_media            integer NOT NULL DEFAULT 0,
    occurred_at          timestamptz NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation ON {{.Schema}}.messages (conversation_id, occurred_at);
