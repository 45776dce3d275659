import { existsSync } from "fs";
import {
    CommandError,
    ConcurrentUpdateError,
    EngineEvent,
    LocalWorkspace,
    PulumiCommand,
    Stack,
    StackAlreadyExistsError,
    StackNotFoundError,
    StackSettings,
} from "@pulumi/pulumi/automation";
import type { Deployment } from "@pulumi/pulumi/automation";
import { policyPackOptions } from "../../policy/options";
import { DriftCollector } from "./drift";
import { logEvent, ProgressTracker, stepEvent } from "./events";
import { ADOPT_CLUSTER_VARIABLE, checkCluster, CLUSTER_TAG, isLocalCluster, readClusterIdentity } from "./identity";
import { endpoints, maskOutputs, WorkerRequest, WorkerResult } from "./protocol";
import { DeploymentState, locksAreStale, parseLockHolders, repairPendingOperations, rootStackUrn } from "./recovery";
import { fileBackendRoot, removeEmptySidecars } from "./sidecars";
import { EngineResults } from "./results";
import { readTags, storedTags, TAGS, tagValue } from "./tags";
import { CatalystEvent, StepName } from "./types";
import { assertKind } from "./validation";
import { prepareWorkDir, stackFileOf } from "./workspace";

/**
 * The stack operations a worker process runs with the Automation API's LocalWorkspace, in the
 * stack's own work dir: prepare the stack (salt, template config, per-stack values, tags),
 * repair it after a crash, and run up or destroy while reporting progress events.
 */

/** Thrown when the backend's stack lock stayed held by a live process until the deadline. */
export class BusyError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BusyError";
    }
}

/** State shared by the steps of one request. */
export interface Run {
    request: WorkerRequest;
    emit: (event: CatalystEvent) => void;
    signal: AbortSignal;
    recovered: boolean;
    /** The last error diagnostic of the engine: the best one-line reason for a failure. */
    lastError?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cli: Promise<PulumiCommand> | undefined;

/**
 * The worker's one `pulumi` CLI. `PulumiCommand.get()` runs `pulumi version`, and each
 * `LocalWorkspace.create` without a command calls it again: once per process is enough.
 */
function pulumiCli(): Promise<PulumiCommand> {
    cli ??= PulumiCommand.get();
    return cli;
}

function step(run: Run, name: StepName, message: string): void {
    run.emit(stepEvent(run.request.stack, name, message));
}

function tracked(run: Run, expectedTotal: number): { onEvent: (event: EngineEvent) => void; tracker: ProgressTracker } {
    const tracker = new ProgressTracker(run.request.stack, expectedTotal);
    const onEvent = (event: EngineEvent) => {
        for (const progress of tracker.handle(event)) {
            if (progress.type === "log" && progress.level === "error") {
                // A message that introduces a list (a config error: one bad key per line) keeps it.
                const lines = progress.message.trimEnd().split("\n");
                run.lastError = lines[0].endsWith(":") ? lines.join("\n") : lines[0];
            }
            run.emit(progress);
        }
    };
    return { onEvent, tracker };
}

/**
 * Runs `operation`, which takes the backend's stack lock. When the lock is held by a process of
 * this machine that is gone (a killed update), or by one on a host the caller named dead, the lock
 * is removed with `stack.cancel()` and the operation retried; a live holder is waited for,
 * polling, until the request's lock deadline.
 */
async function withBackendLock<T>(run: Run, stack: Stack, operation: () => Promise<T>): Promise<T> {
    let told = false;
    let staleRemovals = 0;
    for (;;) {
        try {
            return await operation();
        } catch (err) {
            if (!(err instanceof ConcurrentUpdateError)) {
                throw err;
            }
            const holders = parseLockHolders(err.message);
            if (locksAreStale(holders, undefined, undefined, run.request.deadLockHosts) && staleRemovals < 3) {
                staleRemovals++;
                const gone = [...new Set(holders.map((h) => `pid ${h.pid} on ${h.host}`))].join(", ");
                step(run, "recovering", `removing the stack lock of a pulumi process that is gone (${gone})`);
                await stack.cancel();
                run.recovered = true;
                continue;
            }
            const remaining = run.request.lockDeadline - Date.now();
            const who = holders.length > 0 ? holders.map((h) => `${h.user}@${h.host} pid ${h.pid}`).join(", ") : "another update";
            if (remaining <= 0) {
                throw new BusyError(`${run.request.stack} is locked by ${who} in the backend`);
            }
            if (!told) {
                told = true;
                step(run, "waiting", `the backend lock is held by ${who}; waiting up to ${Math.ceil(remaining / 1000)}s`);
            }
            await sleep(Math.min(remaining, 1500 + Math.random() * 1000));
        }
    }
}

/**
 * Restores the secrets salt of an existing stack whose work dir lost its stack file (a fresh
 * clone, a CI runner): the passphrase provider's state in the backend holds the same salt.
 * Without this, Pulumi would write a new salt and the stack's secrets would not decrypt.
 */
async function restoreSalt(workspace: LocalWorkspace, name: string): Promise<void> {
    if (existsSync(stackFileOf(workspace.workDir, name))) {
        return;
    }
    let deployment: { secrets_providers?: { type?: string; state?: { salt?: string } } };
    try {
        deployment = (await workspace.exportStack(name)).deployment ?? {};
    } catch (err) {
        if (err instanceof StackNotFoundError) {
            return;
        }
        throw err;
    }
    const salt = deployment.secrets_providers?.type === "passphrase" ? deployment.secrets_providers.state?.salt : undefined;
    if (salt) {
        await workspace.saveStackSettings(name, { encryptionSalt: salt });
    }
}

/** A selected stack, and whether this call created it (a new stack has no state to repair). */
interface Selected {
    stack: Stack;
    created: boolean;
}

/**
 * Selects the stack and then restores its salt when the work dir lacks its stack file; creates
 * it when asked and missing. `pulumi stack select` writes no stack file, so selecting before the
 * restore is safe, and a stack that does not exist yet has no salt to restore.
 */
async function selectStack(workspace: LocalWorkspace, name: string, create: boolean): Promise<Selected | undefined> {
    // Without a stack file in the work dir the stack is most likely new (previews remove their
    // work dir with the stack): create it at once, one CLI call instead of a failed select
    // first. `pulumi stack init` writes the stack file only after the backend created the stack,
    // so when it exists already (a fresh clone) the salt is still restored below.
    if (create && !existsSync(stackFileOf(workspace.workDir, name))) {
        try {
            return { stack: await Stack.create(name, workspace), created: true };
        } catch (err) {
            // A stack whose update was killed is still locked, and `stack init` then says it is
            // locked rather than that it exists: select it, and the update's withBackendLock
            // removes the lock of a holder that is gone.
            if (!(err instanceof StackAlreadyExistsError || err instanceof ConcurrentUpdateError)) {
                throw err;
            }
        }
    }
    try {
        const stack = await Stack.select(name, workspace);
        await restoreSalt(workspace, name);
        return { stack, created: false };
    } catch (err) {
        if (!(err instanceof StackNotFoundError)) {
            throw err;
        }
    }
    if (!create) {
        return undefined;
    }
    try {
        return { stack: await Stack.create(name, workspace), created: true };
    } catch (err) {
        // Another machine created it between our select and create.
        if (err instanceof StackAlreadyExistsError) {
            await restoreSalt(workspace, name);
            return { stack: await Stack.select(name, workspace), created: false };
        }
        throw err;
    }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A per-stack value laid over the template's: objects merge key by key (so `catalyst:access`
 * with only `owners` keeps the template's observers), anything else replaces.
 */
export function mergeConfigValue(base: unknown, patch: unknown): unknown {
    if (!isPlainObject(base) || !isPlainObject(patch) || "secure" in base) {
        return patch;
    }
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
        merged[key] = mergeConfigValue(base[key], value);
    }
    return merged;
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && "secure" in value;
}

/**
 * The stack's settings in its work dir. Only a missing file means "empty": any other read error
 * stops the operation, since saving settings read as empty would drop the stack's secrets salt
 * and its `secure:` values.
 */
async function readStackSettings(workspace: Pick<LocalWorkspace, "workDir" | "stackSettings">, stack: string): Promise<StackSettings> {
    const file = stackFileOf(workspace.workDir, stack);
    if (!existsSync(file)) {
        return {};
    }
    try {
        return await workspace.stackSettings(stack);
    } catch (err) {
        throw new Error(`cannot read ${file}: ${(err as Error).message.split("\n")[0]}; the file is left as it is`);
    }
}

/**
 * Writes the stack's config: secrets already set in the work dir, then the checked-in template's
 * plain values, then the request's per-stack values. The salt and secrets provider stay.
 */
export async function applyConfig(run: Run, workspace: Pick<LocalWorkspace, "workDir" | "stackSettings" | "saveStackSettings">): Promise<void> {
    const { request } = run;
    const existing = await readStackSettings(workspace, request.stack);
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(existing.config ?? {})) {
        if (isSecure(value)) {
            config[key] = value;
        }
    }
    if (request.configTemplate !== undefined) {
        const repo = await LocalWorkspace.create({ workDir: request.repoRoot, pulumiCommand: await pulumiCli() });
        const template = await repo.stackSettings(request.configTemplate);
        for (const [key, value] of Object.entries(template.config ?? {})) {
            if (isSecure(value)) {
                run.emit(logEvent(request.stack, "warning", `template Pulumi.${request.configTemplate}.yaml: skipping secret ${key} (encrypted for another stack)`));
            } else {
                config[key] = value;
            }
        }
    }
    for (const [key, value] of Object.entries(request.config)) {
        config[key] = mergeConfigValue(config[key], value);
    }
    await workspace.saveStackSettings(request.stack, { ...existing, config });
}

/** A stack's tags as the backend stores them (`stored`, packed: tags.ts) and what they mean (`tags`). */
interface StackTags {
    stored: Record<string, string>;
    tags: Record<string, string>;
}

async function readStackTags(stack: Stack): Promise<StackTags> {
    const stored = await stack.listTags();
    return { stored, tags: readTags(stored) };
}

/**
 * Sets `tags` over the stack's, writing only the stored (packed) tags that change: one
 * `pulumi stack tag set` each, one after the other (each rewrites the whole tag set, so two at
 * once would lose one). `keep` names tags that are only written when missing. `current` is the
 * stack's tags when the caller already knows them (the stack is locked by this operation, so
 * nobody else changes them). Returns the tags after.
 */
async function applyTags(stack: Stack, tags: Record<string, string>, keep: readonly string[], current?: StackTags): Promise<StackTags> {
    const before = current ?? await readStackTags(stack);
    const wanted = { ...before.tags };
    for (const [key, value] of Object.entries(tags)) {
        if (!(keep.includes(key) && wanted[key] !== undefined)) wanted[key] = value;
    }
    const stored = { ...before.stored };
    for (const [name, value] of Object.entries(storedTags(wanted, before.stored))) {
        if (stored[name] !== value) {
            await stack.setTag(name, value);
            stored[name] = value;
        }
    }
    return { stored, tags: readTags(stored) };
}

/**
 * Repairs a stack that holds interrupted operations (recovery.ts): takes the backend lock first
 * with a no-op refresh of the root resource, so that a live update elsewhere is waited for rather
 * than broken, then imports the repaired state and refreshes everything. Returns the number of
 * resources in the state.
 */
async function repairIfNeeded(run: Run, stack: Stack, probeLock: boolean, state?: Deployment): Promise<number> {
    let exported = state ?? await stack.exportStack();
    let deployment = (exported.deployment ?? {}) as DeploymentState;
    const root = rootStackUrn(deployment);
    if (root !== undefined && (probeLock || (deployment.pending_operations ?? []).length > 0)) {
        // Refreshing only the root component changes nothing but takes (and so checks) the lock.
        await withBackendLock(run, stack, () => stack.refresh({ target: [root], color: "never" }));
        exported = await stack.exportStack();
        deployment = (exported.deployment ?? {}) as DeploymentState;
    }
    const pending = deployment.pending_operations ?? [];
    if (pending.length === 0) {
        return (deployment.resources ?? []).length;
    }
    step(run, "recovering", `${pending.length} operation(s) were interrupted by an earlier run; repairing the state`);
    const repair = repairPendingOperations(deployment);
    await stack.importStack({ version: exported.version, deployment: repair.deployment });
    if (repair.adopted.length > 0) {
        run.emit(logEvent(run.request.stack, "info", `adopted ${repair.adopted.length} object(s) whose create was interrupted`));
    }
    if (repair.dropped.length > 0) {
        run.emit(logEvent(run.request.stack, "info", `dropped ${repair.dropped.length} interrupted operation(s)`));
    }
    step(run, "refreshing", "reading the adopted objects back from the cluster");
    const { onEvent } = tracked(run, 0);
    await withBackendLock(run, stack, () => stack.refresh({ onEvent, color: "never" }));
    run.recovered = true;
    return (repair.deployment.resources ?? []).length;
}

/**
 * Before an operation: when the stack's state describes another cluster than KUBECONFIG's
 * (identity.ts), refreshes the state from this cluster (the local default, or when adopting it)
 * or refuses with one line. Returns the number of resources in the state afterwards.
 */
async function convergeCluster(run: Run, stack: Stack, recorded: string | undefined, current: string, resourceCount: number): Promise<number> {
    const check = checkCluster(run.request.stack, recorded, current, {
        hasResources: resourceCount > 0,
        local: isLocalCluster(),
        adopt: process.env[ADOPT_CLUSTER_VARIABLE] === "1",
    });
    if (check.action === "proceed") {
        return resourceCount;
    }
    step(run, "refreshing", check.message);
    const { onEvent } = tracked(run, resourceCount);
    await withBackendLock(run, stack, () => stack.refresh({ onEvent, color: "never" }));
    run.recovered = true;
    const refreshed = (await stack.exportStack()).deployment as DeploymentState | undefined;
    return (refreshed?.resources ?? []).length;
}

/**
 * Runs one up or destroy with its outputs and summary answered from its engine events
 * (results.ts): `operation` gets the event listener to pass on, which also feeds `onEvent`.
 */
async function withEngineResults<T>(stack: Stack, kind: "update" | "destroy", onEvent: (event: EngineEvent) => void,
    operation: (onEvent: (event: EngineEvent) => void) => Promise<T>): Promise<T> {
    const results = new EngineResults(kind);
    const detach = results.attach(stack);
    try {
        return await operation((event) => {
            results.handle(event);
            onEvent(event);
        });
    } finally {
        detach();
    }
}

/**
 * The update id of an operation's result: the stack version, which Pulumi Cloud numbers; DIY
 * backends report version 0, so there it is the number of updates in the stack's history.
 */
async function updateId(stack: Stack, version: number): Promise<string> {
    if (version > 0) {
        return String(version);
    }
    // Without --show-secrets: only the count matters, and the CLI need not decrypt the config.
    return String((await stack.history(undefined, undefined, false)).length);
}

/**
 * After the first up of a new stack failed: when the state holds nothing but the stack itself and
 * its providers (the program stopped before any object, e.g. at a config error or an unreachable
 * chart repository), the stack is removed again, so a failed first attempt leaves nothing behind.
 */
async function removeIfNothingCreated(workspace: LocalWorkspace, stack: Stack): Promise<void> {
    const resources = ((await stack.exportStack()).deployment as DeploymentState | undefined)?.resources ?? [];
    if (resources.every((r) => r.type === "pulumi:pulumi:Stack" || r.type.startsWith("pulumi:providers:"))) {
        await workspace.removeStack(stack.name, { force: true });
    }
}

async function runUp(run: Run, workspace: LocalWorkspace): Promise<WorkerResult> {
    const { request } = run;
    const { stack, created } = (await selectStack(workspace, request.stack, true)) as Selected;
    step(run, "configuring", "writing stack config and tags");
    await applyConfig(run, workspace);
    // The state is read (for the repair check) while the tags are written: a read-only export
    // and tag writes touch different records. The repair itself, when needed, writes the state
    // and so waits for the tags. A stack created just now has no state to repair.
    const [tags, state, cluster] = await Promise.all([
        applyTags(stack, request.tags, request.keepTags, created ? { stored: {}, tags: {} } : undefined),
        created ? undefined : stack.exportStack(),
        readClusterIdentity(),
    ]);
    const repaired = state === undefined ? 0 : await repairIfNeeded(run, stack, false, state);
    const resourceCount = await convergeCluster(run, stack, tags.tags[CLUSTER_TAG], cluster, repaired);
    step(run, "updating", request.refresh ? "pulumi up --refresh" : "pulumi up");
    if (request.refresh) {
        // A repair takes back fields that another field manager took over (`kubectl scale` owns
        // spec.replicas afterwards), which server-side apply refuses as a conflict unless forced.
        // The worker is one process per operation: this reaches only this up's provider.
        process.env.PULUMI_K8S_ENABLE_PATCH_FORCE = "true";
    }
    const { onEvent } = tracked(run, resourceCount);
    // The security baseline checks every update this layer runs: CLI, HTTP API, MCP and CI alike.
    const policy = policyPackOptions();
    let result: Awaited<ReturnType<Stack["up"]>>;
    try {
        // `refresh` (a drift repair) reads every object back first, so the up also reverts what
        // was changed in the cluster behind the stack's back. Its outputs and summary come from
        // its own events (results.ts), not from three more `pulumi` processes.
        result = await withBackendLock(run, stack, () => withEngineResults(stack, "update", onEvent, (events) =>
            stack.up({ onEvent: events, signal: run.signal, color: "never", refresh: request.refresh, ...policy })));
    } catch (err) {
        if (created) await removeIfNothingCreated(workspace, stack);
        throw err;
    }
    const outputs = maskOutputs(result.outputs);
    const { namespace, url } = endpoints(outputs);
    const after: Record<string, string> = { [CLUSTER_TAG]: cluster };
    if (namespace !== undefined) after[TAGS.namespace] = namespace;
    if (url !== undefined) after[TAGS.url] = tagValue(url);
    // Reading the history (updateId) and writing the two tags do not depend on each other.
    const [id] = await Promise.all([updateId(stack, result.summary.version), applyTags(stack, after, [], tags)]);
    return {
        status: "succeeded",
        changes: result.summary.resourceChanges as Record<string, number> | undefined,
        updateId: id,
        outputs,
        recovered: run.recovered || undefined,
    };
}

async function runDestroy(run: Run, workspace: LocalWorkspace): Promise<WorkerResult> {
    const { request } = run;
    const stack = (await selectStack(workspace, request.stack, false))?.stack;
    if (stack === undefined) {
        return { status: "succeeded", noop: true };
    }
    const [{ tags }, cluster] = await Promise.all([readStackTags(stack), readClusterIdentity()]);
    const resourceCount = await convergeCluster(run, stack, tags[CLUSTER_TAG], cluster, await repairIfNeeded(run, stack, false));
    step(run, "destroying", "pulumi destroy");
    const { onEvent } = tracked(run, resourceCount);
    const result = await withBackendLock(run, stack, () => withEngineResults(stack, "destroy", onEvent, (events) =>
        stack.destroy({ onEvent: events, signal: run.signal, color: "never" })));
    // Two reads of the state, at once.
    const [exported, id] = await Promise.all([stack.exportStack(), updateId(stack, result.summary.version)]);
    const left = (exported.deployment as DeploymentState).resources ?? [];
    if (left.length > 0) {
        return {
            status: "failed",
            resourceCount: left.length,
            updateId: id,
            error: `${left.length} resource(s) remain after destroy; the stack is kept, run destroy again`,
        };
    }
    if (request.removeStack) {
        step(run, "removing", "removing the empty stack");
        // Never forced: Pulumi itself refuses to remove a stack that still has resources.
        await workspace.removeStack(request.stack);
    }
    return {
        status: "succeeded",
        changes: result.summary.resourceChanges as Record<string, number> | undefined,
        updateId: id,
        recovered: run.recovered || undefined,
        resourceCount: 0,
    };
}

/**
 * A drift check: `pulumi refresh --preview-only`, which reads every object of the stack back
 * from the cluster and reports what a refresh would change, writing nothing. A stack with
 * interrupted operations is repaired first (as before any operation), since its state would
 * otherwise report objects that were never finished as drift.
 */
async function runDrift(run: Run, workspace: LocalWorkspace): Promise<WorkerResult> {
    const stack = (await selectStack(workspace, run.request.stack, false))?.stack;
    if (stack === undefined) {
        return { status: "failed", error: `stack ${run.request.stack} does not exist: nothing to compare the cluster with` };
    }
    const resourceCount = await repairIfNeeded(run, stack, false);
    step(run, "refreshing", "pulumi refresh --preview-only: comparing the state with the cluster");
    const { onEvent } = tracked(run, resourceCount);
    const drift = new DriftCollector();
    const result = await withBackendLock(run, stack, () => stack.previewRefresh({
        onEvent: (event) => {
            drift.handle(event);
            onEvent(event);
        },
        signal: run.signal,
        color: "never",
    }));
    return {
        status: "succeeded",
        changes: result.changeSummary as Record<string, number> | undefined,
        drift: drift.resources,
        recovered: run.recovered || undefined,
    };
}

async function runRecover(run: Run, workspace: LocalWorkspace): Promise<WorkerResult> {
    const stack = (await selectStack(workspace, run.request.stack, false))?.stack;
    if (stack === undefined) {
        return { status: "succeeded", noop: true };
    }
    step(run, "recovering", "checking the stack after an interrupted operation");
    await repairIfNeeded(run, stack, true);
    return { status: "succeeded", recovered: run.recovered || undefined };
}

/** Makes the stack's objects in a file backend readable again after a killed write (sidecars.ts). */
async function removeKilledWriteLeftovers(run: Run, workspace: LocalWorkspace): Promise<void> {
    const project = (await workspace.projectSettings()).name;
    const removed = removeEmptySidecars(fileBackendRoot(process.env.PULUMI_BACKEND_URL), project, run.request.stack);
    if (removed.length > 0) {
        step(run, "recovering", `removed ${removed.length} empty metadata file(s) that a killed write left in the backend: ${removed.join(", ")}`);
        run.recovered = true;
    }
}

/** One line out of an Automation API error: the engine's last error, else the CLI's `error:` line. */
export function errorLine(err: unknown, lastError?: string): string {
    if (lastError) {
        return lastError;
    }
    const text = err instanceof Error ? err.message : String(err);
    const match = /(?:^|\n)\s*error: (.+)/.exec(text);
    return (match ? match[1] : text.split("\n").find((line) => line.trim() !== "") ?? "unknown error").trim();
}

/** Runs one worker request to its result; never throws. */
export async function runRequest(request: WorkerRequest, emit: (event: CatalystEvent) => void, signal: AbortSignal): Promise<WorkerResult> {
    const run: Run = { request, emit, signal, recovered: false };
    try {
        assertKind(request.stack, request.allowedKinds);
        run.emit({ ...stepEvent(request.stack, "preparing", `work dir ${request.workRoot}/${request.stack}, worker pid ${process.pid}`), pid: process.pid });
        const workDir = await prepareWorkDir(request.repoRoot, request.workRoot, request.stack, await pulumiCli());
        const workspace = await LocalWorkspace.create({ workDir, pulumiCommand: await pulumiCli() });
        await removeKilledWriteLeftovers(run, workspace);
        switch (request.action) {
            case "up":
                return await runUp(run, workspace);
            case "destroy":
                return await runDestroy(run, workspace);
            case "recover":
                return await runRecover(run, workspace);
            case "drift":
                return await runDrift(run, workspace);
        }
    } catch (err) {
        if (err instanceof BusyError) {
            return { status: "busy", error: err.message, recovered: run.recovered || undefined };
        }
        const cancelled = signal.aborted ? "cancelled: " : "";
        const detail = err instanceof CommandError || err instanceof Error ? errorLine(err, run.lastError) : String(err);
        return { status: "failed", error: `${cancelled}${detail}`, recovered: run.recovered || undefined };
    }
}
