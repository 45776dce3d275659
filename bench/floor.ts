import { execFile } from "child_process";
import { promisify } from "util";

const run = promisify(execFile);

/** A Kubernetes object as found in a stack's state. */
export type KubeObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Secret values of `pulumi stack export --show-secrets` are `{sig, plaintext: "<json>"}`: unwrap them. */
function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG] !== undefined && typeof record.plaintext === "string") {
            return unwrapSecrets(JSON.parse(record.plaintext));
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

const SERVER_METADATA = ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink"];

/** A live object from the state made fit for `kubectl apply`: no status, no server-set metadata. */
export function stripServerFields(live: Record<string, unknown>): KubeObject {
    // `__inputs`, `__fieldManager`, `__initialApiVersion`: the provider's bookkeeping in the state.
    const object = Object.fromEntries(Object.entries(live).filter(([key]) => !key.startsWith("__"))) as KubeObject;
    delete object.status;
    const metadata = { ...object.metadata };
    for (const field of SERVER_METADATA) delete metadata[field];
    const annotations = { ...(metadata.annotations as Record<string, string> | undefined) };
    delete annotations["kubectl.kubernetes.io/last-applied-configuration"];
    // Written by the Deployment controller, which owns it: applying it back is a field conflict
    // (the Pulumi floor's second up failed on it; kubectl's --force-conflicts took it over).
    delete annotations["deployment.kubernetes.io/revision"];
    metadata.annotations = annotations;
    object.metadata = metadata;
    if (object.kind === "Service") {
        // Allocated by the API server; applying them back would pin them.
        const spec = { ...(object.spec as Record<string, unknown>) };
        delete spec.clusterIP;
        delete spec.clusterIPs;
        object.spec = spec;
    }
    if (object.kind === "PersistentVolumeClaim") {
        const spec = { ...(object.spec as Record<string, unknown>) };
        delete spec.volumeName;
        object.spec = spec;
    }
    return object;
}

const KIND_ORDER = ["Namespace", "ResourceQuota", "LimitRange", "ServiceAccount", "Secret", "ConfigMap", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];

/**
 * Every Kubernetes object a stack created, from `pulumi stack export --show-secrets`, in an order
 * `kubectl apply` accepts (namespace and policy objects first). Components, providers and
 * dynamic resources have no object and are skipped.
 */
export async function stackObjects(stack: string, cwd: string): Promise<KubeObject[]> {
    const { stdout } = await run("pulumi", ["stack", "export", "--show-secrets", "--stack", stack], { cwd, maxBuffer: 256 * 1024 * 1024 });
    const deployment = JSON.parse(stdout) as { deployment: { resources?: { type: string; custom?: boolean; outputs?: Record<string, unknown> }[] } };
    const objects = (deployment.deployment.resources ?? [])
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh") && !r.type.startsWith("pulumi:providers"))
        .filter((r) => r.outputs?.apiVersion !== undefined && r.outputs?.kind !== undefined)
        .map((r) => stripServerFields(unwrapSecrets(r.outputs) as Record<string, unknown>));
    const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
    return objects.sort((a, b) => rank(a.kind) - rank(b.kind));
}

async function kubectl(args: string[], input?: string): Promise<string> {
    const child = run("kubectl", args, { maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
        child.child.stdin?.end(input);
    }
    return (await child).stdout;
}

/** What the floor waits for, per namespace: Deployments Available, PVCs Bound. */
function waits(objects: KubeObject[]): string[][] {
    const commands: string[][] = [];
    for (const object of objects) {
        const namespace = object.metadata.namespace as string | undefined;
        const name = object.metadata.name as string;
        if (object.kind === "Deployment" && namespace) {
            commands.push(["wait", "--for=condition=Available", "--timeout=10m", "-n", namespace, `deployment/${name}`]);
        } else if (object.kind === "PersistentVolumeClaim" && namespace) {
            commands.push(["wait", "--for=jsonpath={.status.phase}=Bound", "--timeout=10m", "-n", namespace, `pvc/${name}`]);
        }
    }
    return commands;
}

/** `kubectl apply --server-side` of the objects, then waits until they are ready; returns ms. */
export async function floorApply(objects: KubeObject[]): Promise<number> {
    const started = performance.now();
    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
    await kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=catalyst-bench", "-f", "-"], list);
    await Promise.all(waits(objects).map((args) => kubectl(args)));
    return performance.now() - started;
}

/** `kubectl delete --wait` of the objects (namespaces last, as their deletion waits for content); returns ms. */
export async function floorDelete(objects: KubeObject[]): Promise<number> {
    const started = performance.now();
    const reversed = [...objects].reverse();
    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: reversed });
    await kubectl(["delete", "--wait=true", "--ignore-not-found", "--timeout=10m", "-f", "-"], list);
    return performance.now() - started;
}
