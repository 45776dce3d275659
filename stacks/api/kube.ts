import { execFile } from "child_process";
import { ApiError } from "./errors";

/**
 * Reads of a running environment through `kubectl` (on PATH, against KUBECONFIG): pods with
 * readiness, recent events, log tails, exec with an argv (never a shell string), and a
 * namespace-scoped kubeconfig. Every call is bounded in time and output.
 */

/** Output cap of any kubectl call, bytes. */
export const MAX_OUTPUT_BYTES = 256 * 1024;

/** A pod of an environment. */
export interface PodInfo {
    name: string;
    phase?: string;
    ready: boolean;
    restarts: number;
    node?: string;
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

/** Runs kubectl; resolves with stdout/stderr/code, output cut at maxBytes. */
export function runKubectl(args: string[], options: { timeoutMs?: number; maxBytes?: number } = {}): Promise<ExecResult> {
    const maxBytes = options.maxBytes ?? MAX_OUTPUT_BYTES;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve) => {
        const child = execFile("kubectl", args, { env: process.env, maxBuffer: maxBytes, timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
            const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
            const truncated = e?.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER";
            const timedOut = e?.killed === true && !truncated;
            const exitCode = e === null ? 0 : typeof e.code === "number" ? e.code : child.exitCode ?? 1;
            resolve({ exitCode, stdout: cut(stdout, maxBytes), stderr: cut(stderr, maxBytes), truncated, timedOut });
        });
    });
}

function cut(text: string, maxBytes: number): string {
    return Buffer.byteLength(text) > maxBytes ? Buffer.from(text).subarray(0, maxBytes).toString("utf8") : text;
}

async function kubectlJson<T>(args: string[]): Promise<T> {
    const out = await runKubectl([...args, "-o", "json", "--request-timeout=20s"], { maxBytes: 8 * 1024 * 1024 });
    if (out.exitCode !== 0) throw notFoundOr(out.stderr);
    return JSON.parse(out.stdout) as T;
}

interface PodJson {
    metadata: { name: string; creationTimestamp?: string };
    spec?: { nodeName?: string };
    status?: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount?: number }[] };
}

/** Pods of a namespace with readiness. */
export async function listPods(namespace: string): Promise<PodInfo[]> {
    const list = await kubectlJson<{ items: PodJson[] }>(["get", "pods", "-n", namespace]);
    return list.items.map(podInfo);
}

/** The PodInfo of a pod object. */
export function podInfo(pod: PodJson): PodInfo {
    const ready = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    const restarts = (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);
    return { name: pod.metadata.name, phase: pod.status?.phase, ready, restarts, node: pod.spec?.nodeName };
}

interface EventJson {
    type?: string;
    reason?: string;
    message?: string;
    involvedObject?: { kind?: string; name?: string };
    lastTimestamp?: string;
    eventTime?: string;
    metadata?: { creationTimestamp?: string };
}

/** The `limit` most recent events of a namespace, newest last. */
export async function recentEvents(namespace: string, limit = 20): Promise<EventInfo[]> {
    const list = await kubectlJson<{ items: EventJson[] }>(["get", "events", "-n", namespace]);
    return list.items
        .map((e) => ({
            type: e.type,
            reason: e.reason,
            object: `${e.involvedObject?.kind ?? "?"}/${e.involvedObject?.name ?? "?"}`,
            message: e.message?.slice(0, 500),
            time: e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp,
        }))
        .sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""))
        .slice(-limit);
}

/** Kubernetes object names: DNS-1123 subdomains. */
export const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Where logs come from: a pod, or a deployment (kubectl picks one of its pods). */
export interface LogTarget {
    pod?: string;
    deployment?: string;
    container?: string;
}

function targetRef(target: LogTarget): string {
    if (target.pod !== undefined) return target.pod;
    if (target.deployment !== undefined) return `deployment/${target.deployment}`;
    throw new ApiError("invalid", "pod or deployment: one is required");
}

/** The last `lines` lines (at most `maxBytes`) of a pod's or deployment's logs. */
export async function tailLogs(namespace: string, target: LogTarget, lines: number, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
    const args = ["logs", "-n", namespace, targetRef(target), `--tail=${lines}`, `--limit-bytes=${maxBytes}`, "--request-timeout=20s"];
    if (target.container !== undefined) args.push("-c", target.container);
    const out = await runKubectl(args, { maxBytes, timeoutMs: 30_000 });
    if (out.exitCode !== 0) throw notFoundOr(out.stderr);
    return { text: out.stdout, truncated: out.truncated || Buffer.byteLength(out.stdout) >= maxBytes };
}

/** Runs `argv` in a pod (no shell), bounded by `timeoutMs` and `maxBytes` of output. */
export async function execInPod(namespace: string, pod: string, argv: readonly string[], options: { container?: string; timeoutMs: number; maxBytes: number }): Promise<ExecResult> {
    const args = ["exec", "-n", namespace, pod, `--request-timeout=${Math.ceil(options.timeoutMs / 1000)}s`];
    if (options.container !== undefined) args.push("-c", options.container);
    const out = await runKubectl([...args, "--", ...argv], { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes });
    if (out.exitCode !== 0 && /NotFound|not found/.test(out.stderr) && out.stdout === "") throw notFoundOr(out.stderr);
    return out;
}

/** kubectl's first error line as `not-found`, else `upstream` (the cluster failed the request). */
function notFoundOr(stderr: string): ApiError {
    const first = stderr.trim().split("\n")[0] ?? "";
    const line = first === "" ? "kubectl failed" : first;
    return /NotFound|not found/.test(line) ? new ApiError("not-found", line) : new ApiError("upstream", `cluster: ${line}`);
}

/** Service account behind the owner kubeconfig (components/environment/access.ts). */
export const OWNER_SERVICE_ACCOUNT = "owner-kubeconfig";

/**
 * A kubeconfig scoped to one namespace: the current cluster's server and CA, and a short-lived
 * token of the namespace's owner service account (which only the namespace's owner Role binds).
 */
export async function namespaceKubeconfig(namespace: string, ttlSeconds = 3600): Promise<string> {
    const view = await kubectlJson<{ clusters?: { cluster: { server: string; "certificate-authority-data"?: string } }[] }>(["config", "view", "--minify", "--raw"]);
    const cluster = view.clusters?.[0]?.cluster;
    if (cluster === undefined) throw new Error("kubectl: no current cluster");
    const token = await runKubectl(["create", "token", OWNER_SERVICE_ACCOUNT, "-n", namespace, `--duration=${ttlSeconds}s`, "--request-timeout=20s"]);
    if (token.exitCode !== 0) throw notFoundOr(token.stderr);
    const config = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "catalyst", cluster }],
        users: [{ name: `${namespace}-owner`, user: { token: token.stdout.trim() } }],
        contexts: [{ name: namespace, context: { cluster: "catalyst", user: `${namespace}-owner`, namespace } }],
        "current-context": namespace,
    };
    return JSON.stringify(config, null, 2);
}
