#!/usr/bin/env node
// The `catalyst` CLI: a tiny shim that loads the TypeScript program (stacks/main.ts) through the
// project's one TypeScript loader, the transpile cache (tools/register.js), as the Pulumi programs
// and the workers load it. Node >= 22 is required (@pulumi/pulumi); with an older node on PATH
// the shim re-runs itself with the node the toolchain bootstrap provides (tools/bootstrap.sh).
"use strict";

const path = require("path");
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

try {
  require.resolve("typescript", { paths: [root] });
} catch {
  process.stderr.write("catalyst: the project's dependencies are not installed; run `npm install` in " + root + "\n");
  process.exit(1);
}
require(path.join(root, "tools", "register.js"));
require(path.join(root, "stacks", "main.ts")).run(process.argv.slice(2));
