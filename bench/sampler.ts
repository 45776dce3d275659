import { execFileSync } from "child_process";
import { readdirSync, readFileSync } from "fs";

/** Peak resident set sizes seen by a {@link RssSampler}, in bytes. */
export interface RssPeaks {
    /** The orchestrating process alone. */
    selfBytes: number;
    /** The orchestrator and every descendant (workers, pulumi, language hosts, providers), summed. */
    treeBytes: number;
}

const PAGE_SIZE = 4096;

/** What /proc/<pid>/stat says about one process: parent, RSS, and CPU ticks (own and of reaped children). */
interface ProcessStat {
    ppid: number;
    rss: number;
    ticks: number;
}

/** ppid, RSS (bytes) and CPU ticks of every process, from /proc/<pid>/stat. */
function readProcesses(): Map<number, ProcessStat> {
    const processes = new Map<number, ProcessStat>();
    for (const entry of readdirSync("/proc")) {
        if (!/^[0-9]+$/.test(entry)) continue;
        try {
            const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
            // The command name (field 2) may hold spaces and parentheses: split after the last ")".
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            // utime, stime, cutime, cstime (fields 14-17): a reaped child's time is in its parent's c-times.
            const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
            processes.set(Number(entry), { ppid: Number(fields[1]), rss: Number(fields[21]) * PAGE_SIZE, ticks });
        } catch {
            // The process ended between readdir and read.
        }
    }
    return processes;
}

/** `root` and its live descendants. */
function treeOf(root: number, processes: Map<number, ProcessStat>): number[] {
    const children = new Map<number, number[]>();
    for (const [pid, { ppid }] of processes) {
        children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    }
    const tree: number[] = [];
    const stack = [root];
    while (stack.length > 0) {
        const pid = stack.pop() as number;
        if (processes.has(pid)) tree.push(pid);
        stack.push(...(children.get(pid) ?? []));
    }
    return tree;
}

/** RSS of `root` alone and of `root` with all its descendants. */
export function treeRss(root: number): RssPeaks {
    const processes = readProcesses();
    const treeBytes = treeOf(root, processes).reduce((sum, pid) => sum + (processes.get(pid)?.rss ?? 0), 0);
    return { selfBytes: processes.get(root)?.rss ?? 0, treeBytes };
}

let clockTicks: number | undefined;

/**
 * CPU time (user + system, ms) `root` and its descendants used so far: the live processes' own
 * and reaped-children times. Processes that ended were reaped by their parents, so their time is
 * counted once, in the parent's. The difference of two readings is a phase's CPU.
 */
export function treeCpuMs(root: number): number {
    if (clockTicks === undefined) {
        try {
            const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
            clockTicks = ticks > 0 ? ticks : 100;
        } catch {
            clockTicks = 100;
        }
    }
    const processes = readProcesses();
    const ticks = treeOf(root, processes).reduce((sum, pid) => sum + (processes.get(pid)?.ticks ?? 0), 0);
    return (ticks * 1000) / clockTicks;
}

function higher(a: RssPeaks, b: RssPeaks): RssPeaks {
    return { selfBytes: Math.max(a.selfBytes, b.selfBytes), treeBytes: Math.max(a.treeBytes, b.treeBytes) };
}

/** What one operation cost: wall time, CPU of the whole process tree, peak RSS of the tree. */
export interface Cost {
    ms: number;
    /** User + system CPU of this process and every descendant during the operation (see {@link treeCpuMs}). */
    cpuMs: number;
    /** Peak RSS of this process and its descendants, summed, while the operation ran. */
    treeBytes: number;
}

/**
 * Runs `operation` and measures its {@link Cost}. Only meaningful when nothing else of this
 * process runs meanwhile (the serial sections): the tree's CPU and RSS are the whole process's.
 */
export async function measure<T>(sampler: RssSampler, operation: () => PromiseLike<T>): Promise<{ value: T; cost: Cost }> {
    const window = sampler.window();
    const cpuBefore = treeCpuMs(process.pid);
    const started = performance.now();
    const value = await operation();
    const ms = performance.now() - started;
    const cpuMs = treeCpuMs(process.pid) - cpuBefore;
    return { value, cost: { ms, cpuMs, treeBytes: window.end().treeBytes } };
}

/**
 * Samples the RSS of this process (or of `roots`, summed: several controller replicas) and of
 * their process trees every `intervalMs`, keeping the peaks.
 */
export class RssSampler {
    private peaks: RssPeaks = { selfBytes: 0, treeBytes: 0 };
    /** Open {@link window}s: each keeps its own peaks, apart from the phase's. */
    private readonly windows = new Set<{ peaks: RssPeaks }>();
    private readonly timer: NodeJS.Timeout;

    constructor(intervalMs = 250, private readonly roots: () => number[] = () => [process.pid]) {
        this.timer = setInterval(() => this.sample(), intervalMs);
        this.timer.unref();
    }

    private sample(): void {
        const now = this.roots().map(treeRss).reduce((a, b) => ({ selfBytes: a.selfBytes + b.selfBytes, treeBytes: a.treeBytes + b.treeBytes }), { selfBytes: 0, treeBytes: 0 });
        this.peaks = higher(this.peaks, now);
        for (const window of this.windows) window.peaks = higher(window.peaks, now);
    }

    /**
     * Starts a window of its own (one operation inside a phase) without resetting the phase's
     * peaks; `end()` samples once more and returns the window's peaks.
     */
    window(): { end: () => RssPeaks } {
        const window = { peaks: { selfBytes: 0, treeBytes: 0 } };
        this.windows.add(window);
        this.sample();
        return {
            end: () => {
                this.sample();
                this.windows.delete(window);
                return window.peaks;
            },
        };
    }

    /** The peaks since the last reset, then starts over. */
    takePeaks(): RssPeaks {
        this.sample();
        const peaks = this.peaks;
        this.peaks = { selfBytes: 0, treeBytes: 0 };
        return peaks;
    }

    stop(): void {
        clearInterval(this.timer);
    }
}
