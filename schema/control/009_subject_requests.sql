-- Data-subject requests (access, correction, deletion, portability, restriction, objection) and
-- what they leave behind besides their workflow (dsr/<request id>): the identifiers each request
-- is about, the restrictions of processing it put in force, and the exports it produced.
--
-- No raw phone number or e-mail address is stored here: identifiers are HMACs (internal/phone's
-- Hasher for numbers). The workflow's input carries the number itself, sealed by the payload
-- codec under the tenant's key.
--
-- A request's record is kept for 24 months after it is closed (CCPA regulations, 11 CCR
-- § 7101(a)), even when its tenant is erased in the meantime, so tenant_id is not a foreign key.
-- store.PruneDSRRecords sweeps closed records through dsr_requests_closed.

CREATE TABLE control.dsr_requests (
    id            text PRIMARY KEY CHECK (id ~ '^[a-z2-7]{16}$'),
    tenant_id     text NOT NULL CHECK (tenant_id ~ '^[a-z2-7]{16}$'),
    kind          text NOT NULL CHECK (kind IN ('access', 'correction', 'deletion', 'portability', 'restriction', 'objection')),
    regime        text NOT NULL CHECK (regime IN ('gdpr', 'ccpa')),
    status        text NOT NULL DEFAULT 'received'
                  CHECK (status IN ('received', 'verifying', 'in_progress', 'extended', 'on_hold', 'completed', 'rejected')),
    received_at   timestamptz NOT NULL,
    -- The deadlines in force (internal/legalclock), rewritten when a hold moves them.
    ack_due       timestamptz NOT NULL,
    due_at        timestamptz NOT NULL,
    -- Set once the one extension has been announced in time; NULL means not extended.
    extended_due  timestamptz,
    -- When the request was closed, completed or rejected; the 24 months run from here.
    completed_at  timestamptz,
    -- Who filed it, as store.WithActor names actors ("token:<id>", "cli:<login>").
    requested_by  text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 200),
    -- Counts changes, so each has its own audit entry.
    revision      integer NOT NULL DEFAULT 1 CHECK (revision > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((status IN ('completed', 'rejected')) = (completed_at IS NOT NULL)),
    CHECK (ack_due > received_at AND due_at > received_at),
    CHECK (extended_due IS NULL OR extended_due > due_at)
);
-- Staff list a tenant's requests by status; the retention sweep finds closed ones by age.
CREATE INDEX dsr_requests_tenant ON control.dsr_requests (tenant_id, status, received_at);
CREATE INDEX dsr_requests_open_due ON control.dsr_requests (due_at) WHERE completed_at IS NULL;
CREATE INDEX dsr_requests_closed ON control.dsr_requests (completed_at) WHERE completed_at IS NOT NULL;

-- Every identifier a request names, each verified on its own (P17): an unverified second
-- identifier must never widen what is exported or erased.
CREATE TABLE control.dsr_identifiers (
    request_id       text NOT NULL REFERENCES control.dsr_requests (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('phone', 'email')),
    identifier_hash  text NOT NULL CHECK (identifier_hash ~ '^[0-9a-f]{64}$'),
    -- verified_code: the requester answered a one-time code sent to the identifier. attested: a
    -- member of staff vouched for it, with a reason (recorded in the audit log as well).
    verification     text NOT NULL DEFAULT 'unverified' CHECK (verification IN ('unverified', 'verified_code', 'attested')),
    attested_by      text CHECK (length(attested_by) BETWEEN 1 AND 200),
    -- Why staff vouched (e.g. "identity confirmed in person"): a reason, not personal data.
    attest_reason    text CHECK (length(attest_reason) BETWEEN 1 AND 500),
    verified_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, kind, identifier_hash),
    CHECK ((verification = 'unverified') = (verified_at IS NULL)),
    CHECK ((verification = 'attested') = (attested_by IS NOT NULL)),
    CHECK ((attested_by IS NULL) = (attest_reason IS NULL))
);
-- Which requests concern a caller: proof-of-erasure scans and staff look-ups.
CREATE INDEX dsr_identifiers_hash ON control.dsr_identifiers (identifier_hash);

-- Restriction (GDPR Art. 18) and objection (Art. 21): while one is in force for a caller, the
-- tenant's conversation does no AI processing for them and sends them no text that is not
-- required. Lifting keeps the row, for the history.
CREATE TABLE control.processing_restrictions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    phone_hash  text NOT NULL CHECK (phone_hash ~ '^[0-9a-f]{64}$'),
    kind        text NOT NULL CHECK (kind IN ('restriction', 'objection')),
    -- The request that put it in force; NULL once that request's record has been swept, while
    -- the restriction itself stays in force until lifted.
    request_id  text REFERENCES control.dsr_requests (id) ON DELETE SET NULL,
    since       timestamptz NOT NULL,
    lifted_at   timestamptz,
    CHECK (lifted_at IS NULL OR lifted_at >= since)
);
-- At most one of each kind in force per caller; every check before an AI turn reads this index.
CREATE UNIQUE INDEX processing_restrictions_in_force
    ON control.processing_restrictions (tenant_id, phone_hash, kind) WHERE lifted_at IS NULL;
-- A caller's whole history, for access requests and erasure.
CREATE INDEX processing_restrictions_subject ON control.processing_restrictions (tenant_id, phone_hash, since);

-- Exports for access and portability requests (internal/subjectexport's zip), sealed like the
-- tenant's webhook secret: AES-256-GCM under the tenant's data key named by key_id, bound to the
-- request, so destroying the tenant's keys shreds them too. The bytes are removed when the export
-- is downloaded (a link works once) or expires; the row stays as the record that it was made,
-- until the tenant is erased: unlike the request, an export is the tenant's data, not a record
-- of its compliance.
CREATE TABLE control.dsr_exports (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id     text NOT NULL REFERENCES control.dsr_requests (id) ON DELETE CASCADE,
    tenant_id      text NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    sealed         bytea,
    key_id         text NOT NULL,
    -- SHA-256 of the export as handed out: a download is checked against it and the audit log
    -- names it.
    sha256         bytea NOT NULL CHECK (length(sha256) = 32),
    size_bytes     bigint NOT NULL CHECK (size_bytes >= 0),
    -- SHA-256 of the download link's token. The token is shown once, when the export is stored.
    token_hash     bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    downloaded_at  timestamptz,
    CHECK (downloaded_at IS NULL OR sealed IS NULL)
);
CREATE INDEX dsr_exports_request ON control.dsr_exports (request_id);
CREATE INDEX dsr_exports_expiry ON control.dsr_exports (expires_at) WHERE sealed IS NOT NULL;

-- Access and erasure requests read and delete a caller's delivery records by their HMAC.
CREATE INDEX outbox_recipient ON control.outbox (tenant_id, recipient_hash);
