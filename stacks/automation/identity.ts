import * as path from "path";
import { kubectl } from "./cluster";
import { REPO_ROOT } from "./workspace";

/**
 * Which cluster a stack's state describes. The UID of the `kube-system` namespace lives exactly
 * as long as the cluster (a recreated cluster, or another cluster, has another one), so each stack
 * records it in a tag after an operation and compares it before the next one. A mismatch means
 * the state describes objects this cluster does not hold (`npm run cluster:down` then `up`, or a
 * KUBECONFIG pointing elsewhere): the local default converges by refreshing the state from the
 * cluster; any other cluster is refused unless the caller asks to adopt it.
 */

/** The stack tag holding the cluster's identity. */
export const CLUSTER_TAG = "catalyst:cluster";

/** Set to 1 to refresh a stack's state from a cluster other than the one it was built on. */
export const ADOPT_CLUSTER_VARIABLE = "CATALYST_ADOPT_CLUSTER";

/** The UID of the cluster's kube-system namespace. */
export async function readClusterIdentity(run: (args: string[]) => Promise<string> = kubectl): Promise<string> {
    const uid = (await run(["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"])).trim();
    if (uid === "") throw new Error("the cluster's kube-system namespace has no uid");
    return uid;
}

/** True when KUBECONFIG is the local cluster's (tools/cluster.sh): the embedded default. */
export function isLocalCluster(env: NodeJS.ProcessEnv = process.env): boolean {
    return env.KUBECONFIG !== undefined && path.resolve(env.KUBECONFIG) === path.join(REPO_ROOT, ".catalyst", "kubeconfig");
}

/** What to do before an operation. */
export type ClusterCheck = { action: "proceed" } | { action: "refresh"; message: string };

/** Thrown when a stack's state describes another cluster and nobody asked to adopt this one. */
export class ClusterMismatchError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ClusterMismatchError";
    }
}

/**
 * Compares the recorded identity with the cluster's. Nothing recorded (a new stack, or one from
 * before this check) or an empty state: proceed. A mismatch: refresh on the local default or when
 * adopting, else throw {@link ClusterMismatchError} with the one line to show.
 */
export function checkCluster(stack: string, recorded: string | undefined, current: string, options: { hasResources: boolean; local: boolean; adopt: boolean }): ClusterCheck {
    if (recorded === undefined || recorded === current || !options.hasResources) {
        return { action: "proceed" };
    }
    const what = `${stack}: its state describes another cluster (kube-system uid ${recorded}; this cluster's is ${current})`;
    if (options.local || options.adopt) {
        return { action: "refresh", message: `${what}; refreshing the state from this cluster` };
    }
    throw new ClusterMismatchError(
        `${what}; point KUBECONFIG at the cluster it was built on, or run again with ${ADOPT_CLUSTER_VARIABLE}=1 to refresh the state from this one`,
    );
}
