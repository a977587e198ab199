// Smoke test of the TEST token on a real local anvil (127.0.0.1 only), with signatures made
// by the Rust crate `crates/x402` (its `sign_authorization` example).
//
// What it checks: the runtime code placed with `anvil_setCode` at the real Base USDC address on
// chain id 8453 returns Base USDC's DOMAIN_SEPARATOR; mint; plain transfer; a crate-signed
// transferWithAuthorization (v,r,s and bytes forms) emits AuthorizationUsed then Transfer;
// replay, high-s, bad v, bad length, not-yet-valid, expired and wrong-payee calls revert with
// USDC's exact strings; cancelAuthorization and receiveWithAuthorization (signed by anvil's
// eth_signTypedData_v4); anvil's own EIP-712 and EIP-191 signatures equal the crate's vectors.
//
// Run: `node smoke.mjs` (needs `npm install` and cargo). Starts and always stops its own anvil.
// SMOKE_VERBOSE=1 also prints the transferWithAuthorization receipt.
import { spawn, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ANVIL = join(here, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
const artifact = JSON.parse(readFileSync(join(here, "build/TestUSDC.json"), "utf8"));
const sel = (signature) => `0x${artifact.methodIdentifiers[signature]}`;

const USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
const BASE_DOMAIN_SEPARATOR = "0x02fa7265e7c5d81118673727957699e4d68f74cd74b7db77da710fe8a2c7834f";
const [RELAYER, PAYER, PAY_TO] = [
  "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
];
const TOPIC_TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const TOPIC_AUTHORIZATION_USED = "0x98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5";
const VECTOR_SIGNATURE =
  "0xf02693fe2f680b8f9bdd85e33cc936659c3eb222c3d7ff9e79f167b3809d8fcc6f18bd22c8284e2f46d22604b7bf9e1f26925654ba6e5a79c8f874cf9e80dd311c";
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ------------------------------------------------------------------ helpers

let rpcUrl;
let rpcId = 0;
async function rpc(method, params = []) {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  const body = await response.json();
  if (body.error) {
    const error = new Error(`${method}: ${body.error.message}`);
    error.rpc = body.error;
    throw error;
  }
  return body.result;
}

const word = (hex) => hex.replace(/^0x/, "").toLowerCase().padStart(64, "0");
const uint = (n) => BigInt(n).toString(16).padStart(64, "0");
const encode = (selector, ...words) => selector + words.join("");
const call = (data, from = RELAYER) => rpc("eth_call", [{ from, to: USDC, data }, "latest"]);

let passed = 0;
function check(condition, what) {
  if (!condition) throw new Error(`FAILED: ${what}`);
  passed += 1;
  console.log(`ok  ${what}`);
}

async function send(data, from = RELAYER) {
  const hash = await rpc("eth_sendTransaction", [{ from, to: USDC, data, gas: "0x2dc6c0" }]);
  for (let i = 0; i < 50; i += 1) {
    const receipt = await rpc("eth_getTransactionReceipt", [hash]);
    if (receipt?.blockNumber) return receipt;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no receipt for ${hash}`);
}

async function expectRevert(data, reason, what, from = RELAYER) {
  try {
    await call(data, from);
  } catch (error) {
    check(error.message.includes(reason), `${what} reverts "${reason}" (${error.message})`);
    return;
  }
  throw new Error(`FAILED: ${what} did not revert`);
}

async function balance(account) {
  return BigInt(await call(encode(sel("balanceOf(address)"), word(account))));
}

async function now() {
  return Number(BigInt((await rpc("eth_getBlockByNumber", ["latest", false])).timestamp));
}

/** A crate signature valid from `at - 600` to `at + 300`, like the x402 reference client. */
const crateSignAt = (at, value) => crateSign(at - 600, at + 300, value);

/** Signs with the Rust crate: `{ authorization, signature, calldata, domainSeparator }`. */
function crateSign(validAfter, validBefore, value, nonce) {
  const args = ["run", "--quiet", "--manifest-path", join(here, "../crates/x402/Cargo.toml")];
  args.push("--features", "signer", "--example", "sign_authorization", "--");
  args.push(String(validAfter), String(validBefore), String(value));
  if (nonce) args.push(nonce);
  return JSON.parse(execFileSync("cargo", args, { encoding: "utf8" }));
}

const randomNonce = () => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;

function authWords(a) {
  return [word(a.from), word(a.to), uint(a.value), uint(a.validAfter), uint(a.validBefore), word(a.nonce)];
}

function splitSignature(signature) {
  const hex = signature.replace(/^0x/, "");
  return { r: hex.slice(0, 64), s: hex.slice(64, 128), v: parseInt(hex.slice(128, 130), 16) };
}

function vrsCalldata(a, { v, r, s }) {
  return encode(sel("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"), ...authWords(a), uint(v), r, s);
}

function bytesCalldata(a, signatureHex) {
  const bytes = signatureHex.replace(/^0x/, "");
  const padded = bytes.padEnd(Math.ceil(bytes.length / 64) * 64, "0");
  const selector = sel("transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)");
  return encode(selector, ...authWords(a), uint(7 * 32), uint(bytes.length / 2), padded);
}

function typedData(primaryType, fields, message) {
  return {
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
      [primaryType]: fields,
    },
    primaryType,
    domain: { name: "USD Coin", version: "2", chainId: 8453, verifyingContract: USDC },
    message,
  };
}

const AUTH_FIELDS = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
];

// ------------------------------------------------------------------ anvil

function startAnvil() {
  const args = ["--host", "127.0.0.1", "--port", "0", "--chain-id", "8453"];
  const child = spawn(ANVIL, args, { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let output = "";
    child.on("exit", (code) => reject(new Error(`anvil exited with ${code}`)));
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = output.match(/Listening on (127\.0\.0\.1:\d+)/);
      if (match) {
        child.stdout.removeAllListeners("data");
        child.stdout.resume();
        resolve({ child, url: `http://${match[1]}` });
      }
    });
  });
}

// ------------------------------------------------------------------ the test

async function main() {
  check((await rpc("eth_chainId")) === "0x2105", "chain id is 8453");
  await rpc("anvil_setCode", [USDC, artifact.deployedBytecode]);
  const separator = await call(sel("DOMAIN_SEPARATOR()"));
  check(separator === BASE_DOMAIN_SEPARATOR, `DOMAIN_SEPARATOR() = ${separator}`);

  // Mint and plain transfer (the transfer-proof flow).
  let receipt = await send(encode(sel("mint(address,uint256)"), word(PAYER), uint(5_000_000)));
  check(receipt.status === "0x1" && (await balance(PAYER)) === 5_000_000n, "mint 5 USDC to the payer");
  receipt = await send(encode(sel("transfer(address,uint256)"), word(PAY_TO), uint(10_000)), PAYER);
  const [transfer] = receipt.logs;
  check(
    receipt.status === "0x1" && transfer.topics[0] === TOPIC_TRANSFER && BigInt(transfer.data) === 10_000n,
    `plain transfer ${receipt.transactionHash} emits Transfer(payer -> payTo, 10000)`,
  );
  await expectRevert(
    encode(sel("transfer(address,uint256)"), word(PAY_TO), uint(10n ** 12n)),
    "ERC20: transfer amount exceeds balance",
    "overdraft transfer",
    PAYER,
  );

  // The crate's EIP-712 agrees with anvil's eth_signTypedData_v4 on the known-answer vector.
  const vector = crateSign(1740672089, 1740672154, 10000, "0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480");
  check(vector.signature === VECTOR_SIGNATURE, "crate signs the known-answer vector");
  const anvilVector = await rpc("eth_signTypedData_v4", [PAYER, typedData("TransferWithAuthorization", AUTH_FIELDS, vector.authorization)]);
  check(anvilVector === vector.signature, "anvil eth_signTypedData_v4 == crate signature (known-answer vector)");
  const orderSignature = await rpc("personal_sign", [`0x${Buffer.from("otonix order 9f1c00000000000000000000000000aa").toString("hex")}`, PAYER]);
  check(
    orderSignature === "0x4fa21a655afdcb2a17248223d1a9ae6d94d6753a9e4ff3011fd06782f23b24b86845c38f6aee2bfae984981187579ab8b1e6013318b5e1796df3aaa3cc03e84d1b",
    "anvil personal_sign == crate EIP-191 order signature vector",
  );

  // transferWithAuthorization signed by the crate, submitted by the relayer.
  const signed = crateSignAt(await now(), 10_000);
  check(signed.domainSeparator === BASE_DOMAIN_SEPARATOR, "crate domain separator matches the chain");
  await call(signed.calldata);
  receipt = await send(signed.calldata);
  if (process.env.SMOKE_VERBOSE) console.log(JSON.stringify(receipt));
  const [used, moved] = receipt.logs;
  check(receipt.status === "0x1" && receipt.logs.length === 2, `transferWithAuthorization ${receipt.transactionHash} succeeds with 2 logs`);
  check(
    used.topics[0] === TOPIC_AUTHORIZATION_USED && BigInt(used.topics[1]) === BigInt(PAYER) && used.topics[2] === signed.authorization.nonce,
    "log 0 is AuthorizationUsed(payer, nonce)",
  );
  check(
    moved.topics[0] === TOPIC_TRANSFER && BigInt(moved.topics[1]) === BigInt(PAYER) && BigInt(moved.topics[2]) === BigInt(PAY_TO) && BigInt(moved.data) === 10_000n,
    "log 1 is Transfer(payer -> payTo, 10000)",
  );
  const state = await call(encode(sel("authorizationState(address,bytes32)"), word(PAYER), word(signed.authorization.nonce)));
  check(BigInt(state) === 1n, "authorizationState(payer, nonce) is true");
  await expectRevert(signed.calldata, "FiatTokenV2: authorization is used or canceled", "replay");

  // Malleated and malformed signatures over a fresh authorization.
  const fresh = crateSignAt(await now(), 10_000);
  const { v, r, s } = splitSignature(fresh.signature);
  const highS = { v: v === 27 ? 28 : 27, r, s: uint(SECP256K1_N - BigInt(`0x${s}`)) };
  await expectRevert(vrsCalldata(fresh.authorization, highS), "ECRecover: invalid signature 's' value", "high-s twin");
  await expectRevert(vrsCalldata(fresh.authorization, { v: v - 27, r, s }), "ECRecover: invalid signature 'v' value", "v = 0/1");
  await expectRevert(bytesCalldata(fresh.authorization, fresh.signature.slice(0, -2)), "ECRecover: invalid signature length", "64-byte signature (bytes form)");
  const tampered = { ...fresh.authorization, value: "10001" };
  await expectRevert(vrsCalldata(tampered, { v, r, s }), "FiatTokenV2: invalid signature", "tampered value");
  receipt = await send(bytesCalldata(fresh.authorization, fresh.signature));
  check(receipt.status === "0x1" && receipt.logs[0].topics[0] === TOPIC_AUTHORIZATION_USED, "bytes-signature form succeeds");

  // Window checks use the block time, strictly.
  const future = crateSignAt((await now()) + 10_000, 10_000);
  await expectRevert(future.calldata, "FiatTokenV2: authorization is not yet valid", "validAfter in the future");
  const past = crateSignAt((await now()) - 10_000, 10_000);
  await expectRevert(past.calldata, "FiatTokenV2: authorization is expired", "validBefore in the past");

  // cancelAuthorization burns a nonce (signed by anvil's EIP-712 signer).
  const toCancel = crateSignAt(await now(), 10_000);
  const cancelMessage = { authorizer: PAYER, nonce: toCancel.authorization.nonce };
  const cancelFields = [{ name: "authorizer", type: "address" }, { name: "nonce", type: "bytes32" }];
  const cancelSig = splitSignature(await rpc("eth_signTypedData_v4", [PAYER, typedData("CancelAuthorization", cancelFields, cancelMessage)]));
  const cancel = encode(sel("cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"), word(PAYER), word(cancelMessage.nonce), uint(cancelSig.v), cancelSig.r, cancelSig.s);
  receipt = await send(cancel);
  check(receipt.status === "0x1" && receipt.logs.length === 1, "cancelAuthorization succeeds");
  await expectRevert(toCancel.calldata, "FiatTokenV2: authorization is used or canceled", "canceled nonce");

  // receiveWithAuthorization: only the payee may submit it.
  const t = await now();
  const receive = { from: PAYER, to: PAY_TO, value: "10000", validAfter: String(t - 600), validBefore: String(t + 300), nonce: randomNonce() };
  const receiveSig = splitSignature(await rpc("eth_signTypedData_v4", [PAYER, typedData("ReceiveWithAuthorization", AUTH_FIELDS, receive)]));
  const receiveSelector = sel("receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)");
  const receiveData = encode(receiveSelector, ...authWords(receive), uint(receiveSig.v), receiveSig.r, receiveSig.s);
  await expectRevert(receiveData, "FiatTokenV2: caller must be the payee", "receiveWithAuthorization from a third party");
  receipt = await send(receiveData, PAY_TO);
  check(receipt.status === "0x1" && receipt.logs.length === 2, "receiveWithAuthorization by the payee succeeds");

  const payerBalance = await balance(PAYER);
  check(payerBalance === 5_000_000n - 4n * 10_000n, `payer balance ${payerBalance} = 5000000 - 4 x 10000`);
}

const anvil = await startAnvil();
rpcUrl = anvil.url;
console.log(`anvil on ${rpcUrl}`);
let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(error.message);
} finally {
  anvil.child.removeAllListeners("exit");
  await new Promise((resolve) => {
    anvil.child.once("exit", resolve);
    anvil.child.kill();
  });
}
console.log(failed ? `smoke: ${passed} passed, 1 failed` : `smoke: ${passed} passed, 0 failed`);
process.exit(failed ? 1 : 0);
