import { previewStackName } from "../../../components/naming";
import { ApiCallError, ControlPlaneApi, EventRecord, LeaseRecord, Watch, WatchHandlers } from "../../../stacks/controller/cluster";
import type { StackOperations } from "../../../stacks/controller/reconcile";
import { Operation } from "../../../stacks/automation/events";
import type { CatalystEvent, OperationResult } from "../../../stacks/automation/types";
import type { CallOptions } from "../../../stacks/automation/executor";
import { API_GROUP_VERSION, EnvironmentObject, EnvironmentSpec, EnvironmentStatus, OperationProgress, ProjectObject, ProjectSpec } from "../../../stacks/resources/types";

/** An in-memory API server for the controller's unit tests, with resourceVersion checks. */
export class FakeApi implements ControlPlaneApi {
    environments = new Map<string, EnvironmentObject>();
    projects = new Map<string, ProjectObject>();
    leases = new Map<string, LeaseRecord>();
    events: (EventRecord & { object: string })[] = [];
    statusWrites = 0;
    /** Every `status.operation` written, by either kind of status write, in order. */
    operationWrites: OperationProgress[] = [];
    private version = 1;
    /** When set, every call fails as if the API server were unreachable. */
    down = false;

    private check(): void {
        if (this.down) throw new ApiCallError(0, "API server unreachable: connect ECONNREFUSED");
    }

    addProject(name: string, spec: ProjectSpec = {}, namespace = "catalyst-system"): void {
        this.projects.set(`${namespace}/${name}`, { apiVersion: API_GROUP_VERSION, kind: "Project", metadata: { name, namespace }, spec });
    }

    addEnvironment(name: string, spec: EnvironmentSpec, namespace = "catalyst-system"): EnvironmentObject {
        const env: EnvironmentObject = {
            apiVersion: API_GROUP_VERSION, kind: "Environment",
            metadata: { name, namespace, uid: `uid-${name}`, generation: 1, resourceVersion: String(this.version++), creationTimestamp: new Date(1000 + this.version).toISOString() },
            spec,
        };
        this.environments.set(`${namespace}/${name}`, env);
        return env;
    }

    /** A spec change: a new generation. */
    updateSpec(name: string, patch: Partial<EnvironmentSpec>, namespace = "catalyst-system"): void {
        const env = this.environments.get(`${namespace}/${name}`)!;
        env.spec = { ...env.spec, ...patch };
        env.metadata.generation = (env.metadata.generation ?? 1) + 1;
        env.metadata.resourceVersion = String(this.version++);
    }

    async watchEnvironments(_ns: string, handlers: WatchHandlers<EnvironmentObject>): Promise<Watch<EnvironmentObject>> {
        // As an informer does: an add for every object it lists.
        for (const env of this.environments.values()) handlers.changed(env);
        return { list: () => [...this.environments.values()], synced: true, stop: async () => undefined };
    }
    projectHandlers?: WatchHandlers<ProjectObject>;
    async watchProjects(_ns: string, handlers: WatchHandlers<ProjectObject>): Promise<Watch<ProjectObject>> {
        this.projectHandlers = handlers;
        return { list: () => [...this.projects.values()], synced: true, stop: async () => undefined };
    }
    async getEnvironment(namespace: string, name: string) {
        this.check();
        const env = this.environments.get(`${namespace}/${name}`);
        return env === undefined ? undefined : (JSON.parse(JSON.stringify(env)) as EnvironmentObject);
    }
    async getProject(namespace: string, name: string) {
        this.check();
        return this.projects.get(`${namespace}/${name}`);
    }
    async patchEnvironmentStatus(namespace: string, name: string, status: EnvironmentStatus) {
        this.check();
        const env = this.environments.get(`${namespace}/${name}`);
        if (env === undefined) throw new ApiCallError(404, "not found");
        env.status = JSON.parse(JSON.stringify(status)) as EnvironmentStatus;
        env.metadata.resourceVersion = String(this.version++);
        this.statusWrites++;
        if (status.operation !== undefined && JSON.stringify(status.operation) !== JSON.stringify(this.operationWrites.at(-1))) this.operationWrites.push(structuredClone(status.operation));
    }
    async patchEnvironmentOperation(namespace: string, name: string, operation: OperationProgress) {
        this.check();
        const env = this.environments.get(`${namespace}/${name}`);
        if (env === undefined) throw new ApiCallError(404, "not found");
        env.status = { ...env.status, operation: structuredClone(operation) };
        env.metadata.resourceVersion = String(this.version++);
        this.operationWrites.push(structuredClone(operation));
    }
    async setEnvironmentFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion?: string) {
        this.check();
        const env = this.environments.get(`${namespace}/${name}`);
        if (env === undefined) throw new ApiCallError(404, "not found");
        if (resourceVersion !== undefined && resourceVersion !== env.metadata.resourceVersion) throw new ApiCallError(409, "conflict");
        env.metadata.finalizers = finalizers;
        env.metadata.resourceVersion = String(this.version++);
        if (env.metadata.deletionTimestamp !== undefined && finalizers.length === 0) this.environments.delete(`${namespace}/${name}`);
        return JSON.parse(JSON.stringify(env)) as EnvironmentObject;
    }
    async deleteEnvironment(namespace: string, name: string) {
        this.check();
        const env = this.environments.get(`${namespace}/${name}`);
        if (env === undefined) return;
        if ((env.metadata.finalizers ?? []).length === 0) this.environments.delete(`${namespace}/${name}`);
        else env.metadata.deletionTimestamp = new Date().toISOString();
    }
    async recordEvent(object: EnvironmentObject, event: EventRecord) {
        this.events.push({ ...event, object: object.metadata.name });
    }
    async readLease(_ns: string, name: string) {
        this.check();
        const lease = this.leases.get(name);
        return lease === undefined ? undefined : { ...lease };
    }
    async createLease(_ns: string, lease: LeaseRecord) {
        this.check();
        if (this.leases.has(lease.name)) throw new ApiCallError(409, "exists");
        const stored = { ...lease, resourceVersion: String(this.version++) };
        this.leases.set(lease.name, stored);
        return { ...stored };
    }
    async replaceLease(_ns: string, lease: LeaseRecord) {
        this.check();
        const current = this.leases.get(lease.name);
        if (current === undefined) throw new ApiCallError(404, "not found");
        if (current.resourceVersion !== lease.resourceVersion) throw new ApiCallError(409, "conflict");
        const stored = { ...lease, resourceVersion: String(this.version++) };
        this.leases.set(lease.name, stored);
        return { ...stored };
    }
}

/** Stack operations that record their calls and answer with `next` results (default: success). */
export class FakeStacks implements StackOperations {
    calls: { action: string; stack: string; args?: unknown }[] = [];
    results: Partial<OperationResult>[] = [];
    /** Progress events the next operations send through the call's onEvent, one list per operation, then a pause of a few ms. */
    events: CatalystEvent[][] = [];

    private answer(action: "up" | "destroy" | "drift", stack: string, args?: unknown, call?: CallOptions): Operation<OperationResult> {
        this.calls.push({ action, stack, args });
        const next = this.results.shift() ?? {};
        const result: OperationResult = {
            action, stack, kind: "preview", status: "succeeded",
            url: action === "up" ? `http://${stack}.preview.example.com` : undefined,
            drift: action === "drift" ? [] : undefined,
            namespace: `env-${stack}`, updateId: String(this.calls.length),
            durations: { totalMs: 10, waitMs: 0, runMs: 10 }, ...next,
        };
        const events = this.events.shift() ?? [];
        return new Operation(async (emit) => {
            for (const event of events) {
                emit(event);
                // A macrotask between events, as a real engine has: timers (throttled patches) get to run.
                await new Promise((resolve) => setTimeout(resolve, 5));
            }
            return result;
        }, call?.onEvent);
    }
    upPreview = ((args: { pr: number | string; project?: string }, call?: CallOptions) => this.answer("up", previewStackName(args.pr, args.project), args, call)) as StackOperations["upPreview"];
    up = ((name: string, args?: unknown, call?: CallOptions) => this.answer("up", name, args, call)) as StackOperations["up"];
    destroyPreview = ((preview: number | string | { pr: number | string; project?: string }, call?: CallOptions) =>
        this.answer("destroy", typeof preview === "object" ? previewStackName(preview.pr, preview.project) : previewStackName(preview), undefined, call)) as StackOperations["destroyPreview"];
    destroy = ((name: string, call?: CallOptions) => this.answer("destroy", name, undefined, call)) as StackOperations["destroy"];
    checkDrift = ((stack: string, call?: unknown) => this.answer("drift", stack, call)) as StackOperations["checkDrift"];
}
