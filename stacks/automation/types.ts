import { StackKind } from "../../components/naming";

/**
 * The shapes the automation layer hands back: operation results, environment records and the
 * progress events. They are what `catalyst --json` prints, so they are a public contract.
 */

/** What became of an operation. `busy` and `timed-out` map to CLI exit code 3. */
export type OperationStatus = "succeeded" | "failed" | "busy" | "timed-out";

/** The stack operations the layer runs; `drift` is a refresh in preview mode (changes nothing). */
export type Action = "up" | "destroy" | "drift" | "status" | "gc";

/** Counts of resource operations by kind (`create`, `update`, `same`, `delete`, ...). */
export type ChangeCounts = Record<string, number>;

/** A resource whose object in the cluster no longer matches the stack's state (drift checks). */
export interface DriftedResource {
    urn: string;
    /** Resource type, `kubernetes:apps/v1:Deployment`. */
    type: string;
    /** The resource's name in the stack (the URN's last part). */
    name: string;
    /** What a refresh would do to the state: `update` (it differs) or `delete` (it is gone). */
    op: string;
    /** The properties that differ, when the engine names them (`spec.replicas`). */
    properties?: string[];
}

/** Wall-clock durations of one operation, in milliseconds. */
export interface Durations {
    /** From the call to the result. */
    totalMs: number;
    /** Waiting for the stack lock and a concurrency slot. */
    waitMs: number;
    /** Running the stack operation itself (in the worker process). */
    runMs: number;
    /** Recovering a stack after a timeout (cancel, repair of pending operations, refresh). */
    recoveryMs?: number;
}

/** The result of `up` or `destroy` on one stack. */
export interface OperationResult {
    action: Action;
    stack: string;
    kind: StackKind;
    status: OperationStatus;
    /** Pull request number, for previews. */
    pr?: number;
    /** Environment namespace (from the stack's outputs, or the naming rule when the stack is gone). */
    namespace?: string;
    /** Public URL of the environment, when the stack exports one. */
    url?: string;
    /** The stack's version after the operation: the update id of DIY backends. */
    updateId?: string;
    /** Resource operations the engine performed. */
    changes?: ChangeCounts;
    /** False when the operation changed nothing (a repeated `up`, a destroy of an absent stack). */
    changed?: boolean;
    /** True when there was nothing to do: destroying a stack that does not exist. */
    noop?: boolean;
    /** True when the stack was recovered (stale lock, pending operations) before or after the run. */
    recovered?: boolean;
    /** Stack outputs; secret values are replaced by "[secret]". */
    outputs?: Record<string, unknown>;
    /** Drift checks: the resources that drifted (empty: none did). */
    drift?: DriftedResource[];
    durations: Durations;
    /** One line saying what went wrong, for failed, busy and timed-out results. */
    error?: string;
    /** A failed or timed-out operation: the resource the engine failed first (or named in its first error). */
    failedResource?: FailedResource;
}

/** The resource an operation failed on, from the engine's events. */
export interface FailedResource {
    urn: string;
    /** Resource type, `kubernetes:apps/v1:Deployment`. */
    type: string;
    /** The resource's name in the stack (the URN's last part). */
    name: string;
}

/** A stack of the project as listed by {@link listEnvironments}, with its catalyst tags. */
export interface EnvironmentRecord {
    stack: string;
    kind: StackKind;
    /** The Project, for stacks of a Project other than the default one (`pr-5--web`). */
    project?: string;
    pr?: number;
    branch?: string;
    sha?: string;
    image?: string;
    owner?: string;
    namespace?: string;
    url?: string;
    /** ISO times from the stack tags. */
    createdAt?: string;
    updatedAt?: string;
    expiresAt?: string;
    /** Set while the environment sleeps (`catalyst preview sleep`): since when, ISO time. */
    sleepingSince?: string;
    /** Why it sleeps: `manual`, `idle` or `schedule`. */
    sleepReason?: string;
    /** From the backend: last update time and resource count. */
    lastUpdate?: string;
    resourceCount?: number;
    updateInProgress?: boolean;
}

/** {@link EnvironmentRecord} plus outputs and the state of its last operation. */
export interface EnvironmentStatus extends EnvironmentRecord {
    /** Stack outputs; secret values are replaced by "[secret]". */
    outputs: Record<string, unknown>;
    /** Resource operations interrupted by a crash and not yet repaired. */
    pendingOperations: number;
    /** Result and version of the last update, when there was one. */
    lastResult?: string;
    updateId?: string;
    /** The newest update or destroy of the engine's history (conditions.ts reads it). */
    lastDeploy?: LastDeploy;
}

/** The newest update or destroy of a stack (history.ts `lastDeployOf`). */
export interface LastDeploy {
    /** `update` or `destroy`. */
    kind: string;
    /** `succeeded`, `failed` or `in-progress`. */
    result: string;
    /** ISO times; `endTime` is missing while it runs. */
    startTime: string;
    endTime?: string;
    /** Since when deploys have ended this way (the end of the first of the newest run of equal outcomes), as far as the history reaches. */
    since?: string;
}

/**
 * One operation in a stack's own update history (`pulumi stack history`): what the engine
 * recorded, whoever ran it (this layer, the CLI, CI, a person with `pulumi`).
 */
export interface StackOperation {
    /** `update`, `destroy`, `refresh`, `preview`, `import`, ... as the engine names it. */
    kind: string;
    /** `succeeded`, `failed` or `in-progress`. */
    result: string;
    /** ISO times; `endTime` is missing while it runs. */
    startTime: string;
    endTime?: string;
    /** End minus start, milliseconds (whole seconds: the backend records seconds). */
    durationMs?: number;
    /** Resource operations by kind (`create`, `update`, `delete`, `same`, `replace`, ...). */
    changes: ChangeCounts;
    /** The update's message (the automation layer leaves the commit subject Pulumi picks). */
    message?: string;
    /** What started it, from the engine's environment metadata: `exec.kind`, `git.head`, `git.headName`, `git.author`, `ci.*`, `vcs.*`. */
    startedBy: Record<string, string>;
    /** The stack version (Pulumi Cloud numbers them; DIY backends record 0). */
    version?: number;
}

/** A resource a stack's state holds: names and links only, never inputs or outputs. */
export interface StackResource {
    /** `kubernetes:apps/v1:Deployment`. */
    type: string;
    /** The resource's name in the stack (the URN's last part). */
    name: string;
    urn: string;
    /** The parent's URN (a component, or the stack itself). */
    parent?: string;
    /** The URN of the provider that manages it (custom resources). */
    provider?: string;
    /** True for custom resources (an object somewhere), false for components and the stack. */
    custom: boolean;
}

/** Steps of an operation, in the order they usually happen. */
export type StepName =
    | "queued"
    | "waiting"
    | "preparing"
    | "recovering"
    | "configuring"
    | "updating"
    | "destroying"
    | "refreshing"
    | "removing"
    | "cancelling"
    | "collecting";

/** An operation moved on to a new step. */
export interface StepEvent {
    type: "step";
    stack: string;
    step: StepName;
    message: string;
    /** The worker process running the operation (on its `preparing` step), for operators and tests. */
    pid?: number;
    time: string;
}

/** A resource started, finished or failed; `done` of `total` resources are finished. */
export interface ResourceEvent {
    type: "resource";
    stack: string;
    urn: string;
    resourceType: string;
    name: string;
    op: string;
    state: "started" | "done" | "failed";
    done: number;
    total: number;
    time: string;
}

/** A diagnostic from the engine, a provider or the layer itself. */
export interface LogEvent {
    type: "log";
    stack: string;
    level: "debug" | "info" | "warning" | "error";
    message: string;
    urn?: string;
    time: string;
}

/** The operation ended; `result` is what the call resolves with. */
export interface DoneEvent {
    type: "done";
    stack: string;
    status: OperationStatus;
    result: OperationResult;
    time: string;
}

/** Every progress event of the layer. */
export type CatalystEvent = StepEvent | ResourceEvent | LogEvent | DoneEvent;
