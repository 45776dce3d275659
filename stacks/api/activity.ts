import type { IncomingMessage, ServerResponse } from "http";
import type { CatalystEvent } from "../automation";
import { formatSse, OperationRegistry, OperationView, RunningOperation } from "./operations";

/**
 * `GET /events`: one server-sent event stream of what happens to every environment, for lists
 * that update live (the dashboard's). It says which stack changed and how far its operation
 * is (step, resources done of total, state), never the engine's log lines: those stay behind
 * the per-operation reader check of `/operations/:id/events`. Any authenticated caller may
 * read it, as any caller may list environments.
 */

/** One activity event: an operation on `stack` started, moved on or ended. */
export interface Activity {
    stack: string;
    operation: string;
    action: string;
    state: OperationView["state"];
    startedAt: string;
    /** The step the operation is in (queued, updating, destroying, ...). */
    step?: string;
    /** Resources done of total, when the engine has said. */
    done?: number;
    total?: number;
}

type Watcher = (activity: Activity) => void;

/** An OperationRegistry that also tells watchers about every operation's progress. */
export class ActivityRegistry extends OperationRegistry {
    private readonly watchers = new Set<Watcher>();
    private readonly latest = new Map<string, Activity>();

    /** Calls `watcher` with the latest activity of each stack, then with each new one; returns unwatch. */
    watch(watcher: Watcher): () => void {
        for (const activity of this.latest.values()) watcher(activity);
        this.watchers.add(watcher);
        return () => this.watchers.delete(watcher);
    }

    override start(stack: string, action: string, user: string, start: () => RunningOperation, owners: readonly string[] = []): OperationView {
        let activity: Activity | undefined;
        const emit = (change: Partial<Activity>) => {
            if (activity === undefined) return;
            activity = { ...activity, ...change };
            this.latest.set(stack, activity);
            for (const watcher of this.watchers) watcher(activity);
        };
        const view = super.start(stack, action, user, () => tee(start(), (event) => emit(progress(event))), owners);
        activity = { stack, operation: view.id, action, state: "running", startedAt: view.startedAt };
        emit({});
        void this.wait(view.id).then((done) => emit({ state: done.state }), () => undefined);
        return view;
    }
}

/** The part of an event an activity shows. */
function progress(event: CatalystEvent): Partial<Activity> {
    if (event.type === "step") return { step: event.step };
    if (event.type === "resource") return { done: event.done, total: event.total };
    return {};
}

/** Passes an operation's events to `see` as the registry reads them. */
function tee(operation: RunningOperation, see: (event: CatalystEvent) => void): RunningOperation {
    return {
        result: operation.result,
        [Symbol.asyncIterator]() {
            const inner = operation[Symbol.asyncIterator]();
            return {
                next: async () => {
                    const next = await inner.next();
                    if (!next.done) see(next.value);
                    return next;
                },
                return: inner.return ? (value?: unknown) => (inner.return as (v?: unknown) => Promise<IteratorResult<CatalystEvent>>)(value) : undefined,
            };
        },
    };
}

/** Anything that tells watchers about activity (the Environment resources' watch, environment-watch.ts). */
export interface ActivitySource {
    /** Calls `watcher` with the latest activities, then with each new one; returns unwatch. */
    watch(watcher: Watcher): () => void;
}

/**
 * Streams `registry`'s activity, and `more`'s (resource mode: the Environments'), as server-sent
 * `activity` events until the caller hangs up.
 */
export async function streamActivity(registry: OperationRegistry, req: IncomingMessage, res: ServerResponse, more?: ActivitySource): Promise<void> {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-content-type-options": "nosniff" });
    // A comment first, so clients see the stream open at once.
    res.write(": activity\n\n");
    let seq = 0;
    const write = (activity: Activity) => res.write(formatSse("activity", activity, seq++));
    const unwatchRegistry = registry instanceof ActivityRegistry ? registry.watch(write) : () => undefined;
    const unwatchMore = more?.watch(write) ?? (() => undefined);
    const unwatch = () => {
        unwatchRegistry();
        unwatchMore();
    };
    // A heartbeat keeps proxies from closing an idle stream.
    const beat = setInterval(() => res.write(": keep-alive\n\n"), 25_000);
    await new Promise<void>((resolve) => req.once("close", () => {
        clearInterval(beat);
        unwatch();
        resolve();
    }));
}
