import { driftSummary } from "../automation/drift";
import type { Automation } from "../automation/operations";
import type { OperationResult } from "../automation/types";
import type { EventListener } from "../automation/events";
import { DriftCheck, EnvironmentObject, EnvironmentStatus, ENVIRONMENT_FINALIZER, LastOperation, OperationProgress } from "../resources/types";
import { ControlPlaneApi, EventRecord } from "./cluster";
import { condition, ConditionUpdate, isTrue, setConditions } from "./conditions";
import { DesiredStack, desiredStack, SpecError } from "./desired";
import { driftDueAt } from "./drift";
import { OperationRecorder, startedOperation } from "./progress";

/**
 * One reconcile of one Environment, level-based: read it fresh, compare what it asks for with
 * what its status says was done, act through the automation library, write the status and an
 * Event. Idempotent: a second reconcile of an unchanged, Ready Environment does nothing.
 *
 * - A new object gets the finalizer first; deleting it destroys the stack through Pulumi, and the
 *   finalizer goes only once the destroy succeeded (never a bare namespace delete).
 * - A spec the stack config refuses: `Ready=False` (reason InvalidSpec), no stack operation.
 * - A failed `up`: `Ready=False` with the error, retried with exponential backoff; after
 *   `maxFailures` in a row `Stalled=True`. A new generation starts the count again.
 * - A passed TTL (`status.expiresAt`) deletes the Environment, which then destroys its stack.
 * - A Ready Environment gets a drift check (a refresh in preview mode) every `driftIntervalMs`,
 *   jittered (drift.ts): `Drifted` says whether its objects still match the stack's state; with
 *   the Project's `spec.drift.repair` an up with a refresh first puts them back.
 * - Every up and destroy records its progress in `status.operation` (progress.ts).
 */

/** The automation calls a reconcile makes. */
export type StackOperations = Pick<Automation, "upPreview" | "up" | "destroyPreview" | "destroy" | "checkDrift">;

/** Settings of a {@link Reconciler}. */
export interface ReconcilerSettings {
    /** This replica (Events, the audit log's actor). */
    identity: string;
    /** Failures in a row before Stalled. */
    maxFailures: number;
    /** First retry delay after a failure; doubled each time. */
    backoffBaseMs: number;
    /** Longest retry delay. */
    backoffMaxMs: number;
    /** Drift check of each Ready Environment this often (jittered); 0 or unset: never. */
    driftIntervalMs?: number;
    /** Least time between two progress patches of `status.operation` (default progress.ts's). */
    progressIntervalMs?: number;
    now?: () => number;
}

/** What the caller does next with the key. */
export interface ReconcileOutcome {
    /** What happened, for metrics and logs. */
    result: "unchanged" | "reconciled" | "invalid" | "failed" | "busy" | "deleted" | "destroyed" | "gone" | "clean" | "drifted" | "repaired";
    /** Reconcile again after this many milliseconds (undefined: only on the next change). */
    requeueAfterMs?: number;
    /** Set when a stack operation ran. */
    operation?: OperationResult;
}

/** The backoff after `failures` failures in a row: base * 2^(failures-1), capped. */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
    return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

function lastOperation(result: OperationResult, started: number): LastOperation {
    const operation: LastOperation = {
        action: result.action === "destroy" ? "destroy" : "up",
        result: result.status,
        start: new Date(started).toISOString(),
        durationMs: Math.round(result.durations.totalMs),
    };
    if (result.updateId !== undefined) operation.id = result.updateId;
    if (result.changes !== undefined) operation.changes = result.changes;
    if (result.error !== undefined) operation.message = result.error.slice(0, 4096);
    return operation;
}

/** Reconciles Environments through the automation library. */
export class Reconciler {
    private readonly now: () => number;

    constructor(private readonly api: ControlPlaneApi, private readonly stacks: StackOperations, private readonly settings: ReconcilerSettings) {
        this.now = settings.now ?? Date.now;
    }

    /** Reconciles `namespace/name`; `siblings` are the cached Environments of the namespace. */
    async reconcile(namespace: string, name: string, siblings: readonly EnvironmentObject[] = []): Promise<ReconcileOutcome> {
        let environment = await this.api.getEnvironment(namespace, name);
        if (environment === undefined) return { result: "gone" };
        if (environment.metadata.deletionTimestamp !== undefined) {
            return this.finalize(environment);
        }
        if (!(environment.metadata.finalizers ?? []).includes(ENVIRONMENT_FINALIZER)) {
            environment = await this.api.setEnvironmentFinalizers(namespace, name, [...(environment.metadata.finalizers ?? []), ENVIRONMENT_FINALIZER], environment.metadata.resourceVersion);
        }
        const generation = environment.metadata.generation ?? 1;
        const status = environment.status ?? {};
        const current = status.observedGeneration === generation;

        if (current && status.expiresAt !== undefined && Date.parse(status.expiresAt) <= this.now()) {
            await this.event(environment, { type: "Normal", reason: "Expired", message: `TTL passed at ${status.expiresAt}; deleting the Environment (its stack is destroyed first)` });
            await this.api.deleteEnvironment(namespace, name);
            return { result: "deleted", requeueAfterMs: 0 };
        }
        if (current && isTrue(status.conditions, "Ready", generation)) {
            return this.driftCheckIfDue(environment, siblings);
        }
        const failures = current ? status.failures ?? 0 : 0;
        if (current && failures > 0 && status.lastOperation !== undefined) {
            const due = Date.parse(status.lastOperation.start) + status.lastOperation.durationMs + backoffMs(failures, this.settings.backoffBaseMs, this.settings.backoffMaxMs);
            if (due > this.now()) return { result: "failed", requeueAfterMs: due - this.now() };
        }

        let desired: DesiredStack;
        try {
            const project = await this.api.getProject(namespace, environment.spec.project);
            desired = desiredStack(environment, project, siblings);
        } catch (err) {
            if (!(err instanceof SpecError)) throw err;
            if (current && status.conditions?.some((c) => c.type === "Ready" && c.reason === err.reason && c.message === err.message)) {
                return { result: "invalid" };
            }
            await this.writeStatus(environment, { ...status, observedGeneration: generation, failures: 0 }, [
                { type: "Ready", status: "False", reason: err.reason, message: err.message },
                { type: "Progressing", status: "False", reason: err.reason, message: "nothing is done until the spec is fixed" },
                { type: "Stalled", status: "False", reason: err.reason, message: "" },
            ]);
            await this.event(environment, { type: "Warning", reason: err.reason, message: err.message });
            // A Project created later makes the spec valid without a new generation.
            return { result: "invalid", requeueAfterMs: err.reason === "ProjectNotFound" ? 30_000 : undefined };
        }

        const recorder = this.recorder(environment, "up");
        await this.writeStatus(environment, { ...status, stack: desired.stack, operation: recorder.operation }, [
            { type: "Progressing", status: "True", reason: "Reconciling", message: `running up on stack ${desired.stack} (generation ${generation})` },
        ]);
        const started = this.now();
        const result = await this.up(desired, undefined, false, recorder.handle);
        const operation = await recorder.finish(result);
        const next: EnvironmentStatus = {
            ...status,
            observedGeneration: generation,
            stack: desired.stack,
            lastOperation: lastOperation(result, started),
            operation,
        };
        if (result.status === "busy") {
            await this.writeStatus(environment, { ...status, stack: desired.stack, operation }, [
                { type: "Progressing", status: "True", reason: "Waiting", message: result.error ?? "the stack is busy" },
            ]);
            return { result: "busy", requeueAfterMs: 5_000, operation: result };
        }
        if (result.status === "succeeded") {
            next.failures = 0;
            next.url = result.url;
            next.namespace = result.namespace;
            next.expiresAt = desired.ttlMs === undefined ? undefined : new Date(started + desired.ttlMs).toISOString();
            await this.writeStatus(environment, next, [
                { type: "Ready", status: "True", reason: "Reconciled", message: `stack ${desired.stack} is up${result.url ? ` at ${result.url}` : ""}` },
                { type: "Progressing", status: "False", reason: "Reconciled", message: "" },
                { type: "Stalled", status: "False", reason: "Reconciled", message: "" },
            ]);
            await this.event(environment, { type: "Normal", reason: "Reconciled", message: `up of ${desired.stack} succeeded (generation ${generation}, update ${result.updateId ?? "-"})` });
            return { result: "reconciled", requeueAfterMs: this.untilExpiry(next), operation: result };
        }
        next.failures = failures + 1;
        const stalled = next.failures >= this.settings.maxFailures;
        const retryMs = backoffMs(next.failures, this.settings.backoffBaseMs, this.settings.backoffMaxMs);
        const message = result.error ?? `up ${result.status}`;
        await this.writeStatus(environment, next, [
            { type: "Ready", status: "False", reason: "UpFailed", message },
            { type: "Progressing", status: "False", reason: "RetryScheduled", message: `failure ${next.failures}; next try in ${Math.round(retryMs / 1000)}s` },
            { type: "Stalled", status: stalled ? "True" : "False", reason: stalled ? "TooManyFailures" : "Retrying", message: stalled ? `${next.failures} failures in a row: ${message}` : "" },
        ]);
        await this.event(environment, { type: "Warning", reason: "UpFailed", message });
        return { result: "failed", requeueAfterMs: retryMs, operation: result };
    }

    private async finalize(environment: EnvironmentObject): Promise<ReconcileOutcome> {
        const { namespace, name } = environment.metadata;
        const finalizers = environment.metadata.finalizers ?? [];
        if (!finalizers.includes(ENVIRONMENT_FINALIZER)) return { result: "gone" };
        const status = environment.status ?? {};
        let stack: string | undefined;
        try {
            stack = desiredStack(environment, { apiVersion: "", kind: "Project", metadata: { name: environment.spec.project, namespace }, spec: {} }, []).stack;
        } catch {
            stack = status.stack;
        }
        if (stack !== undefined && status.stack !== undefined) {
            const recorder = this.recorder(environment, "destroy");
            await this.writeStatus(environment, { ...status, operation: recorder.operation }, [{ type: "Progressing", status: "True", reason: "Destroying", message: `destroying stack ${stack}` }]);
            const started = this.now();
            const call = { reason: `controller:delete ${namespace}/${name}`, onEvent: recorder.handle };
            const result = environment.spec.type === "preview" && environment.spec.pullRequest !== undefined
                ? await this.stacks.destroyPreview({ pr: environment.spec.pullRequest, project: environment.spec.project }, call)
                : await this.stacks.destroy(stack, call);
            const operation = await recorder.finish(result);
            if (result.status !== "succeeded") {
                const failures = (status.failures ?? 0) + 1;
                await this.writeStatus(environment, { ...status, failures, lastOperation: lastOperation(result, started), operation }, [
                    { type: "Ready", status: "False", reason: "DestroyFailed", message: result.error ?? `destroy ${result.status}` },
                    { type: "Progressing", status: "False", reason: "RetryScheduled", message: "the finalizer stays until the destroy succeeds" },
                ]);
                await this.event(environment, { type: "Warning", reason: "DestroyFailed", message: result.error ?? `destroy ${result.status}` });
                return { result: "failed", requeueAfterMs: backoffMs(failures, this.settings.backoffBaseMs, this.settings.backoffMaxMs), operation: result };
            }
            // The end for watchers, before the finalizer goes and the object with it (best effort).
            await this.api.patchEnvironmentOperation(namespace, name, operation).catch(() => undefined);
            await this.event(environment, { type: "Normal", reason: "Destroyed", message: `stack ${stack} destroyed${result.noop ? " (it did not exist)" : ""}` });
        }
        // Stack never created (spec refused before any operation): nothing to destroy.
        // Read again: the status writes above changed the resourceVersion, and another finalizer
        // may have come or gone meanwhile.
        const fresh = await this.api.getEnvironment(namespace, name);
        if (fresh !== undefined) {
            await this.api.setEnvironmentFinalizers(namespace, name, (fresh.metadata.finalizers ?? []).filter((f) => f !== ENVIRONMENT_FINALIZER), fresh.metadata.resourceVersion);
        }
        return { result: "destroyed" };
    }

    /**
     * A Ready Environment: its drift check when one is due (or at once when it drifted and its
     * Project now asks for repair), else nothing until the check or the TTL comes.
     */
    private async driftCheckIfDue(environment: EnvironmentObject, siblings: readonly EnvironmentObject[]): Promise<ReconcileOutcome> {
        const status = environment.status ?? {};
        const intervalMs = this.settings.driftIntervalMs ?? 0;
        const untilExpiry = this.untilExpiry(status);
        if (intervalMs <= 0 || status.stack === undefined) return { result: "unchanged", requeueAfterMs: untilExpiry };
        const due = driftDueAt(status, environment.metadata.uid ?? environment.metadata.name, intervalMs);
        const now = this.now();
        let repairAsked = false;
        if (due > now && condition(status.conditions, "Drifted")?.reason === "Drifted") {
            repairAsked = (await this.api.getProject(environment.metadata.namespace, environment.spec.project))?.spec.drift?.repair === true;
        }
        if (due > now && !repairAsked) {
            return { result: "unchanged", requeueAfterMs: Math.min(due - now, untilExpiry ?? Infinity) };
        }
        return this.checkDrift(environment, status.stack, siblings, intervalMs);
    }

    /** Runs the drift check, writes `Drifted`, and repairs when the Project asks for it. */
    private async checkDrift(environment: EnvironmentObject, stack: string, siblings: readonly EnvironmentObject[], intervalMs: number): Promise<ReconcileOutcome> {
        const { namespace } = environment.metadata;
        const status = environment.status ?? {};
        const uid = environment.metadata.uid ?? environment.metadata.name;
        // lockTimeoutMs 0: a stack that is busy is being changed anyway; look again later.
        const result = await this.stacks.checkDrift(stack, { reason: `controller:drift ${namespace}/${environment.metadata.name}`, lockTimeoutMs: 0 }).result;
        if (result.status === "busy") return { result: "busy", requeueAfterMs: 30_000, operation: result };
        const check: DriftCheck = { checkedAt: new Date(this.now()).toISOString(), result: result.status, durationMs: Math.round(result.durations.totalMs) };
        const next = (s: EnvironmentStatus) => Math.max(1000, driftDueAt(s, uid, intervalMs) - this.now());
        if (result.status !== "succeeded") {
            const failed = { ...status, drift: check };
            const message = `drift check of ${stack} failed: ${result.error ?? result.status}; next try at the next check`;
            await this.writeStatus(environment, failed, [{ type: "Drifted", status: "Unknown", reason: "CheckFailed", message }]);
            await this.event(environment, { type: "Warning", reason: "DriftCheckFailed", message });
            return { result: "failed", requeueAfterMs: next(failed), operation: result };
        }
        const drift = result.drift ?? [];
        check.resources = drift.length;
        if (drift.length === 0) {
            const clean = { ...status, drift: check };
            const checked = Object.values(result.changes ?? {}).reduce((sum, n) => sum + n, 0);
            await this.writeStatus(environment, clean, [
                { type: "Drifted", status: "False", reason: "NoDrift", message: `the objects of stack ${stack} match its state (${checked} resources checked)` },
            ]);
            return { result: "clean", requeueAfterMs: next(clean), operation: result };
        }

        const summary = driftSummary(drift);
        const project = await this.api.getProject(namespace, environment.spec.project);
        const drifted = { ...status, drift: check };
        if (project?.spec.drift?.repair !== true) {
            const message = `${summary}; not repaired: set spec.drift.repair on Project ${environment.spec.project} to have the controller run up`;
            const before = condition(status.conditions, "Drifted");
            await this.writeStatus(environment, drifted, [{ type: "Drifted", status: "True", reason: "Drifted", message }]);
            // One Event per change, not one per check while the same drift stays.
            if (before?.status !== "True" || before.message !== message) await this.event(environment, { type: "Warning", reason: "Drifted", message: summary });
            return { result: "drifted", requeueAfterMs: next(drifted), operation: result };
        }
        let desired: DesiredStack;
        try {
            desired = desiredStack(environment, project, siblings);
        } catch (err) {
            if (!(err instanceof SpecError)) throw err;
            await this.writeStatus(environment, drifted, [{ type: "Drifted", status: "True", reason: "RepairFailed", message: `${summary}; not repaired: ${err.message}` }]);
            return { result: "drifted", requeueAfterMs: next(drifted), operation: result };
        }
        const recorder = this.recorder(environment, "up");
        await this.writeStatus(environment, { ...drifted, operation: recorder.operation }, [
            { type: "Drifted", status: "True", reason: "Repairing", message: `${summary}; repairing with up (refresh first)` },
            { type: "Progressing", status: "True", reason: "Repairing", message: `running up on stack ${stack} to revert drift` },
        ]);
        await this.event(environment, { type: "Warning", reason: "Drifted", message: `${summary}; repairing` });
        const started = this.now();
        const repair = await this.up(desired, `controller:${this.settings.identity} drift repair`, true, recorder.handle);
        drifted.operation = await recorder.finish(repair);
        if (repair.status !== "succeeded") {
            const message = `${summary}; repair failed: ${repair.error ?? repair.status}; tried again at the next check`;
            await this.writeStatus(environment, drifted, [
                { type: "Drifted", status: "True", reason: "RepairFailed", message },
                { type: "Progressing", status: "False", reason: "RepairFailed", message: "" },
            ]);
            await this.event(environment, { type: "Warning", reason: "RepairFailed", message });
            return { result: "failed", requeueAfterMs: next(drifted), operation: repair };
        }
        const repaired: EnvironmentStatus = { ...drifted, lastOperation: lastOperation(repair, started), drift: { ...check, repairedAt: new Date(this.now()).toISOString() } };
        if (repair.url !== undefined) repaired.url = repair.url;
        await this.writeStatus(environment, repaired, [
            { type: "Drifted", status: "False", reason: "Repaired", message: `repaired by up (update ${repair.updateId ?? "-"}): ${summary}` },
            { type: "Progressing", status: "False", reason: "Repaired", message: "" },
        ]);
        await this.event(environment, { type: "Normal", reason: "Repaired", message: `up of ${stack} reverted the drift (update ${repair.updateId ?? "-"}): ${summary}` });
        return { result: "repaired", requeueAfterMs: next(repaired), operation: repair };
    }

    /** A recorder of a new operation on `environment`'s current generation, patching `status.operation`. */
    private recorder(environment: EnvironmentObject, action: OperationProgress["action"]): OperationRecorder {
        const { namespace, name } = environment.metadata;
        const started = startedOperation(action, environment.metadata.generation ?? 1, this.now());
        return new OperationRecorder(started, (operation) => this.api.patchEnvironmentOperation(namespace, name, operation), {
            intervalMs: this.settings.progressIntervalMs,
            now: this.now,
        });
    }

    private up(desired: DesiredStack, reason = `controller:${this.settings.identity}`, refresh = false, onEvent?: EventListener): Promise<OperationResult> {
        const call = { reason, onEvent };
        if (desired.type === "preview") {
            return this.stacks.upPreview({
                pr: desired.pr as number,
                project: desired.project,
                branch: desired.branch as string,
                sha: desired.sha,
                image: desired.image,
                owners: desired.owners,
                ttl: desired.ttlMs,
                config: desired.config,
                limits: desired.limits,
                sleep: desired.sleep,
                refresh: refresh || undefined,
            }, call).result;
        }
        return this.stacks.up(desired.stack, { image: desired.image, sha: desired.sha, branch: desired.branch, config: desired.config, refresh: refresh || undefined }, call).result;
    }

    private untilExpiry(status: EnvironmentStatus): number | undefined {
        return status.expiresAt === undefined ? undefined : Math.max(0, Date.parse(status.expiresAt) - this.now());
    }

    private async writeStatus(environment: EnvironmentObject, status: EnvironmentStatus, updates: ConditionUpdate[]): Promise<void> {
        const generation = environment.metadata.generation ?? 1;
        const next = { ...status, conditions: setConditions(status.conditions, updates, generation, new Date(this.now())) };
        await this.api.patchEnvironmentStatus(environment.metadata.namespace, environment.metadata.name, next);
        environment.status = next;
    }

    private async event(environment: EnvironmentObject, event: EventRecord): Promise<void> {
        try {
            await this.api.recordEvent(environment, event, this.settings.identity);
        } catch {
            // Events are best effort: a lost Event never fails a reconcile.
        }
    }
}
