import { execFile } from "child_process";
import { namespaceName } from "../../components/naming";
import { DeploymentState, rootStackUrn } from "./recovery";
import { recordFromTags } from "./tags";
import { EnvironmentRecord, EnvironmentStatus } from "./types";
import { prepareWorkDir } from "./workspace";

/**
 * Read-only views of the backend: the project's stacks with their tags, and one stack's status.
 * Runs the `pulumi` CLI directly from a catalog work dir (`.catalyst/work/.catalog`, a generated
 * Pulumi.yaml only); these commands neither lock stacks nor decrypt secrets, and write nothing.
 */

/** Thrown when a read fails for another reason than a missing stack. */
export class CatalogError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CatalogError";
    }
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Replaces Pulumi's serialized secrets (anywhere in a value) by "[secret]". */
export function maskSecrets(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(maskSecrets);
    }
    if (typeof value === "object" && value !== null) {
        if (SECRET_SIG in value) {
            return "[secret]";
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v)]));
    }
    return value;
}

interface StackSummary {
    name: string;
    lastUpdate?: string;
    updateInProgress?: boolean;
    resourceCount?: number;
}

/** Reads stacks, tags and state of the project's backend. */
export class Catalog {
    constructor(private readonly repoRoot: string, private readonly workRoot: string, private readonly parallel = 4) {}

    /** Runs `pulumi <args>` in the catalog dir; resolves with stdout, or undefined for "no stack named". */
    private pulumi(args: string[]): Promise<string | undefined> {
        const cwd = prepareWorkDir(this.repoRoot, this.workRoot, ".catalog");
        return new Promise((resolve, reject) => {
            // Reads get a timeout too: a hung backend must not hang `list` or `gc`.
            const options = { cwd, env: process.env, maxBuffer: 256 * 1024 * 1024, timeout: 120_000, killSignal: "SIGKILL" as const };
            execFile("pulumi", [...args, "--non-interactive"], options, (err, stdout, stderr) => {
                if (!err) {
                    resolve(stdout);
                } else if (/no stack named .* found/.test(stderr)) {
                    resolve(undefined);
                } else {
                    const line = stderr.split("\n").find((l) => /error/i.test(l)) ?? err.message.split("\n")[0];
                    reject(new CatalogError(`pulumi ${args.slice(0, 2).join(" ")}: ${line.trim()}`));
                }
            });
        });
    }

    /** The project's stacks as the backend lists them. */
    async stacks(): Promise<StackSummary[]> {
        return JSON.parse((await this.pulumi(["stack", "ls", "--json"])) ?? "[]") as StackSummary[];
    }

    /** A stack's tags, or undefined when the stack does not exist. */
    async tags(stack: string): Promise<Record<string, string> | undefined> {
        const out = await this.pulumi(["stack", "tag", "ls", "--json", "--stack", stack]);
        return out === undefined ? undefined : (JSON.parse(out) as Record<string, string>);
    }

    /** Every stack of the project this layer knows how to name, with its tags. */
    async records(): Promise<EnvironmentRecord[]> {
        const stacks = await this.stacks();
        const records: EnvironmentRecord[] = [];
        let next = 0;
        const worker = async () => {
            while (next < stacks.length) {
                const summary = stacks[next++];
                const tags = await this.tags(summary.name);
                const record = tags && recordFromTags(summary.name, tags, summary);
                if (record) {
                    records.push(record);
                }
            }
        };
        await Promise.all(Array.from({ length: Math.min(this.parallel, stacks.length) }, worker));
        return records.sort((a, b) => a.stack.localeCompare(b.stack, "en", { numeric: true }));
    }

    /** One stack's record, outputs (secrets masked), pending operations and last update. */
    async status(stack: string): Promise<EnvironmentStatus | undefined> {
        const summary = (await this.stacks()).find((s) => s.name === stack);
        const tags = summary && (await this.tags(stack));
        const record = tags && recordFromTags(stack, tags, summary);
        if (!record) {
            return undefined;
        }
        const exported = await this.pulumi(["stack", "export", "--stack", stack]);
        const deployment = (exported ? (JSON.parse(exported) as { deployment?: DeploymentState }).deployment : undefined) ?? {};
        const root = rootStackUrn(deployment);
        const outputs = (deployment.resources?.find((r) => r.urn === root)?.outputs ?? {}) as Record<string, unknown>;
        const status: EnvironmentStatus = {
            ...record,
            outputs: maskSecrets(outputs) as Record<string, unknown>,
            pendingOperations: (deployment.pending_operations ?? []).length,
            resourceCount: (deployment.resources ?? []).length,
        };
        if (status.namespace === undefined && status.kind !== "platform") {
            status.namespace = namespaceName(stack);
        }
        // DIY backends number no versions (always 0): their update id is the count of updates.
        const history = await this.pulumi(["stack", "history", "--json", "--stack", stack]);
        const updates = history ? (JSON.parse(history) as { version?: number; result?: string }[]) : [];
        if (updates.length > 0) {
            status.lastResult = updates[0].result;
            status.updateId = String(updates[0].version ? updates[0].version : updates.length);
        }
        return status;
    }
}
