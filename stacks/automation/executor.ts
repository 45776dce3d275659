import * as path from "path";
import { namespaceName, StackKind } from "../../components/naming";
import { appendAudit, auditRecord } from "./audit";
import { formatDuration } from "./duration";
import { EventListener, FailedResourceWatch, logEvent, stepEvent } from "./events";
import { FileLock, KeyedLock, LockTimeoutError, Release, Semaphore } from "./lock";
import { changedCount, endpoints, WorkerAction, WorkerRequest } from "./protocol";
import { runWorker, RunOutcome } from "./runner";
import { Action, CatalystEvent, OperationResult } from "./types";
import { StackTarget } from "./validation";
import { removeWorkDir } from "./workspace";

/**
 * How one stack operation runs: the stack's in-process queue, then its lock file, then a slot of
 * the global concurrency limit; then a worker process with a timeout; after a stop or a crash a
 * `recover` worker; then the audit line and the `done` event. Results never throw.
 */

/** Per-call options of the stack operations. */
export interface CallOptions {
    /** Receives every progress event (the returned Operation can also be iterated). */
    onEvent?: EventListener;
    /** Overrides the instance's operation timeout. */
    timeoutMs?: number;
    /** Overrides the instance's lock timeout; 0 answers `busy` at once when the stack is busy. */
    lockTimeoutMs?: number;
    /** Stops the operation like a timeout does. */
    signal?: AbortSignal;
    /** Recorded in the audit line (`gc:expired`). */
    reason?: string;
    /**
     * Hosts whose processes the caller knows are gone (the controller: the holder of a Lease that
     * expired). Their backend locks count as stale like those of dead processes on this machine.
     */
    deadLockHosts?: string[];
}

/** One stack operation, fully validated, as the executor runs it. */
export interface StackJob {
    target: StackTarget;
    action: Extract<Action, "up" | "destroy" | "drift">;
    workerAction: WorkerAction;
    configTemplate?: string;
    config: Record<string, unknown>;
    tags: Record<string, string>;
    keepTags: string[];
    removeStack: boolean;
    allowedKinds: StackKind[];
    /** For up: refresh from the cluster first (a drift repair). */
    refresh?: boolean;
}

/** Settings of the executor (see AutomationOptions for their meaning and defaults). */
export interface ExecutorSettings {
    repoRoot: string;
    workRoot: string;
    auditLog: string;
    actor: string;
    concurrency: number;
    /** Destroys running at once, a cap of their own (see StackExecutor). */
    destroyConcurrency: number;
    timeoutMs: number;
    graceMs: number;
    recoveryTimeoutMs: number;
    lockTimeoutMs: number;
    workerPath?: string;
}

/** Runs stack jobs; one per Automation instance, which shares its locks across calls. */
export class StackExecutor {
    private readonly locks = new KeyedLock();
    private readonly fileLocks: FileLock;
    private readonly slots: Semaphore;
    /**
     * Destroys take their slots from a cap of their own: a destroy mostly waits for the API
     * server (a namespace's deletion), using a fraction of an up's CPU (docs/performance.md), so
     * queueing it behind ups, or several of them behind each other, left the cores idle.
     */
    private readonly destroySlots: Semaphore;

    constructor(private readonly settings: ExecutorSettings) {
        this.fileLocks = new FileLock(path.join(settings.workRoot, ".locks"));
        this.slots = new Semaphore(settings.concurrency);
        this.destroySlots = new Semaphore(settings.destroyConcurrency);
    }

    /** Takes the locks and a slot, runs the job in a worker, recovers after a stop, audits. */
    async run(job: StackJob, call: CallOptions, emit: (event: CatalystEvent) => void): Promise<OperationResult> {
        const { target } = job;
        const stack = target.stack;
        const started = Date.now();
        const lockTimeoutMs = call.lockTimeoutMs ?? this.settings.lockTimeoutMs;
        const releases: Release[] = [];
        const result: OperationResult = {
            action: job.action,
            stack,
            kind: target.kind,
            status: "failed",
            durations: { totalMs: 0, waitMs: 0, runMs: 0 },
        };
        if (target.pr !== undefined) result.pr = target.pr;
        emit(stepEvent(stack, "queued", `${job.action} ${stack}`));
        try {
            // The locks, then a slot, all within one deadline: a caller never waits longer than
            // its lock timeout in all, and then gets `busy`.
            const left = () => Math.max(0, lockTimeoutMs - (Date.now() - started));
            try {
                releases.push(await this.locks.acquire(stack, lockTimeoutMs, (position) =>
                    emit(stepEvent(stack, "waiting", `${position} earlier operation(s) on ${stack} in this process; waiting up to ${formatDuration(lockTimeoutMs)}`))));
                releases.push(await this.fileLocks.acquire(stack, left(), job.action, (holder) =>
                    emit(stepEvent(stack, "waiting", `pid ${holder.pid} is running ${holder.action ?? "an operation"} on ${stack}; waiting`))));
                const slots = job.action === "destroy" ? this.destroySlots : this.slots;
                if (slots.inUse >= slots.limit) {
                    emit(stepEvent(stack, "waiting", `all ${slots.limit} ${job.action === "destroy" ? "destroy" : "operation"} slots are busy; waiting up to ${formatDuration(left())}`));
                }
                releases.push(await slots.acquire(left()));
            } catch (err) {
                if (err instanceof LockTimeoutError) {
                    result.status = "busy";
                    result.error = err.message;
                    return result;
                }
                throw err;
            }
            result.durations.waitMs = Date.now() - started;

            const request = this.request(job, job.workerAction, started + lockTimeoutMs, call.deadLockHosts);
            const timeoutMs = call.timeoutMs ?? this.settings.timeoutMs;
            const watch = new FailedResourceWatch();
            const onEvent = (event: CatalystEvent) => {
                watch.handle(event);
                emit(event);
            };
            const outcome = await runWorker(request, { timeoutMs, graceMs: this.settings.graceMs, onEvent, signal: call.signal, workerPath: this.settings.workerPath });
            result.durations.runMs = outcome.durationMs;
            this.applyOutcome(result, outcome, timeoutMs);
            if (result.status !== "succeeded" && watch.resource !== undefined) result.failedResource = watch.resource;
            if (outcome.timedOut || outcome.aborted || outcome.result === undefined) {
                await this.recover(job, result, emit);
            }
            if (result.status === "succeeded" && job.action === "destroy" && job.removeStack) {
                removeWorkDir(this.settings.workRoot, stack);
            }
            return result;
        } catch (err) {
            result.status = "failed";
            result.error = (err as Error).message.split("\n")[0];
            return result;
        } finally {
            releases.reverse().forEach((release) => release());
            result.durations.totalMs = Date.now() - started;
            if (result.namespace === undefined && target.kind !== "platform") {
                result.namespace = namespaceName(stack);
            }
            try {
                appendAudit(this.settings.auditLog, auditRecord(result, this.settings.actor, call.reason));
            } catch (err) {
                emit(logEvent(stack, "error", `could not write the audit log ${this.settings.auditLog}: ${(err as Error).message}`));
            }
            emit({ type: "done", stack, status: result.status, result, time: new Date().toISOString() });
        }
    }

    private request(job: StackJob, action: WorkerAction, lockDeadline: number, deadLockHosts?: string[]): WorkerRequest {
        return {
            ...(deadLockHosts !== undefined && deadLockHosts.length > 0 ? { deadLockHosts } : {}),
            action,
            stack: job.target.stack,
            allowedKinds: job.allowedKinds,
            repoRoot: this.settings.repoRoot,
            workRoot: this.settings.workRoot,
            configTemplate: job.configTemplate,
            config: job.config,
            tags: job.tags,
            keepTags: job.keepTags,
            lockDeadline,
            removeStack: job.removeStack,
            refresh: job.refresh,
        };
    }

    private applyOutcome(result: OperationResult, outcome: RunOutcome, timeoutMs: number): void {
        const answer = outcome.result;
        if (answer) {
            result.status = answer.status;
            if (answer.changes) {
                result.changes = answer.changes;
                result.changed = changedCount(answer.changes) > 0;
            }
            if (answer.noop) {
                result.noop = true;
                result.changed = false;
            }
            if (answer.updateId !== undefined) result.updateId = answer.updateId;
            if (answer.outputs) result.outputs = answer.outputs;
            if (answer.recovered) result.recovered = true;
            if (answer.drift) result.drift = answer.drift;
            if (answer.error !== undefined) result.error = answer.error;
            Object.assign(result, endpoints(answer.outputs));
        }
        if (outcome.timedOut) {
            result.status = "timed-out";
            result.error = `timed out after ${formatDuration(timeoutMs)}${outcome.killed ? " (killed)" : ""}${answer?.error ? `: ${answer.error}` : ""}`;
        } else if (outcome.aborted) {
            result.status = "failed";
            result.error = `cancelled${answer?.error ? `: ${answer.error}` : ""}`;
        } else if (!answer) {
            const last = outcome.stderr.trim().split("\n").pop() ?? "";
            result.status = "failed";
            result.error = `worker exited (code ${outcome.exitCode}, signal ${outcome.exitSignal})${last ? `: ${last}` : ""}`;
        }
    }

    /** After a stopped or crashed worker: a `recover` worker clears a stale lock and pending operations. */
    private async recover(job: StackJob, result: OperationResult, emit: (event: CatalystEvent) => void): Promise<void> {
        const started = Date.now();
        emit(stepEvent(job.target.stack, "recovering", "repairing the stack after the interrupted operation"));
        const outcome = await runWorker(this.request(job, "recover", Date.now() + this.settings.lockTimeoutMs), {
            timeoutMs: this.settings.recoveryTimeoutMs,
            graceMs: this.settings.graceMs,
            onEvent: emit,
            workerPath: this.settings.workerPath,
        });
        result.durations.recoveryMs = Date.now() - started;
        if (outcome.result?.status === "succeeded") {
            result.recovered = outcome.result.recovered ?? result.recovered;
        } else {
            const why = outcome.result?.error ?? (outcome.timedOut ? "timed out" : `exit code ${outcome.exitCode}`);
            result.error = `${result.error ?? ""}; recovery failed: ${why}; the next operation retries it`;
            emit(logEvent(job.target.stack, "error", `recovery failed: ${why}`));
        }
    }
}
