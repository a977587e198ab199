-- DNS records at the simulated registrar (keep in step with ../sqlite/0008_registrar_dns.sql).
CREATE TABLE sim_registrar_records (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL,
    domain      TEXT NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    value       TEXT NOT NULL,
    ttl         BIGINT NOT NULL,
    priority    BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX sim_registrar_records_id ON sim_registrar_records (id);
CREATE INDEX sim_registrar_records_domain ON sim_registrar_records (domain, seq);

-- A paid order reserves its name before buying it: one domain per payment order.
CREATE UNIQUE INDEX domains_payment_order ON domains (payment_order_id) WHERE payment_order_id IS NOT NULL;

-- A name whose registration failed is free again: only records that did not fail hold a name.
DROP INDEX domains_name;
CREATE UNIQUE INDEX domains_name ON domains (name) WHERE status <> 'failed';

-- When a paid order first asked the registrar to buy its name: from then on, until the
-- registrar's order is known, the purchase may have happened, and it is never refunded unless
-- the name is for sale again.
ALTER TABLE domains ADD COLUMN buy_started_at BIGINT;
