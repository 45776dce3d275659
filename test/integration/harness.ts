import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { policyPackOptions } from "../../policy/options";

/**
 * Shared helpers of the integration tests. They run against the real local cluster and the
 * real Pulumi engine that `tools/test.sh` prepares: it exports KUBECONFIG, PULUMI_HOME,
 * PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE and a PATH with the built tools.
 */

/** The repository root (holds Pulumi.yaml). */
export const repoRoot = path.resolve(__dirname, "..", "..");

const REQUIRED_ENV = ["KUBECONFIG", "PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"];

/** Fails loudly when the environment from `tools/env.sh` is missing: a setup bug, not a skip. */
export function requireTestEnvironment(): void {
    const missing = REQUIRED_ENV.filter((name) => !process.env[name]);
    if (missing.length > 0) {
        throw new Error(`integration tests need ${missing.join(", ")}: run them through \`npm test\``);
    }
}

/** A short random suffix, so concurrent runs never share names. */
export function suffix(): string {
    return randomBytes(3).toString("hex");
}

/** Runs kubectl against the test cluster and returns its standard output. */
export function kubectl(args: string[], input?: string): string {
    return execFileSync("kubectl", args, {
        encoding: "utf8",
        input,
        stdio: ["pipe", "pipe", "pipe"],
        env: process.env,
    });
}

/** Runs kubectl and returns the error text when it fails (or "" when it succeeds). */
export function kubectlError(args: string[], input?: string): string {
    try {
        kubectl(args, input);
        return "";
    } catch (err) {
        const failure = err as { stderr?: string; message: string };
        return failure.stderr ?? failure.message;
    }
}

/** Runs kubectl with `-o json` and parses the result. */
export function kubectlJson<T = Record<string, unknown>>(args: string[]): T {
    return JSON.parse(kubectl([...args, "-o", "json"])) as T;
}

/** Counts objects of the given kinds that carry `selector`, across all namespaces. */
export function countLabelled(kinds: string, selector: string): number {
    // `-o name` prints nothing at all when nothing matches, where `-o json` would print no JSON.
    const names = kubectl(["get", kinds, "-A", "-l", selector, "-o", "name"]);
    return names.split("\n").filter((line) => line.trim() !== "").length;
}

/**
 * Creates (or selects) a stack of this project with `config`, hands it to `body`, and destroys
 * and removes it afterwards whatever happens, as Pulumi's own tests do.
 */
export async function withStack(
    stackName: string,
    config: ConfigMap,
    body: (stack: Stack) => Promise<void>,
    options: { envVars?: Record<string, string> } = {},
): Promise<void> {
    requireTestEnvironment();
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, workDir: repoRoot },
        { envVars: options.envVars },
    );
    try {
        await stack.setAllConfig(config);
        await body(stack);
    } finally {
        try {
            await stack.destroy({ onOutput: quietOutput });
        } finally {
            await stack.workspace.removeStack(stackName);
        }
    }
}

/** Keeps engine output out of the test log unless CATALYST_TEST_VERBOSE is set. */
export function quietOutput(line: string): void {
    if (process.env.CATALYST_TEST_VERBOSE) {
        process.stderr.write(line);
    }
}

/**
 * What a preview of `stack` would change, one line per resource (`update <urn> [spec, metadata]`),
 * so that a failed "no changes" assertion names the resource and its changed properties. Reads
 * (a StackReference reads its stack on every run) change nothing.
 */
export async function previewChanges(stack: Stack): Promise<string[]> {
    const changed: string[] = [];
    await stack.preview({
        onOutput: quietOutput,
        onEvent: (event) => {
            const step = event.resourcePreEvent?.metadata;
            if (step !== undefined && step.op !== "same" && step.op !== "read") changed.push(`${step.op} ${step.urn} [${(step.diffs ?? []).join(", ")}] ${JSON.stringify(step.detailedDiff ?? {})}`);
        },
    });
    return changed;
}

/** The platform stack shared by the integration tests of one `npm test` run. */
export const PLATFORM_STACK = "platform";
const platformMarker = path.join(repoRoot, ".catalyst", "test-results", "platform-up");

/**
 * The configuration of the embedded default (`Pulumi.dev.yaml`), to apply to another stack.
 * Values are passed as strings; nested objects as JSON, as `pulumi config set --path` would.
 */
export function devPlatformConfig(): ConfigMap {
    const file = yaml.load(readFileSync(path.join(repoRoot, "Pulumi.dev.yaml"), "utf8")) as {
        config?: Record<string, unknown>;
    };
    const config: ConfigMap = {};
    for (const [key, value] of Object.entries(file.config ?? {})) {
        config[key] = { value: typeof value === "string" ? value : JSON.stringify(value) };
    }
    return config;
}

/**
 * Brings the shared platform stack up once per test run and returns it; later callers reuse it.
 * `test/integration/zz-platform.test.ts` runs last (see sequencer.js), checks it and destroys it.
 */
export async function ensurePlatform(): Promise<Stack> {
    requireTestEnvironment();
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: PLATFORM_STACK, workDir: repoRoot });
    if (!existsSync(platformMarker)) {
        await stack.setAllConfig(devPlatformConfig());
        // Under the policy pack, as every update of the project's stacks runs.
        const result = await stack.up({ onOutput: quietOutput, ...policyPackOptions() });
        if (result.summary.result !== "succeeded") {
            throw new Error(`platform stack up ${result.summary.result}`);
        }
        mkdirSync(path.dirname(platformMarker), { recursive: true });
        writeFileSync(platformMarker, new Date().toISOString());
    }
    return stack;
}

/** Destroys and removes the shared platform stack and forgets that it was up. */
export async function destroyPlatform(stack: Stack): Promise<void> {
    rmSync(platformMarker, { force: true });
    const result = await stack.destroy({ onOutput: quietOutput });
    if (result.summary.result !== "succeeded") {
        throw new Error(`platform stack destroy ${result.summary.result}`);
    }
    await stack.workspace.removeStack(PLATFORM_STACK);
}

/** An MCP client connected to `catalyst mcp` on stdio, with `env` over the test's environment. */
export async function mcpStdioClient(name: string, env: Record<string, string>): Promise<Client> {
    const transport = new StdioClientTransport({
        command: process.execPath,
        args: [path.join(repoRoot, "bin", "catalyst.js"), "mcp"],
        cwd: repoRoot,
        env: { ...(process.env as Record<string, string>), ...env },
        stderr: "ignore",
    });
    const client = new Client({ name, version: "0.0.0" });
    await client.connect(transport);
    return client;
}
