import { readFileSync } from "fs";
import { PassThrough, Writable } from "stream";
import * as k8s from "@kubernetes/client-node";
import { OWNER_SERVICE_ACCOUNT } from "../../components/naming";
import { appsApi, clusterCall, ClusterError, coreApi, kubeConfig } from "../automation/cluster";
import { ApiError } from "./errors";

/**
 * Reads of a running environment through `@kubernetes/client-node` against KUBECONFIG (no
 * `kubectl` process per request): pods with readiness, recent events, logs (a tail, or a stream
 * that follows), exec with an argv over the API server's websocket protocol (never a shell
 * string), and a namespace-scoped kubeconfig with a TokenRequest token. Every call is bounded in
 * time and output.
 */

/** Output cap of logs and exec, bytes. */
export const MAX_OUTPUT_BYTES = 256 * 1024;

/** Deadline of one read, milliseconds. */
const READ_TIMEOUT_MS = 20_000;

/** A pod of an environment. */
export interface PodInfo {
    name: string;
    phase?: string;
    ready: boolean;
    restarts: number;
    node?: string;
    /** When the pod object was created (ISO time). */
    createdAt?: string;
    /** When the kubelet (kwok on the local cluster) started it (ISO time); its age. */
    startedAt?: string;
}

/** A recent event in an environment's namespace. */
export interface EventInfo {
    type?: string;
    reason?: string;
    object: string;
    message?: string;
    time?: string;
}

/** Result of a command run in a pod. */
export interface ExecResult {
    exitCode: number;
    stdout: string;
    stderr: string;
    truncated: boolean;
    timedOut: boolean;
}

/** A cluster failure as the API reports it: 404 as `not-found`, anything else as `upstream`. */
function apiErrorOf(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    const message = ((err as Error)?.message ?? String(err)).split("\n")[0];
    return err instanceof ClusterError && err.status === 404 ? new ApiError("not-found", message) : new ApiError("upstream", `cluster: ${message}`);
}

async function read<T>(what: string, call: () => Promise<T>, timeoutMs = READ_TIMEOUT_MS): Promise<T> {
    try {
        return await clusterCall(what, call, timeoutMs);
    } catch (err) {
        throw apiErrorOf(err);
    }
}

/** Pods of a namespace with readiness. */
export async function listPods(namespace: string): Promise<PodInfo[]> {
    const list = await read(`list pods in ${namespace}`, () => coreApi().listNamespacedPod({ namespace }));
    return list.items.map(podInfo);
}

/** The PodInfo of a pod object. */
export function podInfo(pod: k8s.V1Pod): PodInfo {
    const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    const restarts = (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
    const info: PodInfo = { name: pod.metadata?.name ?? "", phase: pod.status?.phase, ready, restarts, node: pod.spec?.nodeName };
    const createdAt = iso(pod.metadata?.creationTimestamp);
    const startedAt = iso(pod.status?.startTime);
    if (createdAt !== undefined) info.createdAt = createdAt;
    if (startedAt !== undefined) info.startedAt = startedAt;
    return info;
}

/** ISO text of a time the client hands back as a Date (or, from some servers, a string). */
function iso(value: Date | string | undefined): string | undefined {
    if (value === undefined || value === null) return undefined;
    return value instanceof Date ? value.toISOString() : String(value);
}

/** The `limit` most recent events of a namespace, newest last. */
export async function recentEvents(namespace: string, limit = 20): Promise<EventInfo[]> {
    const list = await read(`list events in ${namespace}`, () => coreApi().listNamespacedEvent({ namespace }));
    return list.items
        .map((e) => ({
            type: e.type,
            reason: e.reason,
            object: `${e.involvedObject?.kind ?? "?"}/${e.involvedObject?.name ?? "?"}`,
            message: e.message?.slice(0, 500),
            time: iso(e.lastTimestamp) ?? iso(e.eventTime) ?? iso(e.metadata?.creationTimestamp),
        }))
        .sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""))
        .slice(-limit);
}

/** Kubernetes object names: DNS-1123 subdomains. */
export const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Where logs come from: a pod, or a deployment (one of its pods, ready ones first). */
export interface LogTarget {
    pod?: string;
    deployment?: string;
    container?: string;
}

/** The pod and container a log target names. */
async function resolveTarget(namespace: string, target: LogTarget): Promise<{ pod: string; container: string }> {
    let pod: k8s.V1Pod;
    if (target.pod !== undefined) {
        const name = target.pod;
        pod = await read(`read pod ${name}`, () => coreApi().readNamespacedPod({ name, namespace }));
    } else if (target.deployment !== undefined) {
        const name = target.deployment;
        const deployment = await read(`read deployment ${name}`, () => appsApi().readNamespacedDeployment({ name, namespace }));
        const labels = deployment.spec?.selector?.matchLabels ?? {};
        const labelSelector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
        const pods = (await read(`list pods of deployment ${name}`, () => coreApi().listNamespacedPod({ namespace, labelSelector }))).items;
        const chosen = pods.find((p) => podInfo(p).ready) ?? pods[0];
        if (chosen === undefined) throw new ApiError("not-found", `deployment ${name} has no pods`);
        pod = chosen;
    } else {
        throw new ApiError("invalid", "pod or deployment: one is required");
    }
    const containers = (pod.spec?.containers ?? []).map((c) => c.name);
    const container = target.container ?? containers[0];
    if (container === undefined || !containers.includes(container)) {
        throw new ApiError("not-found", `container ${target.container ?? "?"} not found in pod ${pod.metadata?.name}; it has: ${containers.join(", ")}`);
    }
    return { pod: pod.metadata?.name ?? "", container };
}

/** Options of a log stream. */
export interface LogStreamOptions {
    /** Keep the stream open and send new lines as they are written. */
    follow: boolean;
    /** Lines from the end to start with. */
    lines: number;
    /** Bytes the API server sends at most. */
    maxBytes: number;
}

/**
 * Streams a pod's or deployment's logs into `out` (which ends when the logs do; with `follow`,
 * when the container stops or `stop()` is called). Resolves once the stream has started.
 */
export async function streamLogs(namespace: string, target: LogTarget, options: LogStreamOptions, out: Writable): Promise<{ pod: string; container: string; stop: () => void }> {
    const { pod, container } = await resolveTarget(namespace, target);
    endOnSourceError(out);
    const controller = await read(`logs of ${pod}`, () =>
        new k8s.Log(kubeConfig()).log(namespace, pod, container, out, { follow: options.follow, tailLines: options.lines, limitBytes: options.maxBytes }));
    return { pod, container, stop: () => controller.abort() };
}

/**
 * The client library pipes the log response into `out` with `pipe()`, which does not pass on the
 * source's errors; `stop()` aborts the request, the source then emits an AbortError, and with no
 * listener that is an uncaught exception that ends the server (a browser leaving a followed log
 * did exactly that). The source's error ends `out` instead.
 */
export function endOnSourceError(out: Writable): void {
    out.once("pipe", (source: NodeJS.ReadableStream) => source.on("error", () => out.end()));
}

/** A Writable that keeps at most `maxBytes` bytes and notes whether more came. */
class CappedBuffer extends Writable {
    private readonly chunks: Buffer[] = [];
    private size = 0;
    truncated = false;

    constructor(private readonly maxBytes: number) {
        super();
    }

    override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
        const room = this.maxBytes - this.size;
        if (chunk.length > room) this.truncated = true;
        if (room > 0) {
            const kept = chunk.subarray(0, room);
            this.chunks.push(kept);
            this.size += kept.length;
        }
        done();
    }

    get text(): string {
        return Buffer.concat(this.chunks).toString("utf8");
    }
}

/** The last `lines` lines (at most `maxBytes`) of a pod's or deployment's logs. */
export async function tailLogs(namespace: string, target: LogTarget, lines: number, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
    const buffer = new CappedBuffer(maxBytes);
    const pipe = new PassThrough();
    pipe.pipe(buffer);
    const { stop } = await streamLogs(namespace, target, { follow: false, lines, maxBytes }, pipe);
    // The stream ends with the logs; a stalled one is cut at the deadline with what came so far.
    let timer: NodeJS.Timeout | undefined;
    const complete = await new Promise<boolean>((resolve) => {
        buffer.once("finish", () => resolve(true));
        timer = setTimeout(() => {
            stop();
            resolve(false);
        }, READ_TIMEOUT_MS);
    });
    clearTimeout(timer);
    return { text: buffer.text, truncated: !complete || buffer.truncated || Buffer.byteLength(buffer.text) >= maxBytes };
}

/** The exit code in an exec's final Status: 0 on Success, the `ExitCode` cause otherwise. */
export function exitCodeOf(status: k8s.V1Status): number {
    if (status.status === "Success") return 0;
    const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
    const code = Number(cause?.message);
    return Number.isInteger(code) ? code : 1;
}

/**
 * Runs `argv` in a pod (no shell) over the exec websocket, bounded by `timeoutMs` and by
 * `maxBytes` per stream. On timeout the socket is closed and the result says `timedOut`.
 */
export async function execInPod(namespace: string, pod: string, argv: readonly string[], options: { container?: string; timeoutMs: number; maxBytes: number }): Promise<ExecResult> {
    const { container } = await resolveTarget(namespace, { pod, container: options.container });
    const stdout = new CappedBuffer(options.maxBytes);
    const stderr = new CappedBuffer(options.maxBytes);
    return new Promise<ExecResult>((resolve, reject) => {
        let exitCode: number | undefined;
        let socket: { close(): void } | undefined;
        let settled = false;
        const finish = (timedOut: boolean) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ exitCode: exitCode ?? (timedOut ? 124 : 1), stdout: stdout.text, stderr: stderr.text, truncated: stdout.truncated || stderr.truncated, timedOut });
        };
        const timer = setTimeout(() => {
            socket?.close();
            finish(true);
        }, options.timeoutMs);
        new k8s.Exec(kubeConfig())
            .exec(namespace, pod, container, [...argv], stdout, stderr, null, false, (status) => {
                exitCode = exitCodeOf(status);
            })
            .then((ws) => {
                socket = ws;
                ws.on("close", () => finish(false));
            }, (err: unknown) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                reject(apiErrorOf(new ClusterError((err as { code?: number }).code ?? (err as { statusCode?: number }).statusCode, `exec in ${pod}: ${(err as Error).message}`)));
            });
    });
}

/**
 * A kubeconfig scoped to one namespace: the current cluster's server and CA, and a short-lived
 * token of the namespace's owner service account (a TokenRequest; only the namespace's owner
 * Role binds that account).
 */
export async function namespaceKubeconfig(namespace: string, ttlSeconds = 3600): Promise<string> {
    const current = kubeConfig().getCurrentCluster();
    if (current === null) throw new ApiError("upstream", "cluster: no current cluster in the kubeconfig");
    const request = await read(`token of ${OWNER_SERVICE_ACCOUNT} in ${namespace}`, () =>
        coreApi().createNamespacedServiceAccountToken({ name: OWNER_SERVICE_ACCOUNT, namespace, body: { spec: { audiences: [], expirationSeconds: ttlSeconds } } }));
    const token = request.status?.token;
    if (token === undefined || token === "") throw new ApiError("upstream", "cluster: the TokenRequest returned no token");
    const cluster: Record<string, string> = { server: current.server };
    // A CA given as a file is inlined: the kubeconfig is handed to someone without that file.
    const ca = current.caData ?? (current.caFile !== undefined ? readFileSync(current.caFile).toString("base64") : undefined);
    if (ca !== undefined) cluster["certificate-authority-data"] = ca;
    const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "catalyst", cluster }],
        users: [{ name: `${namespace}-owner`, user: { token } }],
        contexts: [{ name: namespace, context: { cluster: "catalyst", user: `${namespace}-owner`, namespace } }],
        "current-context": namespace,
    };
    return JSON.stringify(config, null, 2);
}
