import type { EngineEvent } from "@pulumi/pulumi/automation";
import { CatalystEvent, FailedResource, LogEvent, ResourceEvent, StepEvent, StepName } from "./types";

/**
 * Progress as a stream of typed events: the mapping from the Automation API's engine events
 * (`onEvent`) to {@link CatalystEvent}s, and the plumbing that hands them to callers as an async
 * iterable or a callback.
 */

/** Strips terminal colours and Pulumi's `<{%reset%}>` colour tags from engine text. */
export function plainText(text: string): string {
    return text.replace(/<\{%[^%]*%\}>/g, "").replace(/\u001b\[[0-9;]*m/g, "").replace(/\s+$/, "");
}

/** The resource name at the end of a URN (`urn:pulumi:s::p::type::name` gives `name`). */
export function urnName(urn: string): string {
    const index = urn.lastIndexOf("::");
    return index >= 0 ? urn.slice(index + 2) : urn;
}

/** The resource type in a URN: the last of its parent-qualified types (`a$b::name` gives `b`). */
export function urnType(urn: string): string {
    const parts = urn.split("::");
    return parts.length >= 4 ? (parts[2].split("$").pop() ?? parts[2]) : "";
}

/**
 * Remembers the resource an operation failed on: the first `failed` resource event, else the
 * first error diagnostic that names a resource (a provider error before the engine failed it).
 * The root stack resource is no answer: it names nothing people can look up.
 */
export class FailedResourceWatch {
    private failed?: FailedResource;
    private named?: FailedResource;

    handle(event: CatalystEvent): void {
        if (event.type === "resource" && event.state === "failed" && this.failed === undefined) {
            this.failed = { urn: event.urn, type: event.resourceType, name: event.name };
        } else if (event.type === "log" && event.level === "error" && event.urn && this.named === undefined) {
            const type = urnType(event.urn);
            if (type !== "pulumi:pulumi:Stack" && type !== "") this.named = { urn: event.urn, type, name: urnName(event.urn) };
        }
    }

    get resource(): FailedResource | undefined {
        return this.failed ?? this.named;
    }
}

function now(): string {
    return new Date().toISOString();
}

/** A step event for `stack`. */
export function stepEvent(stack: string, step: StepName, message: string): StepEvent {
    return { type: "step", stack, step, message, time: now() };
}

/** A log event for `stack`. */
export function logEvent(stack: string, level: LogEvent["level"], message: string, urn?: string): LogEvent {
    return { type: "log", stack, level, message, urn, time: now() };
}

/**
 * Turns engine events into progress events and counts resources: a resource is started by its
 * `resourcePreEvent` and done at its `resOutputsEvent` (or failed at `resOpFailedEvent`). The
 * total is the larger of the resources seen so far and `expectedTotal` (the stack's resource
 * count before the operation), so that a progress bar does not jump to 100% early.
 */
export class ProgressTracker {
    private readonly started = new Map<string, string>();
    private readonly finished = new Set<string>();
    /** Resource changes from the engine's summary event, once it arrived. */
    public summary?: Record<string, number>;

    constructor(private readonly stack: string, private readonly expectedTotal = 0) {}

    /** Resources finished (done or failed). */
    get done(): number {
        return this.finished.size;
    }

    /** Best estimate of the resources this operation touches. */
    get total(): number {
        return Math.max(this.expectedTotal, this.started.size, this.finished.size);
    }

    /** Maps one engine event to zero or more progress events. */
    handle(event: EngineEvent): CatalystEvent[] {
        if (event.resourcePreEvent && !event.resourcePreEvent.planning) {
            const { urn, op, type } = event.resourcePreEvent.metadata;
            this.started.set(urn, op);
            return [this.resource(urn, type, op, "started")];
        }
        if (event.resOutputsEvent && !event.resOutputsEvent.planning) {
            const { urn, op, type } = event.resOutputsEvent.metadata;
            this.started.set(urn, this.started.get(urn) ?? op);
            this.finished.add(urn);
            return [this.resource(urn, type, op, "done")];
        }
        if (event.resOpFailedEvent) {
            const { urn, op, type } = event.resOpFailedEvent.metadata;
            this.started.set(urn, this.started.get(urn) ?? op);
            this.finished.add(urn);
            return [this.resource(urn, type, op, "failed")];
        }
        if (event.diagnosticEvent) {
            const diagnostic = event.diagnosticEvent;
            // Debug diagnostics echo the provider's responses, Secret data included: never forward them.
            if ((diagnostic.severity as string) === "debug") {
                return [];
            }
            const message = plainText(diagnostic.message);
            if (message === "") {
                return [];
            }
            // Our toolchain runs plugins from PATH on purpose; the engine warns about it every time.
            const known = /^using pulumi-resource-\S+ from \$PATH/.test(message);
            const level: LogEvent["level"] = diagnostic.ephemeral || known
                ? "debug"
                : diagnostic.severity === "error"
                  ? "error"
                  : diagnostic.severity === "warning"
                    ? "warning"
                    : "info";
            return [logEvent(this.stack, level, message, diagnostic.urn)];
        }
        if (event.policyEvent) {
            const policy = event.policyEvent;
            const level = policy.enforcementLevel === "mandatory" ? "error" : "warning";
            return [logEvent(this.stack, level, `policy ${policy.policyName}: ${plainText(policy.message)}`, policy.resourceUrn)];
        }
        if (event.summaryEvent) {
            this.summary = { ...event.summaryEvent.resourceChanges } as Record<string, number>;
            return [];
        }
        if (event.cancelEvent) {
            return [logEvent(this.stack, "info", "the engine acknowledged the cancellation")];
        }
        // Prelude events carry configuration values: never forwarded. Stdout events repeat the
        // engine's own display.
        return [];
    }

    private resource(urn: string, resourceType: string, op: string, state: ResourceEvent["state"]): ResourceEvent {
        return {
            type: "resource",
            stack: this.stack,
            urn,
            resourceType,
            name: urnName(urn),
            op,
            state,
            done: this.done,
            total: this.total,
            time: now(),
        };
    }
}

/**
 * Events an operation keeps in memory for readers that start late. A large `up` emits a few
 * hundred; past the cap the oldest are dropped (and counted), so a runaway log cannot grow a
 * long-lived server's memory without bound.
 */
export const MAX_KEPT_EVENTS = 5_000;

/**
 * A buffered, multi-reader event stream: every reader sees the events from the oldest kept one
 * (at most `capacity`), so a caller may start iterating after the operation began; a reader too
 * slow for the cap skips to the oldest kept event.
 */
export class EventChannel<T> implements AsyncIterable<T> {
    private readonly events: T[] = [];
    /** Sequence number of `events[0]`: the count of events dropped so far. */
    private first = 0;
    private closed = false;
    private wakers: (() => void)[] = [];

    constructor(private readonly capacity: number = MAX_KEPT_EVENTS) {}

    /** Events dropped to keep the buffer within its capacity. */
    get dropped(): number {
        return this.first;
    }

    /** Appends an event; ignored after {@link close}. */
    push(event: T): void {
        if (this.closed) {
            return;
        }
        this.events.push(event);
        if (this.events.length > this.capacity) {
            this.events.shift();
            this.first += 1;
        }
        this.wake();
    }

    /** Ends the stream: readers finish once they have seen every kept event. */
    close(): void {
        this.closed = true;
        this.wake();
    }

    async *[Symbol.asyncIterator](): AsyncIterator<T> {
        let next = 0;
        for (;;) {
            next = Math.max(next, this.first);
            while (next < this.first + this.events.length) {
                yield this.events[next - this.first];
                next = Math.max(next + 1, this.first);
            }
            if (this.closed) {
                return;
            }
            await new Promise<void>((resolve) => this.wakers.push(resolve));
        }
    }

    private wake(): void {
        const wakers = this.wakers;
        this.wakers = [];
        wakers.forEach((wake) => wake());
    }
}

/** Receives the events of an operation as they happen. */
export type EventListener = (event: CatalystEvent) => void;

/**
 * A running operation: await it for the result, or iterate it for its progress events
 * (`for await (const e of op)`; the last one is `done`). Both can be used together.
 */
export class Operation<T> implements PromiseLike<T>, AsyncIterable<CatalystEvent> {
    /** The operation's result; never rejects for operation failures (see the result's status). */
    readonly result: Promise<T>;
    private readonly channel = new EventChannel<CatalystEvent>();

    constructor(run: (emit: EventListener) => Promise<T>, listener?: EventListener) {
        const emit: EventListener = (event) => {
            this.channel.push(event);
            try {
                listener?.(event);
            } catch {
                // A listener that throws must not break the operation.
            }
        };
        this.result = run(emit).finally(() => this.channel.close());
    }

    then<R1 = T, R2 = never>(
        onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
        onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
    ): Promise<R1 | R2> {
        return this.result.then(onFulfilled, onRejected);
    }

    /** Events no longer kept for late readers (see {@link MAX_KEPT_EVENTS}). */
    get droppedEvents(): number {
        return this.channel.dropped;
    }

    [Symbol.asyncIterator](): AsyncIterator<CatalystEvent> {
        return this.channel[Symbol.asyncIterator]();
    }
}
