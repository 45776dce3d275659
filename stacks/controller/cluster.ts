import { EnvironmentObject, EnvironmentStatus, OperationProgress, ProjectObject } from "../resources/types";

/**
 * What the controller needs from the API server, as an interface: kube.ts implements it with
 * `@kubernetes/client-node` (informers, the custom objects API, Leases, Events), the unit tests
 * with a fake. Keeping the client library behind this seam also keeps its ES module out of the
 * unit tests (see jest.config.js).
 */

/** A coordination.k8s.io/v1 Lease as the controller reads and writes it. */
export interface LeaseRecord {
    name: string;
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    /** Milliseconds since the epoch. */
    acquireTime?: number;
    renewTime?: number;
    leaseTransitions?: number;
    resourceVersion?: string;
}

/** A Kubernetes Event about an Environment. */
export interface EventRecord {
    type: "Normal" | "Warning";
    reason: string;
    message: string;
}

/** Thrown by {@link ControlPlaneApi} calls; `status` is the HTTP status (404, 409, ...), 0 when unreachable. */
export class ApiCallError extends Error {
    constructor(public readonly status: number, message: string) {
        super(message);
        this.name = "ApiCallError";
    }
}

/** Handlers of a watch: every add or update, every delete, and the cache's readiness. */
export interface WatchHandlers<T> {
    changed: (object: T) => void;
    deleted?: (object: T) => void;
    error?: (err: Error) => void;
}

/** A running watch with a local cache of the objects. */
export interface Watch<T> {
    /** Every object in the cache. */
    list(): T[];
    /** True once the first list arrived. */
    readonly synced: boolean;
    stop(): Promise<void>;
}

/** The API server, as the controller uses it. */
export interface ControlPlaneApi {
    watchEnvironments(namespace: string, handlers: WatchHandlers<EnvironmentObject>): Promise<Watch<EnvironmentObject>>;
    watchProjects(namespace: string, handlers: WatchHandlers<ProjectObject>): Promise<Watch<ProjectObject>>;
    /** A fresh read from the API server (never the cache); undefined when it does not exist. */
    getEnvironment(namespace: string, name: string): Promise<EnvironmentObject | undefined>;
    getProject(namespace: string, name: string): Promise<ProjectObject | undefined>;
    /** Replaces the status (merge patch of `status`). */
    patchEnvironmentStatus(namespace: string, name: string, status: EnvironmentStatus): Promise<void>;
    /** Sets `status.operation` alone (a merge patch of the status subresource): the progress of a running operation. */
    patchEnvironmentOperation(namespace: string, name: string, operation: OperationProgress): Promise<void>;
    /** Sets the finalizers, guarded by `resourceVersion` (409 when the object changed). */
    setEnvironmentFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion?: string): Promise<EnvironmentObject>;
    deleteEnvironment(namespace: string, name: string): Promise<void>;
    recordEvent(object: EnvironmentObject, event: EventRecord, reportingInstance: string): Promise<void>;
    readLease(namespace: string, name: string): Promise<LeaseRecord | undefined>;
    /** Creates a Lease; ApiCallError 409 when another replica created it first. */
    createLease(namespace: string, lease: LeaseRecord): Promise<LeaseRecord>;
    /** Replaces a Lease at its `resourceVersion`; ApiCallError 409 when it changed meanwhile. */
    replaceLease(namespace: string, lease: LeaseRecord): Promise<LeaseRecord>;
}
