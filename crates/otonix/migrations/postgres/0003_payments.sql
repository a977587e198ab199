-- x402 payments: orders (the 402 challenges and what became of them) and payment claims.
-- A claim key is unique: an EIP-3009 authorization (chain, asset, from, nonce) or an on-chain
-- transaction (chain, tx hash) pays for at most one order, across every replica.
CREATE TABLE payment_orders (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  TEXT NOT NULL,
    api_key_id          TEXT NOT NULL,
    method              TEXT NOT NULL,
    path                TEXT NOT NULL,
    body_hash           TEXT NOT NULL,
    request_body        TEXT NOT NULL,
    resource            TEXT NOT NULL,
    description         TEXT NOT NULL,
    amount              BIGINT NOT NULL,
    status              TEXT NOT NULL,
    scheme              TEXT,
    payer               TEXT,
    tx_hash             TEXT,
    claim_key           TEXT,
    settle_reference    TEXT,
    delivery_attempts   BIGINT NOT NULL DEFAULT 0,
    last_error          TEXT,
    receipt             TEXT,
    response_status     BIGINT,
    response_body       TEXT,
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    settled_at          BIGINT,
    delivered_at        BIGINT,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX payment_orders_id ON payment_orders (id);
CREATE INDEX payment_orders_request ON payment_orders (api_key_id, method, path, body_hash, seq);
CREATE INDEX payment_orders_status ON payment_orders (status, updated_at);

CREATE TABLE payment_claims (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_key   TEXT NOT NULL,
    order_id    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX payment_claims_key ON payment_claims (claim_key);
