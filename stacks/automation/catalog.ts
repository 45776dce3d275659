import { execFile } from "child_process";
import { CommandError, LocalWorkspace, PulumiCommand, StackNotFoundError, StackSummary } from "@pulumi/pulumi/automation";
import { namespaceName } from "../../components/naming";
import { DEFAULT_OPERATIONS_LIMIT, lastDeployOf, operationsOf } from "./history";
import { DeploymentState, rootStackUrn } from "./recovery";
import { fileBackendRoot, removeEmptySidecars } from "./sidecars";
import { readTags, recordFromTags } from "./tags";
import { resourcesOf } from "./state-resources";
import { EnvironmentRecord, EnvironmentStatus, StackOperation, StackResource } from "./types";
import { prepareWorkDir } from "./workspace";

/**
 * Read-only views of the backend: the project's stacks with their tags, and one stack's status,
 * through the Automation API's own calls (listStacks, listTags, exportStack, history) in a
 * catalog work dir (`.catalyst/work/.catalog`, a generated Pulumi.yaml only). These reads take no
 * stack lock and write no state. History and the resource list are one `pulumi` process each,
 * with `--stack` (no `stack select` first) and without `--show-secrets`. (The SDK's exportStack passes `--show-secrets`: secret values
 * stay wrapped in their envelope and are masked by {@link maskSecrets} before leaving here.)
 */

/** Deadline of one backend read: a hung backend must not hang `list` or `gc`. */
const READ_TIMEOUT_MS = 120_000;

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

/** Reads stacks, tags and state of the project's backend. */
export class Catalog {
    private workspace?: Promise<LocalWorkspace>;

    constructor(private readonly repoRoot: string, private readonly workRoot: string, private readonly parallel = 4) {}

    /** The catalog's workspace, created once (the `pulumi` CLI is looked up once too). */
    private ws(): Promise<LocalWorkspace> {
        this.workspace ??= (async () => {
            const pulumiCommand = await PulumiCommand.get();
            const workDir = await prepareWorkDir(this.repoRoot, this.workRoot, ".catalog", pulumiCommand);
            return LocalWorkspace.create({ workDir, pulumiCommand });
        })();
        this.workspace.catch(() => (this.workspace = undefined));
        return this.workspace;
    }

    /** Runs one read with a deadline; `undefined` for a stack that does not exist. */
    private async read<T>(what: string, call: (ws: LocalWorkspace) => Promise<T>): Promise<T | undefined> {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new CatalogError(`${what}: no answer from the backend within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
            timer.unref();
        });
        try {
            return await Promise.race([this.ws().then(call), deadline]);
        } catch (err) {
            if (err instanceof StackNotFoundError) return undefined;
            if (err instanceof CatalogError) throw err;
            throw new CatalogError(`${what}: ${firstErrorLine(err)}`);
        } finally {
            clearTimeout(timer);
        }
    }

    /** The project's stacks as the backend lists them. */
    async stacks(): Promise<StackSummary[]> {
        return (await this.read("list stacks", async (ws) => {
            // One stack left unreadable by a killed write would fail the listing of all of them.
            removeEmptySidecars(fileBackendRoot(process.env.PULUMI_BACKEND_URL), (await ws.projectSettings()).name);
            return ws.listStacks();
        })) ?? [];
    }

    /** A stack's tags (packed or not, as {@link readTags} reads them), or undefined when the stack does not exist. */
    async tags(stack: string): Promise<Record<string, string> | undefined> {
        const stored = await this.read(`tags of ${stack}`, (ws) => ws.listTags(stack));
        return stored && readTags(stored);
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
        const exported = await this.read(`state of ${stack}`, (ws) => ws.exportStack(stack));
        const deployment = (exported?.deployment as DeploymentState | undefined) ?? {};
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
        const updates = (await this.history(stack)) ?? [];
        if (updates.length > 0) {
            const last = updates[0] as { result?: string; version?: number };
            status.lastResult = last.result;
            status.updateId = String(last.version ? last.version : updates.length);
            const deploy = lastDeployOf(operationsOf(updates, updates.length));
            if (deploy !== undefined) status.lastDeploy = deploy;
        }
        return status;
    }

    /** The stack's last `limit` operations, newest first (history.ts), or undefined when the stack does not exist. */
    async operations(stack: string, limit = DEFAULT_OPERATIONS_LIMIT): Promise<StackOperation[] | undefined> {
        const history = await this.history(stack, limit);
        return history && operationsOf(history, limit);
    }

    /** The resources the stack's state holds (state-resources.ts), or undefined when the stack does not exist. */
    async resources(stack: string): Promise<StackResource[] | undefined> {
        const text = await this.read(`state of ${stack}`, (ws) => this.pulumi(ws, ["stack", "export"], stack));
        return text === undefined ? undefined : resourcesOf((JSON.parse(text) as { deployment?: unknown }).deployment);
    }

    /**
     * `pulumi stack history --json` of a stack (one page of `pageSize` when given), or undefined
     * when the stack does not exist. Without `--show-secrets`: every entry carries the stack's
     * config, which need not be decrypted to be dropped.
     */
    private async history(stack: string, pageSize?: number): Promise<unknown[] | undefined> {
        const paging = pageSize === undefined ? [] : ["--page-size", String(pageSize), "--page", "1"];
        const text = await this.read(`history of ${stack}`, (ws) => this.pulumi(ws, ["stack", "history", "--json", ...paging], stack));
        if (text === undefined) return undefined;
        const parsed = JSON.parse(text) as unknown;
        return Array.isArray(parsed) ? parsed : [];
    }

    /**
     * Runs one `pulumi` command on a stack in the catalog's work dir, with `--stack` (the SDK's
     * Stack would run `pulumi stack select` first: a second process). Undefined when the stack
     * does not exist; killed at the read deadline.
     */
    private pulumi(ws: LocalWorkspace, args: string[], stack: string): Promise<string | undefined> {
        return new Promise((resolve, reject) => {
            execFile(ws.pulumiCommand.command, [...args, "--stack", stack, "--non-interactive"], {
                cwd: ws.workDir,
                env: { ...process.env, ...ws.envVars },
                maxBuffer: 512 * 1024 * 1024,
                timeout: READ_TIMEOUT_MS,
            }, (err, stdout, stderr) => {
                if (err === null) return resolve(stdout);
                // The Automation API's own test for a missing stack (StackNotFoundError).
                if (/no stack named.*found/.test(stderr)) return resolve(undefined);
                reject(new Error(stderr.trim() !== "" ? stderr : err.message));
            });
        });
    }
}

/** The engine's `error:` line of a failed command, else the error's first line. */
function firstErrorLine(err: unknown): string {
    const text = err instanceof CommandError || err instanceof Error ? err.message : String(err);
    const line = text.split("\n").find((l) => /^\s*error: /.test(l)) ?? text.split("\n").find((l) => l.trim() !== "") ?? "failed";
    return line.replace(/^\s*error: /, "").trim();
}
