import { ChildProcess, execFile, spawn } from "child_process";
import { availableParallelism } from "os";
import path from "path";
import { promisify } from "util";
import { Automation, OperationResult } from "../stacks/automation";
import { API_GROUP, API_GROUP_VERSION, RESOURCE_KINDS } from "../stacks/resources/types";
import { RssPeaks, RssSampler, treeCpuMs, treeRss } from "./sampler";
import { summarize, Summary } from "./stats";

/**
 * The controller section of `npm run bench`: `kubectl apply` of N Environments to all Ready
 * through `catalyst controller` replicas run as local processes (no container runs on the local
 * cluster), against the same N previews run directly through the library in the same run, with
 * wall time, CPU time and RSS of both. The replicas share this run's state backend and work root
 * (one machine); each takes work through its Environment Leases as in a cluster.
 */

const execFileAsync = promisify(execFile);
const RESOURCE = `${RESOURCE_KINDS.environment.plural}.${API_GROUP}`;

/** What one way of running N previews cost. */
export interface Measured {
    n: number;
    /** From the first call (direct) or the `kubectl apply` (controller) to the last preview Ready. */
    wallMs: number;
    /** From the start to each preview's Ready (controller: the time of its Ready condition). */
    perPreview: Summary;
    /** CPU (user + system) of the processes doing the work, and of everything they started. */
    cpuMs: number;
    /** Peak RSS: `selfBytes` of the orchestrator(s) summed, `treeBytes` with workers, pulumi and plugins. */
    memory: RssPeaks;
    /** Deleting them again (destroy, or `kubectl delete` until the finalizers are gone). */
    downMs: number;
}

/** One controller measurement. */
export interface ControllerMeasured extends Measured {
    replicas: number;
    /** RSS of each replica process alone once its watches are synced, before any work. */
    idleRssBytes: number[];
    /** The largest RSS any one replica process reached (without its workers). */
    replicaPeakBytes: number;
}

/** Results of the controller section. */
export interface ControllerResults {
    settings: { counts: number[]; replicas: number[]; concurrencyPerReplica: number; backend: string; namespace: string };
    direct: Measured[];
    controller: ControllerMeasured[];
    /** Controller over direct, same N: wall, CPU and tree RSS. */
    ratios: Record<string, number>;
}

/** Settings of {@link benchController}. */
export interface ControllerBenchSettings {
    automation: Automation;
    counts: number[];
    replicas: number[];
    prBase: number;
    namespace: string;
    log: (line: string) => void;
}

async function kubectl(args: string[], input?: string): Promise<string> {
    const child = execFileAsync("kubectl", args, { maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
        child.child.stdin?.end(input);
    }
    return (await child).stdout;
}

function succeeded(result: OperationResult): OperationResult {
    if (result.status !== "succeeded") throw new Error(`${result.action} ${result.stack} ${result.status}: ${result.error ?? "no error line"}`);
    return result;
}

/** N previews at once through the library, in this process: the direct-mode baseline. */
async function direct(automation: Automation, prs: number[]): Promise<Measured> {
    const sampler = new RssSampler();
    const cpu = treeCpuMs(process.pid);
    const started = Date.now();
    const ends = await Promise.all(prs.map(async (pr) => {
        succeeded(await automation.upPreview({ pr, branch: "bench/controller" }));
        return Date.now() - started;
    }));
    const wallMs = Date.now() - started;
    const cpuMs = treeCpuMs(process.pid) - cpu;
    const memory = sampler.takePeaks();
    sampler.stop();
    const downStarted = Date.now();
    await Promise.all(prs.map(async (pr) => succeeded(await automation.destroyPreview(pr))));
    return { n: prs.length, wallMs, perPreview: summarize(ends), cpuMs, memory, downMs: Date.now() - downStarted };
}

interface Replica {
    identity: string;
    child: ChildProcess;
    port?: number;
    log: string[];
}

function startReplica(identity: string, namespace: string, concurrency: number, repoRoot: string): Replica {
    const child = spawn(process.execPath, [
        path.join(repoRoot, "bin", "catalyst.js"), "controller", "--identity", identity, "--namespace", namespace,
        "--concurrency", String(concurrency), "--metrics-port", "0", "--drift-interval", "0",
    ], { cwd: repoRoot, env: { ...process.env, CATALYST_ACTOR: identity }, stdio: ["ignore", "ignore", "pipe"] });
    const replica: Replica = { identity, child, log: [] };
    let partial = "";
    child.stderr?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
            replica.log.push(line);
            if (replica.log.length > 200) replica.log.shift();
            const port = /"port":([0-9]+)/.exec(line);
            if (port && line.includes("/metrics")) replica.port = Number(port[1]);
        }
    });
    return replica;
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
}

async function ready(replica: Replica): Promise<true | undefined> {
    if (replica.child.exitCode !== null) throw new Error(`controller ${replica.identity} exited (code ${replica.child.exitCode}): ${replica.log.slice(-3).join(" | ")}`);
    if (replica.port === undefined) return undefined;
    try {
        return (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).status === 200 ? true : undefined;
    } catch {
        return undefined;
    }
}

async function stopReplica(replica: Replica): Promise<void> {
    if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => replica.child.once("exit", () => resolve()));
    replica.child.kill("SIGTERM");
    await exited;
}

interface EnvironmentView {
    metadata: { name: string };
    status?: { conditions?: { type: string; status: string; lastTransitionTime: string }[] };
}

/** `replicas` controllers, `prs.length` Environments applied at once, until all are Ready. */
async function throughController(settings: ControllerBenchSettings, replicas: Replica[], prs: number[], label: string): Promise<Measured> {
    const { namespace } = settings;
    const items = prs.map((pr) => ({
        apiVersion: API_GROUP_VERSION, kind: RESOURCE_KINDS.environment.kind,
        metadata: { name: `pr-${pr}`, namespace, labels: { "catalyst-bench": label } },
        spec: { project: `bench-${label}`, type: "preview", pullRequest: pr, branch: "bench/controller" },
    }));
    const roots = () => replicas.map((r) => r.child.pid as number);
    const sampler = new RssSampler(250, roots);
    const cpu = roots().reduce((sum, pid) => sum + treeCpuMs(pid), 0);
    const started = Date.now();
    await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));
    await kubectl(["wait", RESOURCE, "-n", namespace, "-l", `catalyst-bench=${label}`, "--for=condition=Ready", "--timeout=3600s"]);
    const wallMs = Date.now() - started;
    const cpuMs = roots().reduce((sum, pid) => sum + treeCpuMs(pid), 0) - cpu;
    const memory = sampler.takePeaks();
    sampler.stop();
    const list = JSON.parse(await kubectl(["get", RESOURCE, "-n", namespace, "-l", `catalyst-bench=${label}`, "-o", "json"])) as { items: EnvironmentView[] };
    // The controller writes the condition's time with milliseconds, from this machine's clock.
    const perPreview = list.items.map((env) => {
        const readyAt = Date.parse(env.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? "");
        return Math.min(wallMs, Math.max(0, readyAt - started));
    });
    const downStarted = Date.now();
    await kubectl(["delete", RESOURCE, "-n", namespace, "-l", `catalyst-bench=${label}`, "--wait=true", "--timeout=3600s"]);
    return { n: prs.length, wallMs, perPreview: summarize(perPreview), cpuMs, memory, downMs: Date.now() - downStarted };
}

/** Runs the controller section: direct mode for each N, then each replica count for each N. */
export async function benchController(settings: ControllerBenchSettings): Promise<ControllerResults> {
    const { automation, counts, namespace, log } = settings;
    const concurrency = Number(process.env.CATALYST_CONCURRENCY ?? availableParallelism());
    const prsOf = (n: number) => Array.from({ length: n }, (_, i) => settings.prBase + i);
    const results: ControllerResults = {
        settings: { counts, replicas: settings.replicas, concurrencyPerReplica: concurrency, backend: (process.env.PULUMI_BACKEND_URL ?? "").split(":")[0], namespace },
        direct: [],
        controller: [],
        ratios: {},
    };
    for (const n of counts) {
        const measured = await direct(automation, prsOf(n));
        results.direct.push(measured);
        log(`controller section: direct N=${n}: ${measured.wallMs} ms, CPU ${Math.round(measured.cpuMs)} ms, tree RSS ${(measured.memory.treeBytes / 2 ** 20).toFixed(0)} MiB`);
    }

    const label = String(Date.now());
    const project = {
        apiVersion: API_GROUP_VERSION, kind: RESOURCE_KINDS.project.kind,
        metadata: { name: `bench-${label}`, namespace, labels: { "catalyst-bench": label } },
        // The same preview as direct mode: the template, nothing overridden.
        spec: {},
    };
    await kubectl(["apply", "-f", "-"], JSON.stringify(project));
    try {
        for (const count of settings.replicas) {
            const replicas = Array.from({ length: count }, (_, i) => startReplica(`bench-r${i}-${label}`, namespace, concurrency, automation.repoRoot));
            try {
                await until("the controllers' watches synced", async () => ((await Promise.all(replicas.map(ready))).every((r) => r) ? true : undefined), 120_000);
                // Idle: synced, nothing to do yet.
                const idleRssBytes = replicas.map((r) => treeRss(r.child.pid as number).selfBytes);
                for (const n of counts) {
                    const peakSampler = new PerReplicaPeak(replicas.map((r) => r.child.pid as number));
                    const measured = await throughController(settings, replicas, prsOf(n), label);
                    const replicaPeakBytes = peakSampler.stop();
                    results.controller.push({ ...measured, replicas: count, idleRssBytes, replicaPeakBytes });
                    log(`controller section: ${count} replica(s), N=${n}: apply to Ready ${measured.wallMs} ms, CPU ${Math.round(measured.cpuMs)} ms, ` +
                        `replica peak RSS ${(replicaPeakBytes / 2 ** 20).toFixed(0)} MiB, tree RSS ${(measured.memory.treeBytes / 2 ** 20).toFixed(0)} MiB, delete ${measured.downMs} ms`);
                }
            } finally {
                await Promise.all(replicas.map(stopReplica));
            }
        }
    } finally {
        await kubectl(["delete", `${RESOURCE_KINDS.project.plural}.${API_GROUP}`, "-n", namespace, "-l", `catalyst-bench=${label}`, "--ignore-not-found"]);
    }

    for (const c of results.controller) {
        const base = results.direct.find((d) => d.n === c.n);
        if (base === undefined) continue;
        const key = `controller ${c.replicas}r N=${c.n} / direct N=${c.n}`;
        results.ratios[`${key}: wall`] = c.wallMs / base.wallMs;
        results.ratios[`${key}: CPU`] = c.cpuMs / base.cpuMs;
        results.ratios[`${key}: tree RSS`] = c.memory.treeBytes / base.memory.treeBytes;
    }
    return results;
}

/** The largest RSS any one of `pids` reaches (each process alone), sampled every 250 ms. */
class PerReplicaPeak {
    private readonly samplers: RssSampler[];

    constructor(pids: number[]) {
        this.samplers = pids.map((pid) => new RssSampler(250, () => [pid]));
    }

    stop(): number {
        const peak = Math.max(...this.samplers.map((s) => s.takePeaks().selfBytes));
        this.samplers.forEach((s) => s.stop());
        return peak;
    }
}
