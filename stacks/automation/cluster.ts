import * as k8s from "@kubernetes/client-node";
import { NamespaceInfo, PREVIEW_NAMESPACE_SELECTOR } from "./gc";

/**
 * The direct reads and writes of the cluster the layer and its front ends make, through
 * `@kubernetes/client-node` against KUBECONFIG (no `kubectl` process per call): listing preview
 * namespaces for gc, deleting an orphan namespace when explicitly asked, and the typed clients
 * the HTTP API and the MCP server read pods, events and logs with. Stacks themselves are only
 * ever changed through Pulumi.
 */

/** Deadline of one cluster request, unless the caller gives another. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** A failed cluster request: `status` is the API server's HTTP status, when it answered. */
export class ClusterError extends Error {
    constructor(readonly status: number | undefined, message: string) {
        super(message);
        this.name = "ClusterError";
    }
}

let loaded: { source: string | undefined; config: k8s.KubeConfig } | undefined;

/** The kubeconfig of KUBECONFIG (else ~/.kube/config, else in-cluster), loaded once per value. */
export function kubeConfig(): k8s.KubeConfig {
    const source = process.env.KUBECONFIG;
    if (loaded === undefined || loaded.source !== source) {
        const config = new k8s.KubeConfig();
        config.loadFromDefault();
        if (config.getCurrentCluster() === null) throw new ClusterError(undefined, "no current cluster in the kubeconfig (KUBECONFIG)");
        loaded = { source, config };
    }
    return loaded.config;
}

/** The core/v1 client of the current kubeconfig. */
export function coreApi(): k8s.CoreV1Api {
    return kubeConfig().makeApiClient(k8s.CoreV1Api);
}

/** The apps/v1 client of the current kubeconfig. */
export function appsApi(): k8s.AppsV1Api {
    return kubeConfig().makeApiClient(k8s.AppsV1Api);
}

/** The message of the API server's Status body, else the error's first line. */
function messageOf(err: unknown): string {
    if (err instanceof k8s.ApiException) {
        const body: unknown = err.body;
        try {
            const status = (typeof body === "string" ? JSON.parse(body) : body) as { message?: unknown };
            if (typeof status?.message === "string" && status.message !== "") return status.message;
        } catch {
            // Not a Status object: fall through to the HTTP code.
        }
        return `HTTP ${err.code}`;
    }
    return ((err as Error)?.message ?? String(err)).split("\n")[0];
}

/**
 * Runs one cluster request with a deadline; rejects with a {@link ClusterError} naming `what`.
 * (The generated clients take no timeout of their own: a hung API server must not hang a caller.)
 */
export async function clusterCall<T>(what: string, call: () => Promise<T>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ClusterError(undefined, `${what}: no answer from the cluster within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
        timer.unref();
    });
    try {
        return await Promise.race([call(), deadline]);
    } catch (err) {
        if (err instanceof ClusterError) throw err;
        throw new ClusterError(err instanceof k8s.ApiException ? err.code : undefined, `${what}: ${messageOf(err)}`);
    } finally {
        clearTimeout(timer);
    }
}

/** Namespaces labelled as previews, from the cluster of KUBECONFIG. */
export async function listPreviewNamespaces(): Promise<NamespaceInfo[]> {
    const list = await clusterCall("list preview namespaces", () => coreApi().listNamespace({ labelSelector: PREVIEW_NAMESPACE_SELECTOR }));
    return list.items.map((item) => ({
        name: item.metadata?.name ?? "",
        labels: item.metadata?.labels ?? {},
        terminating: item.metadata?.deletionTimestamp !== undefined,
    }));
}

/** Starts deleting a namespace (the API server finishes it in the background). */
export async function deleteNamespace(name: string): Promise<void> {
    await clusterCall(`delete namespace ${name}`, () => coreApi().deleteNamespace({ name }));
}
