#!/usr/bin/env node
// TEST ONLY: pays an x402 endpoint with the OFFICIAL x402 TypeScript client (@x402/fetch,
// @x402/evm, viem; versions pinned in package.json), used only through its public API, to show
// that an unmodified standard client can pay Otonix.
//
//   X402_URL=http://127.0.0.1:8080/api/agents/<id>/credits \
//   X402_API_KEY=<key> X402_PRIVATE_KEY=0x<64 hex> X402_BODY='{"amount": 3}' \
//   node testchain/x402-pay.mjs
//
// It POSTs X402_BODY (JSON) to X402_URL with `Content-Type: application/json` and
// `X-API-Key: X402_API_KEY`. The client reads the 402's `PAYMENT-REQUIRED` header, signs an
// EIP-3009 authorization with the key (scheme `exact`, registered for `eip155:*`) and retries
// with `PAYMENT-SIGNATURE`. It prints ONE JSON line to stdout:
//
//   {"status": <int>, "body": <parsed JSON or text>, "paymentResponse": <decoded PAYMENT-RESPONSE or null>}
//
// and exits 0 whenever it got an HTTP answer (whatever its status). When the client refuses to
// pay (or no answer came), the reason goes to stderr and the exit code is 1; 2 is a bad input.
//
// Optional: X402_SPEND_CONTROLS, JSON given to `x402Client.setSpendControls`. Default `false`
// (spend controls off). The client's own default, `{}`, only pays its built-in assets (e.g. USDC on
// eip155:8453) and at most $1 per payment; Otonix sells credits at 1 USDC each, and a dev chain's
// token is not built in, so the default would refuse most payments before signing anything.
//
// Nothing but X402_URL's origin is contacted: no RPC, no facilitator (the fetch handed to the
// client refuses any other origin).

import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";

const TIMEOUT_MS = 120_000;

function fail(code, message) {
  process.stderr.write(`x402-pay: ${message}\n`);
  process.exit(code);
}

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === "") fail(2, `${name} is required`);
  return value;
}

const url = new URL(required("X402_URL"));
const apiKey = required("X402_API_KEY");
const privateKey = required("X402_PRIVATE_KEY");
const bodyText = required("X402_BODY");
try {
  JSON.parse(bodyText);
} catch (error) {
  fail(2, `X402_BODY is not JSON: ${error.message}`);
}
if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey)) fail(2, "X402_PRIVATE_KEY must be 0x and 64 hex digits");
let spendControls = false;
if (process.env.X402_SPEND_CONTROLS) {
  try {
    spendControls = JSON.parse(process.env.X402_SPEND_CONTROLS);
  } catch (error) {
    fail(2, `X402_SPEND_CONTROLS is not JSON: ${error.message}`);
  }
}

// The official client: scheme `exact` for every eip155 chain, signing with a local viem account.
const account = privateKeyToAccount(privateKey);
const client = new x402Client();
registerExactEvmScheme(client, { signer: account });
client.setSpendControls(spendControls);

// Plain fetch, restricted to the target's origin.
const loopbackFetch = (input, init) => {
  const target = new URL(input instanceof Request ? input.url : String(input));
  if (target.origin !== url.origin) {
    return Promise.reject(new Error(`refusing to contact ${target.origin} (only ${url.origin})`));
  }
  return fetch(input, init);
};
const fetchWithPayment = wrapFetchWithPayment(loopbackFetch, client);

let response;
try {
  response = await fetchWithPayment(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
    body: bodyText,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
} catch (error) {
  const cause = error?.cause ? ` (cause: ${error.cause.message ?? error.cause})` : "";
  fail(1, `the x402 client did not get an answer or refused to pay: ${error?.message ?? error}${cause}`);
}

const text = await response.text();
let body = text;
try {
  body = text === "" ? null : JSON.parse(text);
} catch {
  // not JSON: keep the text
}
const header = response.headers.get("PAYMENT-RESPONSE") ?? response.headers.get("X-PAYMENT-RESPONSE");
let paymentResponse = null;
if (header) {
  try {
    paymentResponse = decodePaymentResponseHeader(header);
  } catch (error) {
    paymentResponse = { undecodable: header, error: error.message };
  }
}
process.stdout.write(`${JSON.stringify({ status: response.status, body, paymentResponse })}\n`);
