import { ChildProcess, fork } from "child_process";
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { WorkerMessage, WorkerRequest, WorkerResult } from "./protocol";
import { CatalystEvent } from "./types";

/**
 * Runs each stack operation in its own child process: `node` with the worker script (compiled, or
 * TypeScript through the transpile cache tools/register.js), in a process group of its own so
 * that the worker, its `pulumi` and the plugins can be stopped together. Stopping is staged:
 * SIGINT to the worker (pulumi cancels gracefully), then after a grace period SIGKILL to the
 * whole group. The caller then runs a `recover` request (see engine.ts).
 */

/** Options of {@link runWorker}. */
export interface RunnerOptions {
    /** Stop the worker after this long. */
    timeoutMs: number;
    /** Between SIGINT and SIGKILL. */
    graceMs: number;
    /** Receives the worker's progress events. */
    onEvent?: (event: CatalystEvent) => void;
    /** Stops the worker like a timeout does (a CLI interrupted by Ctrl-C). */
    signal?: AbortSignal;
    /** Extra environment for the worker. */
    env?: NodeJS.ProcessEnv;
    /** The worker script; defaults to worker.ts/worker.js next to this file. Tests pass their own. */
    workerPath?: string;
}

/** How a worker run ended. */
export interface RunOutcome {
    /** The worker's answer; missing when it was killed or crashed. */
    result?: WorkerResult;
    /** The timeout fired. */
    timedOut: boolean;
    /** The caller's signal fired. */
    aborted: boolean;
    /** The group had to be killed with SIGKILL. */
    killed: boolean;
    exitCode: number | null;
    exitSignal: NodeJS.Signals | null;
    /** The end of the worker's stderr, for crashes. */
    stderr: string;
    durationMs: number;
}

const live = new Set<ChildProcess>();

/** The worker script next to this module, in the language this module runs in. */
export function defaultWorkerPath(): string {
    return path.join(__dirname, `worker${path.extname(__filename) === ".ts" ? ".ts" : ".js"}`);
}

/**
 * The descendants of `pid` (children, grandchildren, ...) from /proc on Linux; empty elsewhere.
 * Needed because pulumi starts its plugins in process groups of their own.
 */
export function descendants(pid: number): number[] {
    const children = new Map<number, number[]>();
    let entries: string[];
    try {
        entries = readdirSync("/proc").filter((name) => /^[0-9]+$/.test(name));
    } catch {
        return [];
    }
    for (const entry of entries) {
        try {
            const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        } catch {
            // The process ended while we looked.
        }
    }
    const found: number[] = [];
    const queue = [pid];
    while (queue.length > 0) {
        for (const child of children.get(queue.shift() as number) ?? []) {
            found.push(child);
            queue.push(child);
        }
    }
    return found;
}

/** SIGKILLs (or signals) the worker's process group and every process below it. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) {
        return;
    }
    const tree = descendants(child.pid);
    for (const pid of [-child.pid, ...tree]) {
        try {
            process.kill(pid, signal);
        } catch {
            // Already gone.
        }
    }
}

/** SIGKILLs every worker group still running (a CLI interrupted twice). */
export function killAllWorkers(): void {
    for (const child of live) {
        killGroup(child, "SIGKILL");
    }
}

/** Runs one request in a worker process and resolves when the worker has exited. Never rejects. */
export function runWorker(request: WorkerRequest, options: RunnerOptions): Promise<RunOutcome> {
    const started = Date.now();
    const script = options.workerPath ?? defaultWorkerPath();
    // TypeScript through the project's transpile cache (tools/register.js): after the first run
    // a worker starts without loading the compiler.
    const execArgv = script.endsWith(".ts") ? ["-r", path.resolve(__dirname, "..", "..", "tools", "register.js")] : [];
    const child = fork(script, [], {
        detached: true,
        execArgv,
        env: { ...process.env, ...options.env },
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        serialization: "json",
    });
    live.add(child);
    const outcome: RunOutcome = { timedOut: false, aborted: false, killed: false, exitCode: null, exitSignal: null, stderr: "", durationMs: 0 };
    let graceTimer: NodeJS.Timeout | undefined;

    const stop = () => {
        if (graceTimer !== undefined || child.exitCode !== null || child.signalCode !== null) {
            return;
        }
        child.kill("SIGINT");
        graceTimer = setTimeout(() => {
            outcome.killed = true;
            killGroup(child, "SIGKILL");
        }, options.graceMs);
    };
    const timer = setTimeout(() => {
        outcome.timedOut = true;
        stop();
    }, options.timeoutMs);
    const onAbort = () => {
        outcome.aborted = true;
        stop();
    };
    options.signal?.addEventListener("abort", onAbort);
    if (options.signal?.aborted) {
        onAbort();
    }

    child.stderr?.on("data", (chunk: Buffer) => {
        outcome.stderr = (outcome.stderr + chunk.toString()).slice(-4000);
    });
    child.on("message", (message: WorkerMessage) => {
        if (message.type === "event") {
            options.onEvent?.(message.event);
        } else if (message.type === "result") {
            outcome.result = message.result;
        }
    });

    return new Promise((resolve) => {
        let done = false;
        const finish = (code: number | null, signal: NodeJS.Signals | null) => {
            if (done) {
                return;
            }
            done = true;
            clearTimeout(timer);
            clearTimeout(graceTimer);
            options.signal?.removeEventListener("abort", onAbort);
            live.delete(child);
            // A worker that died without answering may leave pulumi and plugins behind; their
            // parent is gone, so only the group is left to reach them.
            if (outcome.result === undefined && child.pid !== undefined) {
                try {
                    process.kill(-child.pid, "SIGKILL");
                } catch {
                    // Nothing left.
                }
            }
            outcome.exitCode = code;
            outcome.exitSignal = signal;
            outcome.durationMs = Date.now() - started;
            resolve(outcome);
        };
        // `close` comes after the last IPC message and stderr chunk; `exit` alone may come first.
        child.on("close", finish);
        child.on("exit", (code, signal) => {
            setTimeout(() => finish(code, signal), 3000).unref();
        });
        child.on("error", (err) => {
            outcome.stderr += `\n${err.message}`;
            finish(null, null);
        });
        child.send(request);
    });
}
