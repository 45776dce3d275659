import { clusterCall, ClusterError, coreApi } from "./cluster";

/**
 * Where gc keeps the request counter it last saw for a preview (idle.ts): a ConfigMap of the
 * preview's namespace, so the sample survives between gc runs on any machine (a CI runner starts
 * empty) and goes with the namespace. The stack does not manage it, so it never shows as drift.
 * The environment's owners could edit it, which can only keep their own preview awake.
 */

/** The ConfigMap's name. */
export const ACTIVITY_CONFIGMAP = "catalyst-activity";
/** Its key: `<count>@<ISO time>`. */
export const ACTIVITY_KEY = "requests";

/** The stored sample of a namespace, undefined when there is none yet. */
export async function readActivity(namespace: string): Promise<string | undefined> {
    try {
        const map = await clusterCall(`read ${namespace}/${ACTIVITY_CONFIGMAP}`, () => coreApi().readNamespacedConfigMap({ name: ACTIVITY_CONFIGMAP, namespace }));
        return map.data?.[ACTIVITY_KEY];
    } catch (err) {
        if (err instanceof ClusterError && err.status === 404) return undefined;
        throw err;
    }
}

/** Stores a namespace's sample (creates the ConfigMap the first time). */
export async function writeActivity(namespace: string, value: string): Promise<void> {
    const body = { metadata: { name: ACTIVITY_CONFIGMAP, namespace, labels: { "app.kubernetes.io/managed-by": "catalyst-gc" } }, data: { [ACTIVITY_KEY]: value } };
    try {
        await clusterCall(`replace ${namespace}/${ACTIVITY_CONFIGMAP}`, () => coreApi().replaceNamespacedConfigMap({ name: ACTIVITY_CONFIGMAP, namespace, body }));
    } catch (err) {
        if (!(err instanceof ClusterError && err.status === 404)) throw err;
        await clusterCall(`create ${namespace}/${ACTIVITY_CONFIGMAP}`, () => coreApi().createNamespacedConfigMap({ namespace, body }));
    }
}

/** The ingress controller's metrics page (Prometheus text), with a deadline. */
export async function fetchMetrics(url: string, timeoutMs = 15_000): Promise<string> {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.text();
}
