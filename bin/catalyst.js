#!/usr/bin/env node
// The `catalyst` CLI: a tiny shim that loads the TypeScript CLI (stacks/cli/main.ts)
// through the project's transpile cache (tools/register.js), or the compiled build in dist/ when
// TypeScript is not installed. Node >= 22 is required (@pulumi/pulumi); with an older node on
// PATH the shim re-runs itself with the node the toolchain bootstrap provides (tools/bootstrap.sh).
"use strict";

const path = require("path");
const fs = require("fs");
const { spawnSync, execFileSync } = require("child_process");

const root = path.resolve(__dirname, "..");
const major = Number(process.versions.node.split(".")[0]);

if (major < 22) {
  let node;
  try {
    const tools = execFileSync("bash", [path.join(root, "tools", "bootstrap.sh"), "--quiet"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    node = path.join(tools, "node");
  } catch {
    process.stderr.write(`catalyst: needs Node >= 22 (this is ${process.version}) and tools/bootstrap.sh failed\n`);
    process.exit(1);
  }
  const child = spawnSync(node, [__filename, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}

let entry;
try {
  // The project's transpile cache (tools/register.js): the compiler loads only when a file changed.
  require.resolve("typescript", { paths: [root] });
  require(path.join(root, "tools", "register.js"));
  entry = path.join(root, "stacks", "automation", "cli", "main.ts");
} catch {
  entry = path.join(root, "dist", "stacks", "automation", "cli", "main.js");
  if (!fs.existsSync(entry)) {
    process.stderr.write("catalyst: neither TypeScript nor a build in dist/ was found; run `npm ci` (or `npm run build`)\n");
    process.exit(1);
  }
}
require(entry).run(process.argv.slice(2));
