import { ChildProcess, execFileSync, spawn } from "child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { AddressInfo, createServer } from "net";
import * as path from "path";
import { descendants } from "../../stacks/automation/runner";
import { kubectl, kubectlJson, repoRoot } from "./harness";

/*
 * Helpers of the control-plane tests: the throwaway PostgreSQL (tools/postgres.sh), the shared
 * platform's state copied into it, and `catalyst controller` replicas run as local processes
 * against the local API server (no container runs on the local cluster, so the controller
 * Deployment the platform installs is scheduled but never executes: these processes stand in).
 */

const postgresScript = path.join(repoRoot, "tools", "postgres.sh");

/** Where and on which port this run's PostgreSQL lives (CATALYST_POSTGRES_PORT, else a free port). */
export interface PostgresPlace {
    port: number;
    dir: string;
}

/** A free loopback port, for a PostgreSQL of this run when CATALYST_POSTGRES_PORT is not set. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

/** Runs tools/postgres.sh `command` for `place` and returns its output. */
export function postgres(place: PostgresPlace, command: "up" | "down" | "pause" | "resume" | "url" | "status"): string {
    const env = { ...process.env, CATALYST_POSTGRES_PORT: String(place.port), CATALYST_POSTGRES_DIR: place.dir };
    return execFileSync("bash", [postgresScript, command], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** A pulumi CLI call in `dir` against `backend`. */
export function pulumiIn(dir: string, backend: string, args: string[], input?: string): string {
    return execFileSync("pulumi", [...args, "--non-interactive"], {
        cwd: dir, input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, PULUMI_BACKEND_URL: backend },
        stdio: ["pipe", "pipe", "pipe"],
    });
}

/**
 * Copies the state of stack `stack` from the test run's file backend into `backend`, so that the
 * environment stacks' StackReference (`organization/catalyst/<stack>`) resolves there. The copy is
 * only read; {@link forgetStack} removes it without touching the cluster.
 */
export function copyStackState(stack: string, backend: string, dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "Pulumi.yaml"), readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8"));
    const fileBackend = process.env.PULUMI_BACKEND_URL as string;
    // Secrets in plain text on the way: the target stack re-encrypts them with its own salt.
    const file = path.join(dir, `${stack}.state.json`);
    pulumiIn(dir, fileBackend, ["stack", "export", "--stack", stack, "--show-secrets", "--file", file]);
    pulumiIn(dir, backend, ["stack", "init", stack]);
    try {
        pulumiIn(dir, backend, ["stack", "import", "--stack", stack, "--file", file]);
    } finally {
        rmSync(file, { force: true });
    }
}

/** Removes a copied stack's state from `backend` (its resources belong to the original). */
export function forgetStack(stack: string, backend: string, dir: string): void {
    pulumiIn(dir, backend, ["stack", "rm", stack, "--force", "--preserve-config", "--yes"]);
}

/** One `catalyst controller` process. */
export interface Replica {
    identity: string;
    child: ChildProcess;
    log: string[];
    /** The metrics port, once it logged it. */
    port?: number;
}

/** Starts `catalyst controller` (bin/catalyst.js) as a local process. */
export function startReplica(identity: string, env: NodeJS.ProcessEnv, flags: string[]): Replica {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin", "catalyst.js"), "controller", "--identity", identity, "--metrics-port", "0", ...flags], {
        cwd: repoRoot, env: { ...process.env, CI: "true", ...env }, stdio: ["ignore", "ignore", "pipe"], detached: true,
    });
    const replica: Replica = { identity, child, log: [] };
    let partial = "";
    child.stderr?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
            replica.log.push(line);
            if (process.env.CATALYST_TEST_VERBOSE) process.stderr.write(`[${identity}] ${line}\n`);
            const port = /"port":([0-9]+)/.exec(line);
            if (port && line.includes("/metrics")) replica.port = Number(port[1]);
        }
    });
    return replica;
}

/** SIGKILL to a replica and everything it started (its workers, pulumi, plugins): a pod's death. */
export function killReplica(replica: Replica): void {
    const pid = replica.child.pid as number;
    const all = [pid, ...descendants(pid)];
    for (const p of all) {
        try {
            process.kill(p, "SIGKILL");
        } catch {
            // already gone
        }
    }
}

/** SIGTERM, then waits for the exit (the replica finishes its reconciles in flight). */
export async function stopReplica(replica: Replica, timeoutMs = 120_000): Promise<void> {
    if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => replica.child.once("exit", () => resolve()));
    replica.child.kill("SIGTERM");
    const timer = setTimeout(() => killReplica(replica), timeoutMs);
    await exited;
    clearTimeout(timer);
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, everyMs = 1000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined) return value;
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}

/** An Environment as kubectl returns it. */
export interface EnvironmentView {
    metadata: { name: string; generation: number; finalizers?: string[]; deletionTimestamp?: string };
    spec?: { project?: string };
    status?: { observedGeneration?: number; url?: string; namespace?: string; stack?: string; conditions?: { type: string; status: string; reason: string; message: string; observedGeneration?: number }[] };
}

/** The Environments of `namespace` by name. */
export function environments(namespace: string): Map<string, EnvironmentView> {
    const list = kubectlJson<{ items: EnvironmentView[] }>(["get", "environments.catalyst.dev", "-n", namespace]);
    return new Map(list.items.map((e) => [e.metadata.name, e]));
}

/** The condition `type` of an Environment. */
export function conditionOf(env: EnvironmentView | undefined, type: string) {
    return env?.status?.conditions?.find((c) => c.type === type);
}

/** True when the Environment is Ready at its current generation. */
export function isReady(env: EnvironmentView | undefined): boolean {
    return env !== undefined && env.status?.observedGeneration === env.metadata.generation && conditionOf(env, "Ready")?.status === "True";
}

/** `kubectl apply -f -` of YAML/JSON text. */
export function apply(manifest: unknown): string {
    return kubectl(["apply", "-f", "-"], JSON.stringify(manifest));
}

/** Lines of a JSON-lines audit log. */
export function auditRecords(file: string): { action: string; stack: string; result: string; actor: string }[] {
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l)) : [];
}

/** `status.operation` of an Environment as the controller writes it (stacks/resources/types.ts). */
export interface OperationView {
    id: string;
    action: string;
    generation: number;
    step: string;
    resourcesDone?: number;
    resourcesTotal?: number;
    startedAt: string;
    finishedAt?: string;
    result?: string;
    message?: string;
}

/**
 * Every `status.operation` the API server shows for Environment `name` from now on, through
 * `kubectl get -w` (one line per change; a field selector, so it may start before the object
 * exists): `stop()` ends the watch and returns them in order.
 */
export function watchOperations(namespace: string, name: string): { stop: () => Promise<OperationView[]> } {
    const child = spawn("kubectl", ["get", "environments.catalyst.dev", "-n", namespace, "--field-selector", `metadata.name=${name}`, "-w", "-o", "jsonpath={.status.operation}{\"\\n\"}"], { env: process.env, stdio: ["ignore", "pipe", "ignore"] });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    return {
        stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
                const exited = new Promise((resolve) => child.once("exit", resolve));
                child.kill("SIGTERM");
                await exited;
            }
            return text.split("\n").filter((line) => line.trim().startsWith("{")).map((line) => JSON.parse(line) as OperationView);
        },
    };
}
