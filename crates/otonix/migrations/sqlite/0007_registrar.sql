-- Domain registration through the registrar (keep in step with ../postgres/0007_registrar.sql).

-- The registrar's order behind a domain bought through Otonix, and the payment order that paid
-- for it; pending domains are followed until their registrar order completes or fails.
ALTER TABLE domains ADD COLUMN registrar_order_id TEXT;
ALTER TABLE domains ADD COLUMN payment_order_id TEXT;
CREATE INDEX domains_pending ON domains (seq) WHERE status = 'pending';

-- The simulated registrar's own state (providers.vercel.mode = "simulated"): its orders, one per
-- reference (the payment order that asked), and the names it sold.
CREATE TABLE sim_registrar_orders (
    id          TEXT PRIMARY KEY,
    reference   TEXT NOT NULL,
    domain      TEXT NOT NULL,
    years       INTEGER NOT NULL,
    auto_renew  INTEGER NOT NULL,
    price       INTEGER NOT NULL,
    status      TEXT NOT NULL,
    error_code  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX sim_registrar_orders_reference ON sim_registrar_orders (reference);
-- One order under way or completed per name (a failed one frees it).
CREATE UNIQUE INDEX sim_registrar_orders_live_domain ON sim_registrar_orders (domain) WHERE status <> 'failed';

CREATE TABLE sim_registrar_domains (
    name        TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL,
    auto_renew  INTEGER NOT NULL,
    bought_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
