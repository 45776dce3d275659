import { DeletePreconditions, EnvironmentHandlers, EnvironmentStore, ResourceError } from "../../../stacks/resources/client";
import { Condition, EnvironmentObject } from "../../../stacks/resources/types";

/** RFC 7386 merge patch of `target` with `patch`. */
function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...target };
    for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete out[key];
        else if (typeof value === "object" && !Array.isArray(value)) out[key] = merge((out[key] ?? {}) as Record<string, unknown>, value as Record<string, unknown>);
        else out[key] = value;
    }
    return out;
}

/**
 * An in-memory API server of Environments for the client's and the front ends' unit tests:
 * generations follow spec changes, every write bumps the resourceVersion and a stale one in a
 * patch or a delete's preconditions is refused with 409, deletes with a finalizer only mark the
 * object.
 */
export class FakeStore implements EnvironmentStore {
    objects = new Map<string, EnvironmentObject>();
    projects = new Set<string>(["catalyst-system/default"]);
    calls: string[] = [];
    /** Errors the next gets throw, in order. */
    getErrors: ResourceError[] = [];
    private gets = 0;
    private version = 0;
    /** Set by a test to give the store a watch (EnvironmentStore.watch). */
    watch?: (namespace: string, name: string, changed: (ended: boolean) => void) => Promise<() => void>;
    /** Set by a test to give the store a namespace-wide watch (EnvironmentStore.watchAll). */
    watchAll?: (namespace: string, handlers: EnvironmentHandlers) => Promise<() => void>;
    /** Called once right before the next write: a test plays a concurrent writer there. */
    beforeNextWrite?: () => void;

    private nextVersion(): string {
        return String(++this.version);
    }

    private racing(): void {
        const script = this.beforeNextWrite;
        this.beforeNextWrite = undefined;
        script?.();
    }
    private script?: (object: EnvironmentObject | undefined, count: number) => void;

    /** Called on every get with the count of gets since it was set: a test plays the controller between two polls. */
    set onGet(script: ((object: EnvironmentObject | undefined, count: number) => void) | undefined) {
        this.script = script;
        this.gets = 0;
    }

    private key(namespace: string, name: string): string {
        return `${namespace}/${name}`;
    }

    async get(namespace: string, name: string): Promise<EnvironmentObject | undefined> {
        this.calls.push(`get ${name}`);
        const error = this.getErrors.shift();
        if (error !== undefined) throw error;
        const object = this.objects.get(this.key(namespace, name));
        this.script?.(object, ++this.gets);
        const after = this.objects.get(this.key(namespace, name));
        return after === undefined ? undefined : structuredClone(after);
    }

    async list(namespace: string): Promise<EnvironmentObject[]> {
        this.calls.push("list");
        return [...this.objects.values()].filter((o) => o.metadata.namespace === namespace).map((o) => structuredClone(o));
    }

    async create(namespace: string, object: EnvironmentObject): Promise<EnvironmentObject> {
        this.calls.push(`create ${object.metadata.name}`);
        this.racing();
        if (this.objects.has(this.key(namespace, object.metadata.name))) throw new ResourceError(409, "already exists");
        const created = structuredClone({ ...object, metadata: { ...object.metadata, generation: 1, uid: `uid-${object.metadata.name}-${this.version}`, resourceVersion: this.nextVersion(), finalizers: ["catalyst.dev/stack"] } });
        this.objects.set(this.key(namespace, object.metadata.name), created);
        return structuredClone(created);
    }

    async patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<EnvironmentObject> {
        this.calls.push(`patch ${name} ${JSON.stringify(patch)}`);
        this.racing();
        const existing = this.objects.get(this.key(namespace, name));
        if (existing === undefined) throw new ResourceError(404, "not found");
        const wanted = (patch.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (wanted !== undefined && wanted !== existing.metadata.resourceVersion) throw new ResourceError(409, "the object has been modified");
        const next = merge(existing as unknown as Record<string, unknown>, patch) as unknown as EnvironmentObject;
        next.metadata.resourceVersion = this.nextVersion();
        if (JSON.stringify(next.spec) !== JSON.stringify(existing.spec)) next.metadata.generation = (existing.metadata.generation ?? 1) + 1;
        this.objects.set(this.key(namespace, name), next);
        return structuredClone(next);
    }

    async delete(namespace: string, name: string, preconditions?: DeletePreconditions): Promise<boolean> {
        this.calls.push(`delete ${name}`);
        this.racing();
        const existing = this.objects.get(this.key(namespace, name));
        if (existing === undefined) return false;
        if ((preconditions?.uid !== undefined && preconditions.uid !== existing.metadata.uid) ||
            (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== existing.metadata.resourceVersion)) {
            throw new ResourceError(409, "precondition failed");
        }
        existing.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
        return true;
    }

    async projectExists(namespace: string, name: string): Promise<boolean> {
        return this.projects.has(this.key(namespace, name));
    }

    /** Plays the controller: sets the status of `name`. */
    setStatus(name: string, status: { conditions: Partial<Condition>[]; url?: string; failures?: number; observed?: boolean }, namespace = "catalyst-system"): void {
        const object = this.objects.get(this.key(namespace, name));
        if (object === undefined) throw new Error(`no ${name}`);
        const generation = object.metadata.generation ?? 1;
        object.status = {
            observedGeneration: status.observed === false ? object.status?.observedGeneration : generation,
            url: status.url,
            failures: status.failures,
            conditions: status.conditions.map((c) => ({ status: "True", reason: "R", message: "", lastTransitionTime: "2026-01-01T00:00:00Z", observedGeneration: generation, type: "Ready", ...c }) as Condition),
        };
    }

    /** Plays the controller: removes `name` (its finalizer went). */
    remove(name: string, namespace = "catalyst-system"): void {
        this.objects.delete(this.key(namespace, name));
    }
}
