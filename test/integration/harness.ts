import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import * as path from "path";
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

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
    const list = kubectlJson<{ items: unknown[] }>(["get", kinds, "-A", "-l", selector, "--ignore-not-found"]);
    return list.items.length;
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
