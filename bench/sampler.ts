import { readdirSync, readFileSync } from "fs";

/** Peak resident set sizes seen by a {@link RssSampler}, in bytes. */
export interface RssPeaks {
    /** The orchestrating process alone. */
    selfBytes: number;
    /** The orchestrator and every descendant (workers, pulumi, language hosts, providers), summed. */
    treeBytes: number;
}

const PAGE_SIZE = 4096;

/** ppid and RSS (bytes) of every process, from /proc/<pid>/stat. */
function readProcesses(): Map<number, { ppid: number; rss: number }> {
    const processes = new Map<number, { ppid: number; rss: number }>();
    for (const entry of readdirSync("/proc")) {
        if (!/^[0-9]+$/.test(entry)) continue;
        try {
            const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
            // The command name (field 2) may hold spaces and parentheses: split after the last ")".
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            processes.set(Number(entry), { ppid: Number(fields[1]), rss: Number(fields[21]) * PAGE_SIZE });
        } catch {
            // The process ended between readdir and read.
        }
    }
    return processes;
}

/** RSS of `root` alone and of `root` with all its descendants. */
export function treeRss(root: number): RssPeaks {
    const processes = readProcesses();
    const children = new Map<number, number[]>();
    for (const [pid, { ppid }] of processes) {
        children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    }
    let treeBytes = 0;
    const stack = [root];
    while (stack.length > 0) {
        const pid = stack.pop() as number;
        treeBytes += processes.get(pid)?.rss ?? 0;
        stack.push(...(children.get(pid) ?? []));
    }
    return { selfBytes: processes.get(root)?.rss ?? 0, treeBytes };
}

/** Samples the RSS of this process and its process tree every `intervalMs`, keeping the peaks. */
export class RssSampler {
    private peaks: RssPeaks = { selfBytes: 0, treeBytes: 0 };
    private readonly timer: NodeJS.Timeout;

    constructor(intervalMs = 250) {
        this.timer = setInterval(() => this.sample(), intervalMs);
        this.timer.unref();
    }

    private sample(): void {
        const now = treeRss(process.pid);
        this.peaks = {
            selfBytes: Math.max(this.peaks.selfBytes, now.selfBytes),
            treeBytes: Math.max(this.peaks.treeBytes, now.treeBytes),
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
