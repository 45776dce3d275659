import {
    ApiException,
    CoordinationV1Api,
    CoreV1Api,
    CustomObjectsApi,
    KubeConfig,
    KubernetesObject,
    makeInformer,
    PatchStrategy,
    setHeaderOptions,
    V1Lease,
    V1MicroTime,
} from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, EnvironmentObject, EnvironmentStatus, OperationProgress, ProjectObject, RESOURCE_KINDS } from "../resources/types";
import { ApiCallError, ControlPlaneApi, EventRecord, LeaseRecord, Watch, WatchHandlers } from "./cluster";

/**
 * {@link ControlPlaneApi} over `@kubernetes/client-node` (the Kubernetes project's own client,
 * chosen over hand-written HTTP for its informers, kubeconfig and in-cluster auth handling): the
 * only file of the controller that imports it. The package is an ES module; Node 24 loads it
 * through `require` from this CommonJS project.
 */

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
/** Delay before a failed watch is restarted. */
const REWATCH_MS = 2_000;

function toError(err: unknown): ApiCallError {
    if (err instanceof ApiException) {
        const body = typeof err.body === "string" ? err.body : JSON.stringify(err.body);
        let message = body;
        try {
            message = (JSON.parse(body) as { message?: string }).message ?? body;
        } catch {
            // not JSON: keep the text
        }
        return new ApiCallError(err.code, `HTTP ${err.code}: ${message}`.slice(0, 500));
    }
    return new ApiCallError(0, `API server unreachable: ${(err as Error).message}`.slice(0, 500));
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
        return await fn();
    } catch (err) {
        throw toError(err);
    }
}

async function orUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
        return await call(fn);
    } catch (err) {
        if (err instanceof ApiCallError && err.status === 404) return undefined;
        throw err;
    }
}

/** The status as a merge patch: fields it leaves out or sets to undefined are cleared (null). */
export function mergePatchOf(status: EnvironmentStatus): Record<string, unknown> {
    const patch: Record<string, unknown> = { url: null, namespace: null, expiresAt: null, lastOperation: null };
    for (const [key, value] of Object.entries(status)) if (value !== undefined) patch[key] = value;
    // Nested objects merge too: the last operation's optional fields are cleared the same way.
    if (status.lastOperation !== undefined) patch.lastOperation = { id: null, changes: null, message: null, ...status.lastOperation };
    if (status.operation !== undefined) patch.operation = operationPatch(status.operation);
    return patch;
}

/** `status.operation` as a merge patch: a new operation clears what the one before it left (its counts, end and result). */
export function operationPatch(operation: OperationProgress): Record<string, unknown> {
    return { resourcesDone: null, resourcesTotal: null, finishedAt: null, result: null, message: null, ...operation };
}

function toLease(lease: V1Lease): LeaseRecord {
    const ms = (value: Date | undefined) => (value === undefined ? undefined : new Date(value).getTime());
    return {
        name: lease.metadata?.name ?? "",
        resourceVersion: lease.metadata?.resourceVersion,
        holderIdentity: lease.spec?.holderIdentity ?? undefined,
        leaseDurationSeconds: lease.spec?.leaseDurationSeconds,
        acquireTime: ms(lease.spec?.acquireTime),
        renewTime: ms(lease.spec?.renewTime),
        leaseTransitions: lease.spec?.leaseTransitions,
    };
}

function fromLease(namespace: string, lease: LeaseRecord): V1Lease {
    const micro = (value: number | undefined) => (value === undefined ? undefined : new V1MicroTime(value));
    return {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: lease.name, namespace, resourceVersion: lease.resourceVersion, labels: { "app.kubernetes.io/managed-by": "catalyst-controller" } },
        spec: {
            holderIdentity: lease.holderIdentity,
            leaseDurationSeconds: lease.leaseDurationSeconds,
            acquireTime: micro(lease.acquireTime),
            renewTime: micro(lease.renewTime),
            leaseTransitions: lease.leaseTransitions,
        },
    };
}

/** The API server through a kubeconfig (KUBECONFIG, ~/.kube/config or the in-cluster ServiceAccount). */
export class KubeControlPlane implements ControlPlaneApi {
    private readonly custom: CustomObjectsApi;
    private readonly core: CoreV1Api;
    private readonly coordination: CoordinationV1Api;

    constructor(private readonly config: KubeConfig = KubeControlPlane.defaultConfig()) {
        this.custom = config.makeApiClient(CustomObjectsApi);
        this.core = config.makeApiClient(CoreV1Api);
        this.coordination = config.makeApiClient(CoordinationV1Api);
    }

    /** The kubeconfig from the environment: KUBECONFIG, the default file, or in-cluster. */
    static defaultConfig(): KubeConfig {
        const config = new KubeConfig();
        config.loadFromDefault();
        return config;
    }

    watchEnvironments(namespace: string, handlers: WatchHandlers<EnvironmentObject>): Promise<Watch<EnvironmentObject>> {
        return this.watch(namespace, RESOURCE_KINDS.environment.plural, handlers);
    }

    watchProjects(namespace: string, handlers: WatchHandlers<ProjectObject>): Promise<Watch<ProjectObject>> {
        return this.watch(namespace, RESOURCE_KINDS.project.plural, handlers);
    }

    private async watch<T>(namespace: string, plural: string, handlers: WatchHandlers<T>): Promise<Watch<T>> {
        const list = () => this.custom.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural });
        const informer = makeInformer<KubernetesObject>(this.config, `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${plural}`, list);
        const changed = (object: KubernetesObject) => handlers.changed(object as T);
        informer.on("add", changed);
        informer.on("update", changed);
        informer.on("delete", (object) => handlers.deleted?.(object as T));
        let stopped = false;
        let synced = false;
        informer.on("connect", () => {
            synced = true;
        });
        informer.on("error", (err: unknown) => {
            handlers.error?.(toError(err));
            // The informer stops on an error; start it again (it lists afresh), unless stopped.
            setTimeout(() => {
                if (!stopped) informer.start().catch((e: unknown) => handlers.error?.(toError(e)));
            }, REWATCH_MS).unref();
        });
        await informer.start();
        synced = true;
        return {
            list: () => informer.list() as T[],
            get synced() {
                return synced;
            },
            stop: async () => {
                stopped = true;
                await informer.stop();
            },
        };
    }

    async getEnvironment(namespace: string, name: string): Promise<EnvironmentObject | undefined> {
        return orUndefined(() => this.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_KINDS.environment.plural, name }));
    }

    async getProject(namespace: string, name: string): Promise<ProjectObject | undefined> {
        return orUndefined(() => this.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_KINDS.project.plural, name }));
    }

    async patchEnvironmentStatus(namespace: string, name: string, status: EnvironmentStatus): Promise<void> {
        await call(() => this.custom.patchNamespacedCustomObjectStatus({
            group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_KINDS.environment.plural, name,
            body: { status: mergePatchOf(status) },
        }, MERGE_PATCH));
    }

    async patchEnvironmentOperation(namespace: string, name: string, operation: OperationProgress): Promise<void> {
        await call(() => this.custom.patchNamespacedCustomObjectStatus({
            group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_KINDS.environment.plural, name,
            body: { status: { operation: operationPatch(operation) } },
        }, MERGE_PATCH));
    }

    async setEnvironmentFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion?: string): Promise<EnvironmentObject> {
        return call(() => this.custom.patchNamespacedCustomObject({
            group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_KINDS.environment.plural, name,
            body: { metadata: { finalizers, ...(resourceVersion === undefined ? {} : { resourceVersion }) } },
        }, MERGE_PATCH));
    }

    async deleteEnvironment(namespace: string, name: string): Promise<void> {
        await orUndefined(() => this.custom.deleteNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: RESOURCE_KINDS.environment.plural, name }));
    }

    async recordEvent(object: EnvironmentObject, event: EventRecord, reportingInstance: string): Promise<void> {
        const now = new Date();
        await call(() => this.core.createNamespacedEvent({
            namespace: object.metadata.namespace,
            body: {
                metadata: { generateName: `${object.metadata.name}.`, namespace: object.metadata.namespace },
                involvedObject: {
                    apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name,
                    namespace: object.metadata.namespace, uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion,
                },
                type: event.type,
                reason: event.reason,
                message: event.message.slice(0, 1024),
                firstTimestamp: now,
                lastTimestamp: now,
                count: 1,
                source: { component: "catalyst-controller", host: reportingInstance },
                reportingComponent: "catalyst.dev/controller",
                reportingInstance,
            },
        }));
    }

    async readLease(namespace: string, name: string): Promise<LeaseRecord | undefined> {
        const lease = await orUndefined(() => this.coordination.readNamespacedLease({ name, namespace }));
        return lease === undefined ? undefined : toLease(lease);
    }

    async createLease(namespace: string, lease: LeaseRecord): Promise<LeaseRecord> {
        return toLease(await call(() => this.coordination.createNamespacedLease({ namespace, body: fromLease(namespace, lease) })));
    }

    async replaceLease(namespace: string, lease: LeaseRecord): Promise<LeaseRecord> {
        return toLease(await call(() => this.coordination.replaceNamespacedLease({ name: lease.name, namespace, body: fromLease(namespace, lease) })));
    }
}
