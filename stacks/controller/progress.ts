import { randomUUID } from "crypto";
import type { CatalystEvent, OperationResult } from "../automation/types";
import type { OperationProgress } from "../resources/types";

/**
 * The progress of the stack operation a reconcile runs, recorded in the Environment's
 * `status.operation` so that anyone who can read the Environment (the HTTP API's progress
 * streams, the dashboard, `kubectl get -w`) sees the step and resources done of total while it
 * runs, and the result at the end. The library's progress events arrive many times a second in a
 * busy update; each becomes at most one status patch every `intervalMs` (the API server and every
 * watcher of Environments pay for each write), with the latest state always written within that
 * interval and once more at the end.
 */

/** Default time between two progress patches of one operation. */
export const PROGRESS_INTERVAL_MS = 2_000;

/** The step an operation shows once finished. */
export const FINISHED_STEP = "done";

/** A new operation's record. */
export function startedOperation(action: OperationProgress["action"], generation: number, now: number, id: string = randomUUID()): OperationProgress {
    return { id, action, generation, step: "starting", startedAt: new Date(now).toISOString() };
}

/** `operation` after one progress event of the library (the same events `/operations/:id/events` streams in direct mode). */
export function withEvent(operation: OperationProgress, event: CatalystEvent): OperationProgress {
    if (event.type === "step") return { ...operation, step: event.step };
    if (event.type === "resource") return { ...operation, resourcesDone: event.done, resourcesTotal: event.total };
    return operation;
}

/** `operation` finished with `result`. */
export function finishedOperation(operation: OperationProgress, result: Pick<OperationResult, "status" | "error">, now: number): OperationProgress {
    const finished: OperationProgress = { ...operation, step: FINISHED_STEP, finishedAt: new Date(now).toISOString(), result: result.status };
    if (result.error !== undefined) finished.message = result.error.slice(0, 4096);
    return finished;
}

/** Options of an {@link OperationRecorder}. */
export interface RecorderOptions {
    intervalMs?: number;
    now?: () => number;
    /** Told about a progress patch that failed (not retried: the next event's patch carries the state). */
    onError?: (err: Error) => void;
}

/**
 * Records one operation: {@link handle} takes the library's events, patches go out throttled
 * and one at a time through `write`, {@link finish} stops them and returns the final record for
 * the caller's own status write (so the end is never overtaken by a late progress patch).
 */
export class OperationRecorder {
    private current: OperationProgress;
    /** What the last patch wrote (JSON), to skip patches that would change nothing. */
    private written: string;
    private lastWriteAt: number;
    private timer?: NodeJS.Timeout;
    private inFlight: Promise<void> = Promise.resolve();
    private finished = false;
    private readonly intervalMs: number;
    private readonly now: () => number;

    /** `started` is the record the caller has written already (with its status at the start). */
    constructor(started: OperationProgress, private readonly write: (operation: OperationProgress) => Promise<void>, private readonly options: RecorderOptions = {}) {
        this.current = started;
        this.written = JSON.stringify(started);
        this.intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
        this.now = options.now ?? Date.now;
        this.lastWriteAt = this.now();
    }

    /** The record as it stands. */
    get operation(): OperationProgress {
        return this.current;
    }

    /** Takes one progress event; pass it as the call's `onEvent`. */
    readonly handle = (event: CatalystEvent): void => {
        if (this.finished) return;
        const next = withEvent(this.current, event);
        if (next === this.current) return;
        this.current = next;
        this.schedule();
    };

    /** Stops the patches, waits for one in flight, and returns the final record. */
    async finish(result: Pick<OperationResult, "status" | "error">): Promise<OperationProgress> {
        this.finished = true;
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = undefined;
        await this.inFlight;
        this.current = finishedOperation(this.current, result, this.now());
        return this.current;
    }

    /** A patch now when the last is `intervalMs` old, else one when it will be. */
    private schedule(): void {
        if (this.timer !== undefined) return;
        const wait = Math.max(0, this.lastWriteAt + this.intervalMs - this.now());
        this.timer = setTimeout(() => {
            this.timer = undefined;
            this.flush();
        }, wait);
        this.timer.unref?.();
    }

    private flush(): void {
        if (this.finished) return;
        const snapshot = this.current;
        const json = JSON.stringify(snapshot);
        if (json === this.written) return;
        this.lastWriteAt = this.now();
        this.inFlight = this.inFlight.then(async () => {
            try {
                await this.write(snapshot);
                this.written = json;
            } catch (err) {
                // Progress is best effort: a lost patch never fails the operation.
                this.options.onError?.(err as Error);
            }
        });
    }
}
