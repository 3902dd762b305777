// wasip1.mjs runs a GOOS=wasip1 program under Node's WASI with the host's
// root directory preopened as "/", so absolute paths work as on the host:
//
//   node ci/cross/wasip1.mjs PROGRAM.wasm ARGS...
//
// The program's exit code becomes Node's: its proc_exit ends Node at once
// (returnOnExit: false). Returning from start() instead and exiting
// afterwards made Node 20 segfault at exit in about half the runs.
// (Node prints an "experimental" warning on stderr; ci/determinism.sh
// passes --no-warnings.)
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import process from "node:process";

const [wasmPath, ...args] = process.argv.slice(2);
if (!wasmPath) {
  console.error("usage: node wasip1.mjs PROGRAM.wasm ARGS...");
  process.exit(2);
}
const wasi = new WASI({
  version: "preview1",
  args: [wasmPath, ...args],
  env: { PWD: process.cwd() },
  preopens: { "/": "/" },
  returnOnExit: false,
});
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance); // a Go program always ends in proc_exit
