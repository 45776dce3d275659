import { hostname } from "os";
import { CLUSTER_SCOPED_KINDS } from "../../components/naming";
import { processAlive } from "./lock";

/**
 * Recovery of a stack whose update was killed: pure functions over the backend's lock message
 * and the exported state. The engine-facing steps that use them are in engine.ts:
 * 1. a lock left by a dead `pulumi` process on this machine is removed (`stack.cancel()`);
 * 2. pending operations are repaired by export/import: a resource whose create was interrupted
 *    is adopted into the state under the id its provider would give it (so the next refresh reads
 *    the object that may exist and the next `up` updates it instead of creating a duplicate);
 *    other interrupted operations are dropped, their resources stay in the state;
 * 3. a refresh reconciles the state with the cluster (adopted objects that do not exist vanish).
 */

/** A holder of the backend's stack lock, as the DIY backend's error message names it. */
export interface BackendLockHolder {
    user: string;
    host: string;
    pid: number;
    time?: string;
}

/**
 * Reads the lock holders out of a `ConcurrentUpdateError` message of a DIY backend:
 * `... created by root@vm (pid 16040) at 2026-11-22T23:48:23Z`. Pulumi Cloud names no holder.
 */
export function parseLockHolders(message: string): BackendLockHolder[] {
    const holders: BackendLockHolder[] = [];
    for (const match of message.matchAll(/created by ([^@\s]+)@(\S+) \(pid ([0-9]+)\)(?: at (\S+))?/g)) {
        holders.push({ user: match[1], host: match[2], pid: Number(match[3]), time: match[4] });
    }
    return holders;
}

/**
 * True when every holder is gone: a process of this machine that no longer runs, or any process
 * of a host in `deadHosts` (one the caller knows is gone: the controller passes the holder of a
 * Lease that expired). The lock is then stale and may be removed. Unknown holders (none parsed,
 * other machines not named dead) are never stale.
 */
export function locksAreStale(
    holders: readonly BackendLockHolder[],
    host = hostname(),
    alive: (pid: number) => boolean = processAlive,
    deadHosts: readonly string[] = [],
): boolean {
    return holders.length > 0 && holders.every((h) => deadHosts.includes(h.host) || (h.host === host && !alive(h.pid)));
}

/** The parts of an exported resource that recovery reads and writes. */
export interface StateResource {
    urn: string;
    type: string;
    custom?: boolean;
    id?: string;
    delete?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    [key: string]: unknown;
}

/** A pending operation of an exported state. */
export interface PendingOperation {
    resource: StateResource;
    type: string;
}

/** The `deployment` of an exported stack (version 3); other fields are kept as they are. */
export interface DeploymentState {
    resources?: StateResource[];
    pending_operations?: PendingOperation[];
    [key: string]: unknown;
}

const CLUSTER_SCOPED = new Set(CLUSTER_SCOPED_KINDS);

/**
 * The id the Kubernetes provider gives the object a pending create was creating: `namespace/name`,
 * or `name` for cluster-scoped kinds. Undefined when it cannot be known (not a Kubernetes object,
 * no name, or a namespaced kind whose namespace comes from the provider's default).
 */
export function kubernetesId(resource: StateResource): string | undefined {
    if (!resource.type.startsWith("kubernetes:") || !resource.custom) {
        return undefined;
    }
    const inputs = resource.inputs ?? {};
    if (resource.type === "kubernetes:helm.sh/v3:Release") {
        const name = inputs.name;
        const namespace = inputs.namespace;
        return typeof name === "string" && typeof namespace === "string" ? `${namespace}/${name}` : undefined;
    }
    const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
    const name = metadata.name;
    if (typeof name !== "string" || name === "") {
        return undefined;
    }
    const kind = resource.type.slice(resource.type.lastIndexOf(":") + 1);
    if (CLUSTER_SCOPED.has(kind)) {
        return name;
    }
    return typeof metadata.namespace === "string" && metadata.namespace !== "" ? `${metadata.namespace}/${name}` : undefined;
}

/** What {@link repairPendingOperations} did. */
export interface RepairReport {
    deployment: DeploymentState;
    /** URNs adopted into the state from interrupted creates. */
    adopted: string[];
    /** URNs whose interrupted operation was dropped. */
    dropped: string[];
}

/**
 * Removes every pending operation from an exported deployment. Interrupted creates of objects
 * whose id is known are adopted: appended to the resources (after everything they depend on,
 * which the engine created first) with their inputs as outputs; when the resource already has a
 * live entry (an interrupted replacement), that entry is marked for deletion, as the engine
 * itself records a replacement in flight. Everything else is dropped. Pure: returns a copy.
 */
export function repairPendingOperations(deployment: DeploymentState): RepairReport {
    const copy = JSON.parse(JSON.stringify(deployment)) as DeploymentState;
    const resources = copy.resources ?? [];
    const adopted: string[] = [];
    const dropped: string[] = [];
    for (const pending of copy.pending_operations ?? []) {
        const resource = pending.resource;
        const id = pending.type === "creating" ? kubernetesId(resource) : undefined;
        if (id === undefined) {
            dropped.push(resource.urn);
            continue;
        }
        for (const existing of resources) {
            if (existing.urn === resource.urn && !existing.delete) {
                existing.delete = true;
            }
        }
        const inputs = resource.inputs ?? {};
        resources.push({ ...resource, id, outputs: { ...inputs, __inputs: inputs } });
        adopted.push(resource.urn);
    }
    copy.resources = resources;
    copy.pending_operations = [];
    return { deployment: copy, adopted, dropped };
}

/** The URN of the stack's root resource (`pulumi:pulumi:Stack`), if the state has one. */
export function rootStackUrn(deployment: DeploymentState): string | undefined {
    return deployment.resources?.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
}
