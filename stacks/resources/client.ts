import { DEFAULT_PROJECT, isDnsLabel, NameError, parseProjectName, previewStackName } from "../../components/naming";
import { API_GROUP_VERSION, Condition, EnvironmentObject, EnvironmentSpec, RESOURCE_KINDS, SPEC_ERROR_REASONS } from "./types";

/**
 * Environment resources as the front ends (CLI, HTTP API, MCP server) use them in resource mode:
 * create or patch, delete, get, list, and wait on the status the controller writes. The front
 * ends never run stacks in this mode; `catalyst controller` does. The API server calls go through
 * {@link EnvironmentStore} (kube.ts implements it with the shared client of
 * stacks/automation/cluster.ts; unit tests use a fake).
 */

/** The environment variable that switches the front ends to resource mode. */
export const CONTROL_PLANE_ENV = "CATALYST_CONTROL_PLANE_NAMESPACE";
/** The environment variable naming the Project of the Environments a front end creates. */
export const CONTROL_PLANE_PROJECT_ENV = "CATALYST_CONTROL_PLANE_PROJECT";
/** The Project when neither the flag nor {@link CONTROL_PLANE_PROJECT_ENV} names one (components/naming.ts). */
export { DEFAULT_PROJECT };
/** Label of the Environments a front end created, with the front end's name. */
export const CREATED_BY_LABEL = "catalyst.dev/created-by";

const NAMESPACE_HELP = "must be a namespace name (a DNS-1123 label: lower case letters, digits and '-', at most 63 characters)";

/** Bad input of resource mode; `field` is the flag or variable it came from. */
export class ResourceInputError extends Error {
    constructor(readonly field: string, message: string) {
        super(`${field}: ${message}`);
        this.name = "InputError";
    }
}

/** `value` as a namespace or Project name; throws naming `field`. */
export function parseResourceName(value: string, field: string): string {
    const name = value.trim();
    if (!isDnsLabel(name)) throw new ResourceInputError(field, `${NAMESPACE_HELP}, got ${JSON.stringify(value)}`);
    return name;
}

/**
 * The control-plane namespace: `flag` when given, else {@link CONTROL_PLANE_ENV}; undefined means
 * direct mode. A set but empty or malformed variable is an error, not direct mode: a typo must
 * not silently run stacks on this machine.
 */
export function controlPlaneNamespace(flag: string | undefined, env: NodeJS.ProcessEnv, flagName = "--control-plane"): string | undefined {
    if (flag !== undefined) return parseResourceName(flag, flagName);
    const text = env[CONTROL_PLANE_ENV];
    if (text === undefined) return undefined;
    return parseResourceName(text, CONTROL_PLANE_ENV);
}

/** The Project of new Environments: `flag`, else {@link CONTROL_PLANE_PROJECT_ENV}, else `default`. */
export function controlPlaneProject(flag: string | undefined, env: NodeJS.ProcessEnv, flagName = "--project"): string {
    const [text, field] = flag !== undefined ? [flag, flagName] : [env[CONTROL_PLANE_PROJECT_ENV], CONTROL_PLANE_PROJECT_ENV];
    if (text === undefined) return DEFAULT_PROJECT;
    try {
        return parseProjectName(text.trim(), field);
    } catch (err) {
        if (err instanceof NameError) throw new ResourceInputError(field, err.message.slice(field.length + 2));
        throw err;
    }
}

/**
 * The Environment of pull request `pr` in `project`: named like its stack (`pr-<n>`, or
 * `pr-<n>--<project>` for a Project other than the default), so two Projects' PR 5 never meet.
 */
export function previewEnvironmentName(pr: number, project: string = DEFAULT_PROJECT): string {
    return previewStackName(pr, project);
}

/** A failed API server call; `status` is its HTTP status, undefined when it did not answer. */
export class ResourceError extends Error {
    constructor(readonly status: number | undefined, message: string) {
        super(message);
        this.name = "ResourceError";
    }
}

/** A change refused because the Environment is being deleted: a conflict no retry resolves. */
export class BeingDeletedError extends ResourceError {
    constructor(message: string) {
        super(409, message);
        this.name = "BeingDeletedError";
    }
}

/** The API server calls the client makes. Implementations throw {@link ResourceError}. */
export interface EnvironmentStore {
    get(namespace: string, name: string): Promise<EnvironmentObject | undefined>;
    list(namespace: string): Promise<EnvironmentObject[]>;
    /** ResourceError 409 when it exists already. */
    create(namespace: string, object: EnvironmentObject): Promise<EnvironmentObject>;
    /**
     * A JSON merge patch (RFC 7386): null removes a field. A `metadata.resourceVersion` in it is a
     * precondition: ResourceError 409 when the object changed since that version.
     */
    patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<EnvironmentObject>;
    /** False when it did not exist; ResourceError 409 when `preconditions` no longer hold. */
    delete(namespace: string, name: string, preconditions?: DeletePreconditions): Promise<boolean>;
    projectExists(namespace: string, name: string): Promise<boolean>;
    /**
     * Calls `changed` when the Environment may have changed (`ended` when the watch stopped by
     * itself), until the returned function is called. Optional: without it, or once it ended or
     * failed, waits read every second.
     */
    watch?(namespace: string, name: string, changed: (ended: boolean) => void): Promise<() => void>;
    /**
     * Calls `handlers` with every Environment of the namespace as listed, then with each change
     * (an informer: it lists again after a failed watch), until the returned function is called.
     * Optional: the HTTP API's live activity stream needs it, nothing else.
     */
    watchAll?(namespace: string, handlers: EnvironmentHandlers): Promise<() => void>;
}

/** What a watch of every Environment of a namespace reports. */
export interface EnvironmentHandlers {
    changed: (environment: EnvironmentObject) => void;
    deleted: (environment: EnvironmentObject) => void;
}

/** What must still hold of an object for a delete to go ahead (the API server's DeleteOptions.preconditions). */
export interface DeletePreconditions {
    uid?: string;
    resourceVersion?: string;
}

/**
 * Checks an Environment before a front end changes it (the HTTP API's ownership check); throws
 * to refuse. Called on the object as read right before the write, and again after a conflict.
 */
export type EnvironmentCheck = (existing: EnvironmentObject) => void;

/** How often a write that lost a race is tried again on a fresh read. */
const CONFLICT_ATTEMPTS = 5;

/** A write that lost a race and may be tried again on a fresh read (not a refusal such as {@link BeingDeletedError}). */
const isConflict = (err: unknown) => err instanceof ResourceError && err.status === 409 && !(err instanceof BeingDeletedError);

/** The spec fields a front end sets; those it leaves out are removed on a patch (as direct mode falls back to the template). */
export const MANAGED_SPEC_FIELDS = ["branch", "sha", "image", "ttl", "owners"] as const;

/** What a front end asks for a preview. */
export interface PreviewRequest {
    pr: number;
    branch: string;
    sha?: string;
    image?: string;
    /** A duration as the CRD takes it (`72h`). */
    ttl?: string;
    owners?: string[];
    project: string;
    /** Who created it (`cli`, `api`, `mcp`): the {@link CREATED_BY_LABEL} label. */
    createdBy: string;
}

/** Where an Environment stands at its current generation, read from its status. */
export type EnvironmentPhase = "ready" | "failed" | "progressing" | "pending" | "deleting";

/** The phase of an Environment with the message that explains it. */
export interface EnvironmentState {
    name: string;
    phase: EnvironmentPhase;
    message: string;
    generation: number;
    observedGeneration?: number;
    url?: string;
    stack?: string;
    namespace?: string;
    /** Failed operations in a row (the controller's count). */
    failures: number;
}

function at(conditions: readonly Condition[] | undefined, type: string, generation: number): Condition | undefined {
    return conditions?.find((c) => c.type === type && c.observedGeneration === generation);
}

/**
 * The state of `environment` from its conditions at its current generation (conditions of an
 * older generation say nothing about this one): `ready` (Ready=True), `failed` (Stalled=True, or
 * Ready=False for a spec the controller refused, which it does not retry), `deleting`,
 * `progressing` (the controller works or retries) or `pending` (no word from a controller yet).
 */
export function environmentState(environment: EnvironmentObject): EnvironmentState {
    const generation = environment.metadata.generation ?? 1;
    const status = environment.status ?? {};
    const conditions = status.conditions;
    const base = {
        name: environment.metadata.name, generation, observedGeneration: status.observedGeneration,
        url: status.url, stack: status.stack, namespace: status.namespace, failures: status.failures ?? 0,
    };
    const progressing = conditions?.find((c) => c.type === "Progressing" && c.status === "True");
    if (environment.metadata.deletionTimestamp !== undefined) {
        const ready = conditions?.find((c) => c.type === "Ready");
        const message = progressing?.message || (ready?.reason === "DestroyFailed" ? `destroy failed: ${ready.message}` : "waiting for the controller to destroy the stack");
        return { ...base, phase: "deleting", message };
    }
    const ready = at(conditions, "Ready", generation);
    const stalled = at(conditions, "Stalled", generation);
    if (ready?.status === "True" && status.observedGeneration === generation) return { ...base, phase: "ready", message: ready.message };
    if (stalled?.status === "True") return { ...base, phase: "failed", message: `Stalled: ${stalled.message}` };
    if (ready?.status === "False" && (SPEC_ERROR_REASONS as readonly string[]).includes(ready.reason)) return { ...base, phase: "failed", message: ready.message };
    const current = at(conditions, "Progressing", generation);
    if (current !== undefined || ready !== undefined) {
        const parts = [ready?.status === "False" ? `${ready.reason}: ${ready.message}` : undefined, current?.message].filter((p) => p !== undefined && p !== "");
        return { ...base, phase: "progressing", message: parts.length === 0 ? "the controller is working on it" : parts.join("; ") };
    }
    return { ...base, phase: "pending", message: `waiting for a controller to pick up generation ${generation}` };
}

/** How a wait ended. */
export type WaitOutcome = "ready" | "failed" | "timeout" | "gone";

/** The end of a wait, with the last state seen (undefined once the Environment is gone). */
export interface WaitResult {
    outcome: WaitOutcome;
    state?: EnvironmentState;
    message: string;
}

/** Options of a wait. */
export interface WaitOptions {
    timeoutMs: number;
    /** Between two reads (default 1 s). */
    intervalMs?: number;
    /** Called with each new state (phase or message changed). */
    onProgress?: (state: EnvironmentState) => void;
    /** Called with the Environment at every read (undefined once it is gone), changed or not. */
    onRead?: (environment: EnvironmentObject | undefined) => void;
    signal?: AbortSignal;
}

const DEFAULT_INTERVAL_MS = 1_000;
/**
 * Between two reads while a watch is open: the watch wakes the wait on every change, so reads
 * on the timer only cover an event the watch missed.
 */
const WATCHED_INTERVAL_MS = 10_000;

/** A wake-up call that a pause can wait for: set by the watch, reset when taken. */
class Wakeup {
    /** True while a watch is open and rings on changes. */
    watching = false;
    private pending = false;
    private waiter?: () => void;

    ring(ended = false): void {
        if (ended) this.watching = false;
        this.pending = true;
        this.waiter?.();
    }

    /** Resolves after `ms`, on abort, or at the next (or a missed) ring. */
    pause(ms: number, signal?: AbortSignal): Promise<void> {
        return new Promise((resolve) => {
            const done = () => {
                clearTimeout(timer);
                signal?.removeEventListener("abort", done);
                this.waiter = undefined;
                this.pending = false;
                resolve();
            };
            const timer = setTimeout(done, ms);
            signal?.addEventListener("abort", done, { once: true });
            this.waiter = done;
            if (this.pending) done();
        });
    }
}

/** The clock of the waits; tests pass their own. */
export interface WaitClock {
    now?: () => number;
    /** Between two reads when the caller gives no interval (default 1 s). */
    intervalMs?: number;
}

/** Environment resources of one control-plane namespace. */
export class EnvironmentResources {
    private readonly now: () => number;

    constructor(private readonly store: EnvironmentStore, readonly namespace: string, private readonly clock: WaitClock = {}) {
        this.now = clock.now ?? Date.now;
    }

    get(name: string): Promise<EnvironmentObject | undefined> {
        return this.store.get(this.namespace, name);
    }

    /** Watches every Environment of the namespace (see EnvironmentStore.watchAll); undefined when the store cannot. */
    watchAll(handlers: EnvironmentHandlers): Promise<() => void> | undefined {
        return this.store.watchAll?.(this.namespace, handlers);
    }

    /** The Environments of the namespace, optionally of one type, by name. */
    async list(type?: EnvironmentSpec["type"]): Promise<EnvironmentObject[]> {
        const all = await this.store.list(this.namespace);
        return all.filter((e) => type === undefined || e.spec.type === type).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    }

    /**
     * Creates the Environment of a preview, or patches its spec when it exists (a changed spec is
     * a new generation; an unchanged one is not). Refuses a Project that does not exist, before
     * anything is written, naming `projectField`. `check` sees the existing object before it is
     * patched; the patch holds only if nobody changed the object since (its resourceVersion), so
     * a check cannot pass on an object another writer changes before the write. A write that
     * lost such a race reads again and checks again.
     */
    async applyPreview(request: PreviewRequest, projectField = "--project", check?: EnvironmentCheck): Promise<EnvironmentObject> {
        if (!(await this.store.projectExists(this.namespace, request.project))) {
            throw new ResourceInputError(projectField, `project "${request.project}" does not exist in namespace ${this.namespace}; create it first (docs/controller.md)`);
        }
        const name = previewEnvironmentName(request.pr, request.project);
        const wanted: Partial<Record<(typeof MANAGED_SPEC_FIELDS)[number], unknown>> = {
            branch: request.branch, sha: request.sha, image: request.image, ttl: request.ttl, owners: request.owners,
        };
        return this.retryConflicts(`Environment ${this.namespace}/${name}`, async () => {
            const existing = await this.store.get(this.namespace, name);
            if (existing === undefined) {
                const spec: Record<string, unknown> = { project: request.project, type: "preview", pullRequest: request.pr };
                for (const [key, value] of Object.entries(wanted)) if (value !== undefined) spec[key] = value;
                // 409 when someone else created it meanwhile: then it is read, checked and patched.
                return this.store.create(this.namespace, {
                    apiVersion: API_GROUP_VERSION, kind: RESOURCE_KINDS.environment.kind,
                    metadata: { name, namespace: this.namespace, labels: { [CREATED_BY_LABEL]: request.createdBy } },
                    spec: spec as EnvironmentSpec,
                });
            }
            check?.(existing);
            if (existing.metadata.deletionTimestamp !== undefined) {
                throw new BeingDeletedError(`Environment ${this.namespace}/${name} is being deleted; wait for \`catalyst preview down\` to finish, then try again`);
            }
            const spec: Record<string, unknown> = { project: request.project, type: "preview", pullRequest: request.pr };
            for (const [key, value] of Object.entries(wanted)) spec[key] = value ?? null;
            return this.store.patch(this.namespace, name, { metadata: { resourceVersion: existing.metadata.resourceVersion }, spec });
        });
    }

    /**
     * Starts deleting an Environment (the controller destroys its stack first); false when it did
     * not exist. With `check`, the object is checked as read and deleted only if it is still that
     * object at that version (the API server's preconditions).
     */
    async delete(name: string, check?: EnvironmentCheck): Promise<boolean> {
        if (check === undefined) return this.store.delete(this.namespace, name);
        return this.retryConflicts(`Environment ${this.namespace}/${name}`, async () => {
            const existing = await this.store.get(this.namespace, name);
            if (existing === undefined) return false;
            check(existing);
            return this.store.delete(this.namespace, name, { uid: existing.metadata.uid, resourceVersion: existing.metadata.resourceVersion });
        });
    }

    /** Runs `attempt` again while it loses races (409), at most {@link CONFLICT_ATTEMPTS} times. */
    private async retryConflicts<T>(what: string, attempt: () => Promise<T>): Promise<T> {
        for (let tries = 1; ; tries++) {
            try {
                return await attempt();
            } catch (err) {
                if (!isConflict(err)) throw err;
                if (tries >= CONFLICT_ATTEMPTS) throw new ResourceError(409, `${what} kept changing while it was written (${tries} attempts); try again`);
            }
        }
    }

    /** Waits until `name` is Ready at its current generation, has failed, is gone, or the time is up. */
    async waitUntilReady(name: string, options: WaitOptions): Promise<WaitResult> {
        return this.poll(name, options, (state) => {
            if (state === undefined) return { outcome: "gone", message: `Environment ${this.namespace}/${name} was deleted` };
            if (state.phase === "ready") return { outcome: "ready", state, message: state.message };
            if (state.phase === "failed") return { outcome: "failed", state, message: state.message };
            if (state.phase === "deleting") return { outcome: "failed", state, message: `Environment ${this.namespace}/${name} is being deleted` };
            return undefined;
        });
    }

    /**
     * Waits until `name` is gone (the controller destroyed its stack and removed its finalizer). A
     * destroy that fails after the wait began ends it as `failed`; the controller keeps retrying.
     */
    async waitUntilGone(name: string, options: WaitOptions): Promise<WaitResult> {
        let failuresAtStart: number | undefined;
        return this.poll(name, options, (state, environment) => {
            if (state === undefined) return { outcome: "gone", message: `Environment ${this.namespace}/${name} deleted` };
            failuresAtStart ??= state.failures;
            const ready = environment?.status?.conditions?.find((c) => c.type === "Ready");
            if (state.phase === "deleting" && ready?.reason === "DestroyFailed" && state.failures > failuresAtStart) {
                return { outcome: "failed", state, message: `destroy failed: ${ready.message} (the controller retries; the Environment stays until a destroy succeeds)` };
            }
            return undefined;
        });
    }

    private async poll(
        name: string,
        options: WaitOptions,
        done: (state: EnvironmentState | undefined, environment: EnvironmentObject | undefined) => WaitResult | undefined,
    ): Promise<WaitResult> {
        const wakeup = new Wakeup();
        const stopWatch = await this.startWatch(name, wakeup);
        try {
            return await this.pollWoken(name, options, done, wakeup);
        } finally {
            stopWatch?.();
        }
    }

    /** A watch that rings `wakeup` on changes of `name`, or undefined when the store has none or it failed. */
    private async startWatch(name: string, wakeup: Wakeup): Promise<(() => void) | undefined> {
        if (this.store.watch === undefined) return undefined;
        try {
            const stop = await this.store.watch(this.namespace, name, (ended) => wakeup.ring(ended));
            wakeup.watching = true;
            return stop;
        } catch {
            // Reading every second works without it.
            return undefined;
        }
    }

    private async pollWoken(
        name: string,
        options: WaitOptions,
        done: (state: EnvironmentState | undefined, environment: EnvironmentObject | undefined) => WaitResult | undefined,
        wakeup: Wakeup,
    ): Promise<WaitResult> {
        const deadline = this.now() + options.timeoutMs;
        let last: EnvironmentState | undefined;
        let lastError: string | undefined;
        for (;;) {
            let environment: EnvironmentObject | undefined;
            let read = true;
            try {
                environment = await this.store.get(this.namespace, name);
                lastError = undefined;
            } catch (err) {
                // An API server that does not answer for a moment is waited out, not a failure.
                if (!(err instanceof ResourceError) || (err.status !== undefined && err.status < 500)) throw err;
                lastError = err.message;
                read = false;
            }
            if (read) {
                options.onRead?.(environment);
                const state = environment === undefined ? undefined : environmentState(environment);
                if (state !== undefined && (last === undefined || last.phase !== state.phase || last.message !== state.message)) options.onProgress?.(state);
                if (state !== undefined) last = state;
                const result = done(state, environment);
                if (result !== undefined) return result;
            }
            if (options.signal?.aborted) return { outcome: "timeout", state: last, message: `interrupted; last status: ${last?.message ?? lastError ?? "none"}` };
            const left = deadline - this.now();
            if (left <= 0) {
                const seconds = Math.round(options.timeoutMs / 1000);
                return { outcome: "timeout", state: last, message: `not done after ${seconds} s; last status: ${lastError ?? last?.message ?? "none"}` };
            }
            const interval = options.intervalMs ?? this.clock.intervalMs ?? (wakeup.watching ? WATCHED_INTERVAL_MS : DEFAULT_INTERVAL_MS);
            await wakeup.pause(Math.min(interval, left), options.signal);
        }
    }
}
