import { CustomObjectsApi, KubernetesObject, makeInformer, PatchStrategy, setHeaderOptions, Watch } from "@kubernetes/client-node";
import { ClusterError, clusterCall, kubeConfig } from "../automation/cluster";
import { DeletePreconditions, EnvironmentHandlers, EnvironmentResources, EnvironmentStore, ResourceError } from "./client";
import { API_GROUP, API_VERSION, EnvironmentObject, RESOURCE_KINDS } from "./types";

/**
 * {@link EnvironmentStore} over the custom objects API of the shared client
 * (stacks/automation/cluster.ts: the kubeconfig of KUBECONFIG, else ~/.kube/config, else the
 * in-cluster ServiceAccount, and a deadline on every call).
 */

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const environments = { group: API_GROUP, version: API_VERSION, plural: RESOURCE_KINDS.environment.plural };
const projects = { group: API_GROUP, version: API_VERSION, plural: RESOURCE_KINDS.project.plural };
/** Delay before an informer whose watch failed lists and watches again. */
const REWATCH_MS = 2_000;

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
        return await clusterCall(what, fn);
    } catch (err) {
        if (err instanceof ClusterError) throw new ResourceError(err.status, err.message);
        throw err;
    }
}

async function orUndefined<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
        return await call(what, fn);
    } catch (err) {
        if (err instanceof ResourceError && err.status === 404) return undefined;
        throw err;
    }
}

/** The API server of the current kubeconfig. */
export class KubeEnvironmentStore implements EnvironmentStore {
    private readonly api = kubeConfig().makeApiClient(CustomObjectsApi);

    get(namespace: string, name: string): Promise<EnvironmentObject | undefined> {
        return orUndefined(`get Environment ${namespace}/${name}`, () => this.api.getNamespacedCustomObject({ ...environments, namespace, name }));
    }

    async list(namespace: string): Promise<EnvironmentObject[]> {
        const list = await call(`list Environments in ${namespace}`, () => this.api.listNamespacedCustomObject({ ...environments, namespace })) as { items?: EnvironmentObject[] };
        return list.items ?? [];
    }

    create(namespace: string, object: EnvironmentObject): Promise<EnvironmentObject> {
        return call(`create Environment ${namespace}/${object.metadata.name}`, () => this.api.createNamespacedCustomObject({ ...environments, namespace, body: object }));
    }

    patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<EnvironmentObject> {
        return call(`patch Environment ${namespace}/${name}`, () => this.api.patchNamespacedCustomObject({ ...environments, namespace, name, body: patch }, MERGE_PATCH));
    }

    async delete(namespace: string, name: string, preconditions?: DeletePreconditions): Promise<boolean> {
        const body = preconditions === undefined ? undefined : { preconditions };
        const deleted = await orUndefined(`delete Environment ${namespace}/${name}`, () => this.api.deleteNamespacedCustomObject({ ...environments, namespace, name, body }));
        return deleted !== undefined;
    }

    /**
     * Calls `changed` on every event of the one Environment `name` (a watch with a field
     * selector), until the returned function stops it. A watch that ends or fails calls
     * `changed(true)`: the waiter reads again and reads every second from then on.
     */
    async watch(namespace: string, name: string, changed: (ended: boolean) => void): Promise<() => void> {
        const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${RESOURCE_KINDS.environment.plural}`;
        const controller = await new Watch(kubeConfig()).watch(path, { fieldSelector: `metadata.name=${name}` }, () => changed(false), () => changed(true));
        return () => controller.abort();
    }

    /** An informer on the namespace's Environments: lists, then watches; after an error it starts again (a fresh list). */
    async watchAll(namespace: string, handlers: EnvironmentHandlers): Promise<() => void> {
        const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/${RESOURCE_KINDS.environment.plural}`;
        const list = () => this.api.listNamespacedCustomObject({ ...environments, namespace });
        const informer = makeInformer<KubernetesObject>(kubeConfig(), path, list);
        const changed = (object: KubernetesObject) => handlers.changed(object as EnvironmentObject);
        informer.on("add", changed);
        informer.on("update", changed);
        informer.on("delete", (object) => handlers.deleted(object as EnvironmentObject));
        let stopped = false;
        informer.on("error", () => {
            setTimeout(() => {
                if (!stopped) informer.start().catch(() => undefined);
            }, REWATCH_MS).unref();
        });
        try {
            await call(`watch Environments in ${namespace}`, () => informer.start());
        } catch (err) {
            // Refused (no list or watch permission) or unreachable: no retries behind the caller's back.
            stopped = true;
            await informer.stop().catch(() => undefined);
            throw err;
        }
        return () => {
            stopped = true;
            void informer.stop();
        };
    }

    async projectExists(namespace: string, name: string): Promise<boolean> {
        return (await orUndefined(`get Project ${namespace}/${name}`, () => this.api.getNamespacedCustomObject({ ...projects, namespace, name }))) !== undefined;
    }
}

/** The Environment resources of `namespace` on the cluster of the current kubeconfig. */
export function clusterResources(namespace: string): EnvironmentResources {
    return new EnvironmentResources(new KubeEnvironmentStore(), namespace);
}
