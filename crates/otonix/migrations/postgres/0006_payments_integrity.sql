-- Payments integrity (keep in step with ../sqlite/0006_payments_integrity.sql).

-- A wallet is verified when the server generated it or its owner proved control of it
-- (SPEC §5.4 b 5). Wallets registered before this migration count as unverified.
ALTER TABLE agents ADD COLUMN wallet_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- Whether a transaction moved its agent's credits (a credit booked by an API key is a record
-- only, SPEC §4.6), and who wrote it: `api` (POST /api/transactions) or `payment` (the payment
-- engine). A hash is unique among the rows booked by hand only: a hash someone booked neither
-- blocks nor satisfies a payment, whose one-time use is guarded by payment_claims, and one
-- transaction may carry the payments of several payers (each booked with its hash).
ALTER TABLE transactions ADD COLUMN credits_applied BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE transactions ADD COLUMN origin TEXT NOT NULL DEFAULT 'api';
UPDATE transactions SET credits_applied = TRUE WHERE agent_id IS NOT NULL AND status = 'completed';
DROP INDEX transactions_tx_hash;
CREATE INDEX transactions_tx_hash ON transactions (tx_hash);
CREATE UNIQUE INDEX transactions_tx_hash_booked ON transactions (tx_hash) WHERE origin = 'api';

-- Revocation reaches the keys a key generated: what a revocation did, for idempotent answers.
ALTER TABLE api_keys ADD COLUMN keys_revoked BIGINT NOT NULL DEFAULT 0;

-- What an order buys, parsed when it was quoted, so delivery never re-reads the request path.
ALTER TABLE payment_orders ADD COLUMN product TEXT NOT NULL DEFAULT 'credits';
ALTER TABLE payment_orders ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
UPDATE payment_orders SET params = '{"agentId":"' || lower(substr(path, 13, 36)) || '"}'
    WHERE path LIKE '/api/agents/%/credits';

-- A claim is never deleted. Released (the money did not move, so its order may be paid again),
-- it stays pinned to its order: no other order, of any key, can use that payment. A released
-- EIP-3009 authorization may still be submitted by anyone until validBefore, so the sweep
-- watches it until then: if it moves money after all, its order is settled by it, or the amount
-- is refunded.
ALTER TABLE payment_claims ADD COLUMN valid_before BIGINT;
ALTER TABLE payment_claims ADD COLUMN released_at BIGINT;
ALTER TABLE payment_claims ADD COLUMN resolved_at BIGINT;
-- When the sweep last looked (its queue runs least recently looked at first), and when it first
-- saw the nonce used without finding the transaction that used it.
ALTER TABLE payment_claims ADD COLUMN watched_at BIGINT;
ALTER TABLE payment_claims ADD COLUMN used_seen_at BIGINT;
-- A released authorization whose late payment was refunded: it may never pay again.
ALTER TABLE payment_claims ADD COLUMN refunded_at BIGINT;
CREATE INDEX payment_claims_watch ON payment_claims (watched_at) WHERE released_at IS NOT NULL AND resolved_at IS NULL;
