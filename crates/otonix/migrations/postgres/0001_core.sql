-- Core schema for PostgreSQL. Keep it in step with ../sqlite/0001_core.sql:
-- the same tables, columns and indexes, only the dialect differs.
-- Timestamps are milliseconds since the Unix epoch, money is integer micro-USDC. Every listed
-- table has an insertion-ordered `seq` (the key of keyset pagination: newest first is highest
-- seq) and a public UUID `id`.

CREATE TABLE api_keys (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT NOT NULL,
    name                TEXT NOT NULL,
    key_hash            TEXT NOT NULL,
    key_prefix          TEXT NOT NULL,
    key_last4           TEXT NOT NULL,
    owner_wallet        TEXT,
    status              TEXT NOT NULL,
    agent_count         BIGINT NOT NULL DEFAULT 0,
    created_by_key_id   TEXT,
    agents_deactivated  BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    last_used_at        BIGINT,
    revoked_at          BIGINT
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE UNIQUE INDEX api_keys_id ON api_keys (id);
CREATE INDEX api_keys_creator ON api_keys (created_by_key_id, seq);

CREATE TABLE agents (
    seq                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                     TEXT NOT NULL,
    api_key_id             TEXT NOT NULL,
    name                   TEXT NOT NULL,
    status                 TEXT NOT NULL,
    survival_tier          TEXT NOT NULL,
    credits                BIGINT NOT NULL DEFAULT 0,
    funded                 BOOLEAN NOT NULL DEFAULT FALSE,
    wallet_address         TEXT NOT NULL,
    genesis_prompt         TEXT,
    model                  TEXT NOT NULL,
    heartbeat_interval     BIGINT NOT NULL,
    last_heartbeat_at      BIGINT,
    previous_heartbeat_at  BIGINT,
    next_expected_at       BIGINT,
    reported_status        TEXT,
    reported_metrics       TEXT,
    vps_ip                 TEXT,
    total_actions          BIGINT NOT NULL DEFAULT 0,
    children_count         BIGINT NOT NULL DEFAULT 0,
    parent_id              TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE UNIQUE INDEX agents_id ON agents (id);
CREATE INDEX agents_key ON agents (api_key_id, status);
CREATE INDEX agents_status ON agents (status, seq);
CREATE INDEX agents_tier ON agents (survival_tier, seq);
CREATE INDEX agents_next_expected ON agents (next_expected_at);
CREATE INDEX agents_wallet ON agents (wallet_address);

CREATE TABLE agent_actions (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    api_key_id  TEXT NOT NULL,
    action      TEXT NOT NULL,
    category    TEXT NOT NULL,
    details     TEXT,
    status      TEXT NOT NULL,
    autonomous  BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX agent_actions_agent ON agent_actions (agent_id, seq);
CREATE INDEX agent_actions_owner ON agent_actions (api_key_id, seq);
CREATE UNIQUE INDEX agent_actions_id ON agent_actions (id);

CREATE TABLE sandboxes (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT NOT NULL,
    api_key_id          TEXT NOT NULL,
    name                TEXT NOT NULL,
    status              TEXT NOT NULL,
    os                  TEXT,
    cpu                 BIGINT,
    memory              BIGINT,
    disk                BIGINT,
    region              TEXT,
    ip_address          TEXT,
    ports               TEXT NOT NULL,
    ssh_user            TEXT,
    ssh_password        TEXT,
    agent_id            TEXT,
    provider            TEXT NOT NULL,
    provider_server_id  TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX sandboxes_id ON sandboxes (id);
CREATE INDEX sandboxes_agent ON sandboxes (agent_id, seq);

CREATE TABLE domains (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT NOT NULL,
    api_key_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    status         TEXT NOT NULL,
    registered_at  BIGINT,
    expires_at     BIGINT,
    auto_renew     BOOLEAN NOT NULL,
    dns_records    TEXT NOT NULL,
    sandbox_id     TEXT,
    agent_id       TEXT,
    registrar      TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX domains_name ON domains (name);
CREATE UNIQUE INDEX domains_id ON domains (id);
CREATE INDEX domains_agent ON domains (agent_id, seq);
CREATE INDEX domains_expiry ON domains (expires_at);

CREATE TABLE compute_logs (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT NOT NULL,
    api_key_id     TEXT NOT NULL,
    agent_id       TEXT NOT NULL,
    provider       TEXT,
    model          TEXT NOT NULL,
    input_tokens   BIGINT NOT NULL,
    output_tokens  BIGINT NOT NULL,
    cost           BIGINT NOT NULL,
    latency_ms     BIGINT,
    task_type      TEXT,
    routed_by      TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX compute_logs_owner ON compute_logs (api_key_id, seq);
CREATE INDEX compute_logs_agent ON compute_logs (agent_id, seq);
CREATE UNIQUE INDEX compute_logs_id ON compute_logs (id);

CREATE TABLE transactions (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL,
    api_key_id    TEXT,
    type          TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    description   TEXT,
    status        TEXT NOT NULL,
    from_address  TEXT,
    to_address    TEXT,
    tx_hash       TEXT,
    agent_id      TEXT,
    metadata      TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX transactions_tx_hash ON transactions (tx_hash);
CREATE UNIQUE INDEX transactions_id ON transactions (id);
CREATE INDEX transactions_owner ON transactions (api_key_id, seq);
CREATE INDEX transactions_agent ON transactions (agent_id, seq);

-- Append-only log of every state change, written in the transaction of the change.
CREATE TABLE events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type        TEXT NOT NULL,
    api_key_id  TEXT,
    agent_id    TEXT,
    subject_id  TEXT,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Named leases for background work: one holder at a time, until expires_at.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
