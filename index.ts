import * as pulumi from "@pulumi/pulumi";
import { parseStackName } from "./components/naming";

/*
 * Entry point of every stack of the `catalyst` project. The stack name decides what it builds:
 * `platform` (or `dev`, the local default) bootstraps the cluster; `production`, `staging`,
 * `dev-<user>` and `pr-<n>` each build one environment. Each program reads and validates its
 * own typed configuration before it creates anything.
 */
const identity = parseStackName(pulumi.getStack());

// Loaded lazily so that a platform stack never loads the environment program and its config.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const outputs = identity.kind === "platform" ? require("./stacks/platform").platformProgram() : require("./stacks/environment").environmentProgram(identity);

export = outputs;
