import { randomUUID } from "crypto";
import type { CatalystEvent, OperationResult } from "../automation";
import { ApiError } from "./errors";

/**
 * In-memory registry of the long operations the API started (create and destroy of previews):
 * an id per operation, its events (the last `maxEvents`; older ones are counted in
 * `droppedEvents`), its result, who may read it, and subscribers for server-sent events. One running operation per stack: a second one is refused as `busy` (HTTP 409) at
 * once rather than queued behind the library's lock for minutes while the caller waits.
 */

/** Status of an API operation. */
export type OperationState = "running" | OperationResult["status"] | "error";

/** What GET /operations/:id returns. */
export interface OperationView {
    id: string;
    stack: string;
    action: string;
    user: string;
    state: OperationState;
    startedAt: string;
    finishedAt?: string;
    result?: OperationResult;
    error?: string;
    /** Events the operation sent so far. */
    events: number;
    /** Of those, events no longer kept for replay (the registry keeps the last `maxEvents`). */
    droppedEvents: number;
}

/** The part of the library's Operation the registry uses. */
export interface RunningOperation {
    result: Promise<OperationResult>;
    [Symbol.asyncIterator](): AsyncIterator<CatalystEvent>;
}

type Subscriber = (event: CatalystEvent | undefined) => void;

interface Entry {
    view: OperationView;
    /** Who may read the operation besides the environment's current owners (lower case). */
    readers: Set<string>;
    events: CatalystEvent[];
    subscribers: Set<Subscriber>;
    done: Promise<void>;
}

/** Limits of the registry. */
export interface RegistryOptions {
    /** Events kept per operation (the oldest are dropped). Default 1000. */
    maxEvents?: number;
    /** Finished operations kept. Default 200. */
    maxFinished?: number;
}

/** The registry; one per server. */
export class OperationRegistry {
    private readonly entries = new Map<string, Entry>();
    private readonly maxEvents: number;
    private readonly maxFinished: number;

    constructor(options: RegistryOptions = {}) {
        this.maxEvents = options.maxEvents ?? 1000;
        this.maxFinished = options.maxFinished ?? 200;
    }

    /** The running operation on `stack`, if any. */
    active(stack: string): OperationView | undefined {
        for (const entry of this.entries.values()) {
            if (entry.view.stack === stack && entry.view.state === "running") return entry.view;
        }
        return undefined;
    }

    /**
     * Registers an operation on `stack`; `start` is called only when no other operation runs
     * on it (else `busy`). Errors thrown by `start` (bad input) propagate and register nothing.
     */
    start(stack: string, action: string, user: string, start: () => RunningOperation, owners: readonly string[] = []): OperationView {
        const running = this.active(stack);
        if (running !== undefined) {
            throw new ApiError("busy", `${stack} is busy: operation ${running.id} (${running.action}) is running`);
        }
        const operation = start();
        const view: OperationView = { id: randomUUID(), stack, action, user, state: "running", startedAt: new Date().toISOString(), events: 0, droppedEvents: 0 };
        const readers = new Set([user, ...owners].map((name) => name.toLowerCase()));
        const entry: Entry = { view, readers, events: [], subscribers: new Set(), done: Promise.resolve() };
        this.entries.set(view.id, entry);
        const pump = (async () => {
            for await (const event of operation) this.record(entry, event);
        })().catch(() => undefined);
        entry.done = Promise.all([pump, operation.result]).then(
            ([, result]) => {
                view.state = result.status;
                view.result = result;
            },
            (err: unknown) => {
                view.state = "error";
                view.error = (err as Error).message.split("\n")[0];
            },
        ).finally(() => {
            view.finishedAt = new Date().toISOString();
            for (const subscriber of entry.subscribers) subscriber(undefined);
            entry.subscribers.clear();
            this.prune();
        });
        return view;
    }

    /** An operation's view, or `not-found`. */
    get(id: string): OperationView {
        const entry = this.entries.get(id);
        if (entry === undefined) throw new ApiError("not-found", `no operation ${id}`);
        return entry.view;
    }

    /** True when `user` started the operation or was an owner named when it started. */
    isReader(id: string, user: string): boolean {
        const entry = this.entries.get(id);
        if (entry === undefined) throw new ApiError("not-found", `no operation ${id}`);
        return entry.readers.has(user.toLowerCase());
    }

    /** Resolves when the operation has finished. */
    async wait(id: string): Promise<OperationView> {
        const entry = this.entries.get(id);
        if (entry === undefined) throw new ApiError("not-found", `no operation ${id}`);
        await entry.done;
        return entry.view;
    }

    /**
     * Replays the operation's events so far, then calls `listener` with each new one and with
     * undefined at the end. Returns an unsubscribe function.
     */
    subscribe(id: string, listener: Subscriber): () => void {
        const entry = this.entries.get(id);
        if (entry === undefined) throw new ApiError("not-found", `no operation ${id}`);
        for (const event of entry.events) listener(event);
        if (entry.view.state !== "running") {
            listener(undefined);
            return () => undefined;
        }
        entry.subscribers.add(listener);
        return () => entry.subscribers.delete(listener);
    }

    private record(entry: Entry, event: CatalystEvent): void {
        entry.events.push(event);
        if (entry.events.length > this.maxEvents) {
            entry.events.shift();
            entry.view.droppedEvents += 1;
        }
        entry.view.events += 1;
        for (const subscriber of entry.subscribers) subscriber(event);
    }

    private prune(): void {
        const finished = [...this.entries.values()].filter((e) => e.view.state !== "running");
        for (const entry of finished.slice(0, Math.max(0, finished.length - this.maxFinished))) {
            this.entries.delete(entry.view.id);
        }
    }
}

/** One server-sent event: `event:` line, `data:` lines (one per line of JSON), blank line. */
export function formatSse(event: string, data: unknown, id?: number): string {
    const json = JSON.stringify(data) ?? "null";
    const lines = [`event: ${event.replace(/[\r\n]/g, "")}`];
    if (id !== undefined) lines.push(`id: ${id}`);
    for (const line of json.split("\n")) lines.push(`data: ${line}`);
    return `${lines.join("\n")}\n\n`;
}
