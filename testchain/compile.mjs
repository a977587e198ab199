// Compiles contracts/TestUSDC.sol with the pinned solc-js (package.json) and writes
// build/TestUSDC.json { contractName, compiler, settings, abi, methodIdentifiers, bytecode,
// deployedBytecode }.
// `bytecode` is the creation code (for a deploy transaction); `deployedBytecode` is the
// runtime code (what `anvil_setCode` takes). The output is committed, so tests never
// need a compiler. Run: `node compile.mjs` (or `npm run compile`).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const here = dirname(fileURLToPath(import.meta.url));
const sourceName = "contracts/TestUSDC.sol";
const contractName = "TestUSDC";

const settings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "paris",
  // No metadata hash: the output depends only on the source and these settings.
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"] } },
};

const input = {
  language: "Solidity",
  sources: { [sourceName]: { content: readFileSync(join(here, sourceName), "utf8") } },
  settings,
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const diagnostics = output.errors ?? [];
for (const d of diagnostics) console.error(d.formattedMessage ?? d.message);
if (diagnostics.some((d) => d.severity === "error")) process.exit(1);

const contract = output.contracts[sourceName][contractName];
const artifact = {
  contractName,
  sourceName,
  compiler: `solc-js ${solc.version()}`,
  settings: { optimizer: settings.optimizer, evmVersion: settings.evmVersion, metadata: settings.metadata },
  abi: contract.abi,
  methodIdentifiers: contract.evm.methodIdentifiers,
  bytecode: `0x${contract.evm.bytecode.object}`,
  deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
};

mkdirSync(join(here, "build"), { recursive: true });
const outPath = join(here, "build", `${contractName}.json`);
writeFileSync(outPath, `${JSON.stringify(artifact, null, 2)}\n`);
console.log(
  `wrote ${outPath}: creation ${(artifact.bytecode.length - 2) / 2} bytes, runtime ${(artifact.deployedBytecode.length - 2) / 2} bytes`,
);
