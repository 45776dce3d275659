import { formatDuration } from "../automation/duration";
import { parseDurationInput } from "../automation/validation";
import { EnvironmentResources, environmentState, WaitResult } from "../resources/client";
import { EnvironmentObject } from "../resources/types";
import { requireOwner } from "./auth";
import { EnvironmentActivity } from "./environment-watch";
import { operationState, progressEvents, progressOf, ProgressState, resourceOperationView, ResourceOperation } from "./environment-progress";
import { ApiError } from "./errors";
import type { OperationState, OperationView } from "./operations";
import { CreatePreviewInput, EnvironmentName, parseInput } from "./service";

/**
 * The HTTP API's and the MCP server's previews in resource mode (CATALYST_CONTROL_PLANE_NAMESPACE
 * set): create, patch and delete Environment resources and report their status, which
 * `catalyst controller` writes. Nothing is kept in this process, so a restart of the API loses
 * no operation: the Environment is the operation.
 */

/** What the API answers about a preview Environment. */
export interface PreviewResourceView {
    environment: string;
    namespace: string;
    phase: "ready" | "failed" | "progressing" | "pending" | "deleting" | "deleted";
    message: string;
    generation?: number;
    observedGeneration?: number;
    owners?: string[];
    url?: string;
    stack?: string;
    environmentNamespace?: string;
}

/** How long a follow of one operation lasts at most (the controller's own timeouts end operations long before). */
export const FOLLOW_TIMEOUT_MS = 6 * 60 * 60_000;

/** Previews as Environment resources of one namespace. */
export class PreviewResources {
    private live?: EnvironmentActivity;

    constructor(readonly resources: EnvironmentResources, private readonly project: string) {}

    /** What `GET /events` streams about the namespace's Environments (one watch, shared by every listener). */
    get activity(): EnvironmentActivity {
        this.live ??= new EnvironmentActivity(this.resources);
        return this.live;
    }

    /** `GET /operations/:id` of a resource-mode operation: 404 for a create whose Environment does not exist. */
    async operation(operation: ResourceOperation, user: string): Promise<OperationView> {
        const environment = await this.resources.get(operation.environment);
        if (environment === undefined && operation.action === "create") throw new ApiError("not-found", `no Environment ${this.resources.namespace}/${operation.environment}`);
        return resourceOperationView(operation, environment, user);
    }

    /**
     * Follows a resource-mode operation: `send` gets a `step` event when the step or message
     * changes and a `resource` event when the counts do (from the Environment's status, read on
     * every change its watch reports); resolves with the final view once it succeeded or failed,
     * or when `signal` aborts (the caller hung up). 404 before anything is sent as for {@link operation}.
     */
    async follow(operation: ResourceOperation, user: string, send: (type: string, data: unknown) => void, signal: AbortSignal): Promise<OperationView> {
        const first = await this.operation(operation, user);
        let last: ProgressState | undefined;
        let seen: EnvironmentObject | undefined;
        const onRead = (environment: EnvironmentObject | undefined) => {
            seen = environment;
            if (environment === undefined) return;
            const next = progressOf(environment, operation);
            for (const event of progressEvents(first.stack, last, next, new Date().toISOString())) send(event.type, event.data);
            last = next;
        };
        const options = { timeoutMs: FOLLOW_TIMEOUT_MS, onRead, signal };
        const result = operation.action === "destroy"
            ? await this.resources.waitUntilGone(operation.environment, options)
            : await this.resources.waitUntilReady(operation.environment, options);
        let end: { state: OperationState; error?: string };
        if (result.outcome === "timeout") end = { state: "running", error: result.message };
        else if (result.outcome === "failed") end = { state: "failed", error: result.message };
        else end = operationState(result.outcome === "gone" ? undefined : seen, operation);
        return resourceOperationView(operation, result.outcome === "gone" ? undefined : seen, user, end);
    }

    /**
     * The Environment that holds stack `stack` (its `status.stack`; before the controller wrote
     * one, the Environment of that name), for its conditions; undefined when there is none.
     */
    async environmentOfStack(stack: string): Promise<EnvironmentObject | undefined> {
        const all = await this.resources.list();
        return all.find((e) => e.status?.stack === stack) ?? all.find((e) => e.status?.stack === undefined && e.metadata.name === stack);
    }

    /** The view of an Environment as read. */
    view(object: EnvironmentObject): PreviewResourceView {
        const state = environmentState(object);
        return {
            environment: object.metadata.name, namespace: this.resources.namespace, phase: state.phase, message: state.message,
            generation: state.generation, observedGeneration: state.observedGeneration, owners: object.spec.owners,
            url: state.url, stack: state.stack, environmentNamespace: state.namespace,
        };
    }

    private async existing(name: string): Promise<EnvironmentObject | undefined> {
        const object = await this.resources.get(name);
        return object === undefined ? undefined : PreviewResources.preview(object);
    }

    /** `object`, refused when it is no preview. */
    private static preview(object: EnvironmentObject): EnvironmentObject {
        if (object.spec.type !== "preview") throw new ApiError("forbidden", `${object.metadata.name} is not a preview; only previews can be changed through this API`);
        return object;
    }

    private static check(user: string, object: EnvironmentObject): void {
        requireOwner(user, { stack: object.metadata.name, kind: object.spec.type, owners: object.spec.owners ?? [] });
    }

    /** Creates or patches the Environment of a preview owned by `user` (403 when it is someone else's). */
    async create(user: string, body: unknown): Promise<PreviewResourceView> {
        const input = parseInput(CreatePreviewInput, body);
        const owners = [user, ...(input.owners ?? []).filter((o) => o.toLowerCase() !== user.toLowerCase())];
        const ttl = input.ttl === undefined ? undefined : parseDurationInput(input.ttl, "ttl");
        const applied = await this.resources.applyPreview({
            pr: input.pr, branch: input.branch, sha: input.sha, image: input.image, owners,
            ttl: ttl === undefined ? undefined : ttl === 0 ? "0" : formatDuration(ttl), project: this.project, createdBy: "api",
        }, "project (the server's CATALYST_CONTROL_PLANE_PROJECT)", (existing) => PreviewResources.check(user, PreviewResources.preview(existing)));
        return this.view(applied);
    }

    /** Starts deleting the Environment of a preview `user` owns (404 when there is none). */
    async destroy(user: string, name: string): Promise<PreviewResourceView> {
        const environment = parseInput(EnvironmentName, name);
        const deleted = await this.resources.delete(environment, (existing) => PreviewResources.check(user, PreviewResources.preview(existing)));
        if (!deleted) throw new ApiError("not-found", `no Environment ${this.resources.namespace}/${environment}`);
        const after = await this.resources.get(environment);
        return after === undefined ? this.gone(environment) : this.view(after);
    }

    /** The current view of a preview (404 when there is none). */
    async get(name: string): Promise<PreviewResourceView> {
        const environment = parseInput(EnvironmentName, name);
        const object = await this.existing(environment);
        if (object === undefined) throw new ApiError("not-found", `no Environment ${this.resources.namespace}/${environment}`);
        return this.view(object);
    }

    /** Waits until the preview is Ready (or failed, or `timeoutMs` passed), calling `progress` with each new state. */
    async waitReady(name: string, timeoutMs: number, progress?: (view: PreviewResourceView) => void): Promise<PreviewResourceView> {
        return this.settle(name, await this.resources.waitUntilReady(name, { timeoutMs, onProgress: progress && ((s) => progress(this.fromState(name, s))) }));
    }

    /** Waits until the preview is gone (or its destroy failed, or `timeoutMs` passed). */
    async waitGone(name: string, timeoutMs: number, progress?: (view: PreviewResourceView) => void): Promise<PreviewResourceView> {
        return this.settle(name, await this.resources.waitUntilGone(name, { timeoutMs, onProgress: progress && ((s) => progress(this.fromState(name, s))) }));
    }

    private gone(name: string): PreviewResourceView {
        return { environment: name, namespace: this.resources.namespace, phase: "deleted", message: "deleted" };
    }

    private fromState(name: string, state: NonNullable<WaitResult["state"]>): PreviewResourceView {
        return {
            environment: name, namespace: this.resources.namespace, phase: state.phase, message: state.message,
            generation: state.generation, observedGeneration: state.observedGeneration, url: state.url, stack: state.stack, environmentNamespace: state.namespace,
        };
    }

    private settle(name: string, result: WaitResult): PreviewResourceView {
        if (result.outcome === "gone") return this.gone(name);
        const view = result.state === undefined ? { environment: name, namespace: this.resources.namespace, phase: "pending" as const, message: result.message } : this.fromState(name, result.state);
        if (result.outcome === "timeout") throw new ApiError("busy", `${name}: ${result.message}`);
        if (result.outcome === "failed") return { ...view, phase: "failed", message: result.message };
        return view;
    }
}
