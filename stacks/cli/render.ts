import { formatDuration } from "../automation/duration";
import { CatalystEvent, ChangeCounts, EnvironmentRecord, EnvironmentStatus, OperationResult, StackOperation, StackResource } from "../automation/types";
import { AutoSleepReport } from "../automation/gc-sleep";
import { GcReport } from "../automation/gc";

/**
 * How the CLI shows progress and results. On a terminal: one live line (step, resources done of
 * total, elapsed) with warnings and errors printed above it. Elsewhere (CI logs, pipes): plain
 * lines, one per step, changed resource and diagnostic. Progress always goes to stderr.
 */

/** Something that shows progress events. */
export interface Reporter {
    event(event: CatalystEvent): void;
    /** Stops any live display (before the result is printed). */
    close(): void;
}

interface StackProgress {
    step: string;
    done: number;
    total: number;
}

function clip(text: string, lines = 6): string {
    const all = text.split("\n");
    return all.length > lines ? [...all.slice(0, lines), `  ... (${all.length - lines} more lines)`].join("\n") : text;
}

/** Plain lines: `[+12s] pr-12: updating: pulumi up`. */
export class PlainReporter implements Reporter {
    private readonly started = Date.now();
    constructor(private readonly write: (text: string) => void) {}

    event(event: CatalystEvent): void {
        const at = `[+${formatDuration(Date.now() - this.started)}]`;
        switch (event.type) {
            case "step":
                this.write(`${at} ${event.stack}: ${event.step}: ${event.message}\n`);
                break;
            case "resource":
                if (event.state === "failed" || (event.state === "done" && event.op !== "same")) {
                    this.write(`${at} ${event.stack}: ${event.done}/${event.total} ${event.state === "failed" ? "FAILED" : event.op} ${event.resourceType} ${event.name}\n`);
                }
                break;
            case "log":
                if (event.level === "warning" || event.level === "error") {
                    this.write(`${at} ${event.stack}: ${event.level}: ${clip(event.message)}\n`);
                }
                break;
            case "done":
                this.write(`${at} ${event.stack}: ${event.status} in ${formatDuration(event.result.durations.totalMs)}\n`);
                break;
        }
    }

    close(): void {}
}

const SPINNER = ["|", "/", "-", "\\"];

/** A live status line on a terminal, redrawn on each event and every 250 ms. */
export class LiveReporter implements Reporter {
    private readonly started = Date.now();
    private readonly stacks = new Map<string, StackProgress>();
    private frame = 0;
    private readonly timer: NodeJS.Timeout;

    constructor(private readonly stream: NodeJS.WriteStream) {
        this.timer = setInterval(() => this.draw(), 250);
        this.timer.unref();
    }

    event(event: CatalystEvent): void {
        const progress = this.stacks.get(event.stack) ?? { step: "queued", done: 0, total: 0 };
        this.stacks.set(event.stack, progress);
        if (event.type === "step") {
            progress.step = event.step;
        } else if (event.type === "resource") {
            progress.done = event.done;
            progress.total = event.total;
        } else if (event.type === "log" && (event.level === "warning" || event.level === "error")) {
            this.print(`${event.stack}: ${event.level}: ${clip(event.message)}`);
        } else if (event.type === "done") {
            this.stacks.delete(event.stack);
            this.print(`${event.stack}: ${event.status} in ${formatDuration(event.result.durations.totalMs)}`);
        }
        this.draw();
    }

    close(): void {
        clearInterval(this.timer);
        this.stream.write("\r\x1b[2K");
    }

    private print(line: string): void {
        this.stream.write(`\r\x1b[2K${line}\n`);
    }

    private draw(): void {
        const elapsed = formatDuration(Date.now() - this.started);
        const parts = [...this.stacks.entries()].slice(0, 3).map(([stack, p]) =>
            `${stack} ${p.step}${p.total > 0 ? ` ${p.done}/${p.total} resources` : ""}`);
        const more = this.stacks.size > 3 ? ` (+${this.stacks.size - 3} more)` : "";
        const line = `${SPINNER[this.frame++ % SPINNER.length]} ${parts.join(" | ")}${more}  ${elapsed}`;
        // A pseudo-terminal may report 0 columns.
        const width = this.stream.columns > 0 ? this.stream.columns : 100;
        this.stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
    }
}

/** One human line about an operation result. */
export function describeResult(result: OperationResult): string {
    const took = formatDuration(result.durations.totalMs);
    const head = `${result.stack}: ${result.action} ${result.status} in ${took}`;
    if (result.status !== "succeeded") {
        return `${head}: ${result.error ?? "no details"}`;
    }
    if (result.noop) {
        return `${head}: nothing to do (the stack does not exist)`;
    }
    const changes = Object.entries(result.changes ?? {}).map(([op, n]) => `${n} ${op}`).join(", ");
    const where = [result.url, result.namespace && `namespace ${result.namespace}`].filter(Boolean).join(", ");
    return `${head}${where ? `: ${where}` : ""}${changes ? ` (${changes}${result.changed === false ? "; no changes" : ""})` : ""}${result.updateId ? `, update ${result.updateId}` : ""}`;
}

/** A table of environments for `preview list`. */
export function describeRecords(records: EnvironmentRecord[]): string {
    if (records.length === 0) {
        return "no previews\n";
    }
    const rows = records.map((r) => [r.stack, sleepLabel(r), r.branch ?? "", (r.sha ?? "").slice(0, 7), r.owner ?? "", r.expiresAt ?? "", r.url ?? r.namespace ?? ""]);
    const header = ["STACK", "STATE", "BRANCH", "SHA", "OWNER", "EXPIRES", "URL"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}

/** `Sleeping since <time> (<reason>)`, or `Awake`. */
export function sleepLabel(record: EnvironmentRecord): string {
    return record.sleepingSince === undefined ? "Awake" : `Sleeping since ${record.sleepingSince}${record.sleepReason && record.sleepReason !== "manual" ? ` (${record.sleepReason})` : ""}`;
}

/** A status block for `env status` / `platform status`. */
export function describeStatus(status: EnvironmentStatus): string {
    const lines = [`${status.stack} (${status.kind})`];
    const add = (label: string, value: unknown) => {
        if (value !== undefined && value !== "") lines.push(`  ${label.padEnd(12)}${typeof value === "string" ? value : JSON.stringify(value)}`);
    };
    add("namespace", status.namespace);
    add("url", status.url);
    if (status.kind === "preview" || status.sleepingSince !== undefined) add("state", sleepLabel(status));
    add("last update", status.lastUpdate);
    add("last result", status.lastResult);
    add("update id", status.updateId);
    add("resources", String(status.resourceCount ?? 0));
    add("pending ops", String(status.pendingOperations));
    add("branch", status.branch);
    add("sha", status.sha);
    add("image", status.image);
    for (const [key, value] of Object.entries(status.outputs)) {
        add(`output ${key}`, value);
    }
    return lines.join("\n") + "\n";
}

/** Resource changes as `create 3, update 1, same 20` (none: `no changes`). */
export function describeChanges(changes: ChangeCounts): string {
    const parts = Object.entries(changes).filter(([, n]) => n > 0).map(([op, n]) => `${op} ${n}`);
    return parts.length > 0 ? parts.join(", ") : "no changes";
}

/** A stack's operations, newest first: one line each, then what started it when recorded. */
export function describeOperations(stack: string, operations: StackOperation[]): string {
    if (operations.length === 0) return `${stack}: no operations recorded\n`;
    const lines = [`${stack}: the last ${operations.length} operation(s), newest first`];
    for (const op of operations) {
        const took = op.durationMs === undefined ? "running" : formatDuration(op.durationMs);
        lines.push(`  ${op.startTime}  ${op.kind.padEnd(8)} ${op.result.padEnd(11)} ${took.padEnd(8)} ${describeChanges(op.changes)}`);
        const by = [op.startedBy["exec.kind"], op.startedBy["git.headName"]?.replace(/^refs\/heads\//, ""), op.startedBy["git.head"]?.slice(0, 7)].filter(Boolean).join(" ");
        if (by !== "" || op.message !== undefined) lines.push(`      ${[by, op.message?.split("\n")[0]].filter(Boolean).join(": ")}`);
    }
    return lines.join("\n") + "\n";
}

/** A stack's resources grouped by type: `type (n)` then the names. */
export function describeResources(stack: string, resources: StackResource[]): string {
    const byType = new Map<string, string[]>();
    for (const r of resources) byType.set(r.type, [...(byType.get(r.type) ?? []), r.name]);
    const lines = [`${stack}: ${resources.length} resource(s) of ${byType.size} type(s)`];
    for (const [type, names] of [...byType.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
        lines.push(`  ${type} (${names.length})`, ...names.map((n) => `    ${n}`));
    }
    return lines.join("\n") + "\n";
}

/** A summary of a gc run. */
export function describeGc(report: GcReport): string {
    const lines = [`gc ${report.status}${report.dryRun ? " (dry run)" : ""}: ${report.candidates.length} preview(s) to collect`];
    for (const candidate of report.candidates) {
        const result = report.destroyed.find((r) => r.stack === candidate.stack);
        lines.push(`  ${candidate.stack}: ${candidate.reason} (${candidate.detail})${result ? ` -> ${result.status}` : ""}`);
    }
    if (report.orphanNamespaces.length > 0) {
        lines.push(`  preview namespaces without a stack: ${report.orphanNamespaces.join(", ")}${report.deletedNamespaces.length > 0 ? ` (deleted: ${report.deletedNamespaces.join(", ")})` : " (not deleted; pass --delete-orphan-namespaces)"}`);
    }
    for (const error of report.errors) {
        lines.push(`  error: ${error}`);
    }
    return lines.join("\n") + "\n";
}

/** A summary of the auto-sleep part of a gc run. */
export function describeAutoSleep(report: AutoSleepReport): string {
    const lines = [`auto-sleep: ${report.actions.length} preview(s) to put to sleep or wake`];
    for (const action of report.actions) {
        lines.push(`  ${action.stack}: ${action.action} (${action.reason}: ${action.detail})${action.status ? ` -> ${action.status}` : ""}`);
    }
    for (const error of report.errors) {
        lines.push(`  error: ${error}`);
    }
    return lines.join("\n") + "\n";
}
