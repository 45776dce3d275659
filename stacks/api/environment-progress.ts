import { environmentState, EnvironmentPhase } from "../resources/client";
import type { EnvironmentObject, OperationProgress } from "../resources/types";
import type { Activity } from "./activity";
import type { OperationState, OperationView } from "./operations";

/**
 * Operations in resource mode (CATALYST_CONTROL_PLANE_NAMESPACE): the Environment is the
 * operation, and the controller writes its progress into `status.operation`
 * (stacks/controller/progress.ts). This module maps that status onto the shapes the API answers
 * in direct mode, so one client (the dashboard) follows both: an operation id, the `step`,
 * `resource` and `end` events of `/operations/:id/events`, and the `activity` events of
 * `GET /events`. Pure: resources.ts reads and watches, http.ts streams.
 *
 * An operation id names what a request asked for, so any server can follow it (nothing is kept
 * in memory): `<environment>.<generation>` for a create or update (the generation the request
 * wrote), `<environment>.destroy` for a delete.
 */

/** What a resource-mode operation asks for. */
export interface ResourceOperation {
    environment: string;
    action: "create" | "destroy";
    /** For a create: the generation it wrote; it is done once the Environment is Ready at it or later. */
    generation?: number;
}

const ID = /^([a-z0-9-]{1,63})\.([0-9]{1,12}|destroy)$/;

/** The operation id of `operation` (see above). */
export function resourceOperationId(operation: ResourceOperation): string {
    return `${operation.environment}.${operation.action === "destroy" ? "destroy" : String(operation.generation ?? 1)}`;
}

/** The operation an id names, or undefined when it is no resource-mode id (direct mode's are UUIDs). */
export function parseResourceOperationId(id: string): ResourceOperation | undefined {
    const match = ID.exec(id);
    if (match === null) return undefined;
    return match[2] === "destroy" ? { environment: match[1], action: "destroy" } : { environment: match[1], action: "create", generation: Number(match[2]) };
}

/** How far an operation is, as the events tell it. */
export interface ProgressState {
    step: string;
    message: string;
    done?: number;
    total?: number;
}

/** `status.operation` when it is the one `operation` waits for (the controller's latest may be an earlier generation's). */
function matching(environment: EnvironmentObject, operation: ResourceOperation): OperationProgress | undefined {
    const current = environment.status?.operation;
    if (current === undefined) return undefined;
    if (operation.action === "destroy") return current.action === "destroy" ? current : undefined;
    return current.action === "up" && current.generation >= (operation.generation ?? 1) ? current : undefined;
}

/**
 * Where `operation` stands on `environment` as read: the controller's step and resource counts
 * while its operation runs; before it began, `pending` (no controller has picked it up) or
 * `queued`; after a failed try the controller retries, `retrying`.
 */
export function progressOf(environment: EnvironmentObject, operation: ResourceOperation): ProgressState {
    const state = environmentState(environment);
    const running = matching(environment, operation);
    const counts = running?.resourcesTotal === undefined ? {} : { done: running.resourcesDone ?? 0, total: running.resourcesTotal };
    if (running !== undefined && running.finishedAt === undefined) return { step: running.step, message: state.message, ...counts };
    if (running !== undefined && running.result !== "succeeded" && state.phase !== "failed") return { step: "retrying", message: state.message, ...counts };
    if (running !== undefined) return { step: running.step, message: state.message, ...counts };
    return { step: state.phase === "pending" ? "pending" : "queued", message: state.message };
}

/** A server-sent event: its type and data. */
export interface ProgressEvent {
    type: "step" | "resource";
    data: Record<string, unknown>;
}

/** The events that take a follower from `before` (undefined: nothing sent yet) to `after`. */
export function progressEvents(stack: string, before: ProgressState | undefined, after: ProgressState, time: string): ProgressEvent[] {
    const events: ProgressEvent[] = [];
    if (before === undefined || before.step !== after.step || before.message !== after.message) {
        events.push({ type: "step", data: { type: "step", stack, step: after.step, message: after.message, time } });
    }
    if (after.total !== undefined && (before === undefined || before.done !== after.done || before.total !== after.total)) {
        events.push({ type: "resource", data: { type: "resource", stack, done: after.done ?? 0, total: after.total, time } });
    }
    return events;
}

/** The state of `operation` from the Environment as read (undefined: it is gone). */
export function operationState(environment: EnvironmentObject | undefined, operation: ResourceOperation): { state: OperationState; error?: string } {
    if (environment === undefined) {
        return operation.action === "destroy" ? { state: "succeeded" } : { state: "failed", error: `Environment ${operation.environment} was deleted` };
    }
    const { phase, message } = environmentState(environment);
    return stateOf(phase, message, operation);
}

function stateOf(phase: EnvironmentPhase, message: string, operation: ResourceOperation): { state: OperationState; error?: string } {
    if (operation.action === "create") {
        if (phase === "ready") return { state: "succeeded" };
        if (phase === "failed") return { state: "failed", error: message };
        if (phase === "deleting") return { state: "failed", error: `Environment ${operation.environment} is being deleted` };
    }
    return { state: "running" };
}

/**
 * The operation as `GET /operations/:id` and the `end` event show it (direct mode's shape; no
 * engine events are kept, so the counts are 0). `environment` undefined: it is gone.
 */
export function resourceOperationView(operation: ResourceOperation, environment: EnvironmentObject | undefined, user: string, end?: { state: OperationState; error?: string }): OperationView {
    const current = environment === undefined ? undefined : matching(environment, operation);
    const { state, error } = end ?? operationState(environment, operation);
    const view: OperationView = {
        id: resourceOperationId(operation),
        stack: environment?.status?.stack ?? operation.environment,
        action: operation.action,
        user,
        state,
        startedAt: current?.startedAt ?? environment?.metadata.creationTimestamp ?? new Date().toISOString(),
        events: 0,
        droppedEvents: 0,
    };
    if (state !== "running") view.finishedAt = current?.finishedAt ?? new Date().toISOString();
    if (error !== undefined) view.error = error;
    return view;
}

/** The operation a create or delete request started, as its 202 answer names it. */
export function requestedOperation(written: { environment: string; stack?: string; generation?: number }, action: ResourceOperation["action"], user: string): OperationView {
    const id = resourceOperationId({ environment: written.environment, action, generation: written.generation });
    return { id, stack: written.stack ?? written.environment, action, user, state: "running", startedAt: new Date().toISOString(), events: 0, droppedEvents: 0 };
}

/**
 * What `GET /events` says about an Environment as read (`deleted`: its watch saw it go): the
 * operation it is in (a delete once it is being deleted, else its current generation's up),
 * that operation's state and progress.
 */
export function environmentActivity(environment: EnvironmentObject, deleted = false): Activity {
    const deleting = deleted || environment.metadata.deletionTimestamp !== undefined;
    const operation: ResourceOperation = deleting
        ? { environment: environment.metadata.name, action: "destroy" }
        : { environment: environment.metadata.name, action: "create", generation: environment.metadata.generation ?? 1 };
    const view = resourceOperationView(operation, deleted ? undefined : environment, "-");
    const activity: Activity = { stack: view.stack, operation: view.id, action: view.action, state: view.state, startedAt: view.startedAt };
    if (view.state === "running") {
        const progress = progressOf(environment, operation);
        activity.step = progress.step;
        if (progress.total !== undefined) {
            activity.done = progress.done ?? 0;
            activity.total = progress.total;
        }
    }
    return activity;
}
