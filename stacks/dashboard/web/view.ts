/**
 * The dashboard's view logic, free of the DOM and of Preact so unit tests run it in Node:
 * what the API's answers become on screen (status words, filters, times in the viewer's time
 * zone, which actions to offer, operation progress, the bounded log buffer).
 */

import { isHealthy, type EnvironmentCondition } from "../../automation/conditions";
import type { ChangeCounts, EnvironmentRecord, EnvironmentStatus, StackOperation, StackResource } from "../../automation/types";

export type { EnvironmentCondition, StackOperation, StackResource };

/** An environment as `GET /environments` lists it (the library's record; types only, erased from the bundle). */
export type EnvironmentRow = EnvironmentRecord;

/** `GET /environments/:name`: a row plus outputs, last result, pods, events and conditions. */
export interface EnvironmentDetail extends EnvironmentStatus {
    conditions?: EnvironmentCondition[];
    pods?: { name: string; phase?: string; ready: boolean; restarts: number; node?: string; createdAt?: string; startedAt?: string }[];
    events?: { type?: string; reason?: string; object: string; message?: string; time?: string }[];
    clusterError?: string;
}

/** `GET /events` activity (stacks/api/activity.ts). */
export interface Activity {
    stack: string;
    operation: string;
    action: string;
    state: string;
    startedAt: string;
    step?: string;
    done?: number;
    total?: number;
}

/** The project a row belongs to (`default` when the stack name carries none). */
export function projectOf(row: EnvironmentRow): string {
    return row.project ?? "default";
}

/** A status word and, when not ready, the reason. */
export function statusOf(row: EnvironmentRow & { lastResult?: string; pendingOperations?: number }, activity?: Activity): { word: string; reason?: string } {
    if (activity !== undefined && activity.state === "running") {
        return { word: activity.action === "destroy" ? "destroying" : "updating", reason: progressText(activity) };
    }
    if (row.updateInProgress) return { word: "updating", reason: "an update is running" };
    if (row.pendingOperations !== undefined && row.pendingOperations > 0) return { word: "needs repair", reason: `${row.pendingOperations} interrupted resource operations` };
    if (row.lastResult !== undefined && row.lastResult !== "succeeded") return { word: "failed", reason: `last update ${row.lastResult}` };
    if ((row.resourceCount ?? 0) === 0) return { word: "empty", reason: "the stack holds no resources" };
    return { word: "ready" };
}

/** "updating 3/12" style progress of an activity or an operation. */
export function progressText(p: { step?: string; done?: number; total?: number }): string {
    const parts = [p.step ?? "starting"];
    if (p.total !== undefined && p.total > 0) parts.push(`${p.done ?? 0} of ${p.total} resources`);
    return parts.join(", ");
}

/** The list's filters: exact matches (empty: any) and a free-text search. */
export interface Filters {
    project: string;
    kind: string;
    owner: string;
    status: string;
    search: string;
}

/** No filter at all. */
export const NO_FILTERS: Filters = { project: "", kind: "", owner: "", status: "", search: "" };

/** Rows that pass `filters`; the search looks at stack, branch, owner, PR, image and URL. */
export function filterRows(rows: EnvironmentRow[], filters: Filters, activities: ReadonlyMap<string, Activity> = new Map()): EnvironmentRow[] {
    const needle = filters.search.trim().toLowerCase();
    return rows.filter((row) => {
        if (filters.project !== "" && projectOf(row) !== filters.project) return false;
        if (filters.kind !== "" && row.kind !== filters.kind) return false;
        if (filters.owner !== "" && (row.owner ?? "") !== filters.owner) return false;
        if (filters.status !== "" && statusOf(row, activities.get(row.stack)).word !== filters.status) return false;
        if (needle === "") return true;
        return [row.stack, row.branch, row.owner, row.pr === undefined ? undefined : `#${row.pr}`, row.image, row.url, projectOf(row)]
            .some((field) => field !== undefined && field.toLowerCase().includes(needle));
    });
}

/** The distinct values of a field, sorted, for a filter's options. */
export function distinct(rows: EnvironmentRow[], pick: (row: EnvironmentRow) => string | undefined): string[] {
    return [...new Set(rows.map(pick).filter((v): v is string => v !== undefined && v !== ""))].sort();
}

/** Sorts rows: the platform first, then production, staging, then previews by PR (newest first). */
export function sortRows(rows: EnvironmentRow[]): EnvironmentRow[] {
    const rank = (kind: string) => ["platform", "production", "staging", "preview"].indexOf(kind);
    return [...rows].sort((a, b) => rank(a.kind) - rank(b.kind) || (b.pr ?? 0) - (a.pr ?? 0) || a.stack.localeCompare(b.stack));
}

/** A time in the viewer's time zone (the browser's, unless `timeZone` is given), or "—". */
export function formatTime(iso: string | undefined, timeZone?: string, locale = "en-GB"): string {
    if (iso === undefined) return "—";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "—";
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(date);
}

/** A duration such as "3d 4h", "5m 2s", "12s". */
export function formatDuration(ms: number): string {
    const s = Math.max(0, Math.floor(ms / 1000));
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${m}m`;
    if (m > 0) return `${m}m ${s % 60}s`;
    return `${s}s`;
}

/** "3d 4h" since `iso` (age), or "in 2h" / "2h ago" until it (expiry). */
export function age(iso: string | undefined, now: number): string {
    if (iso === undefined) return "—";
    const t = Date.parse(iso);
    return Number.isNaN(t) ? "—" : formatDuration(now - t);
}

/** How long until `iso` ("in 2h 5m"), or how long ago it passed ("expired 5m ago"). */
export function until(iso: string | undefined, now: number): string {
    if (iso === undefined) return "—";
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return "—";
    return t >= now ? `in ${formatDuration(t - now)}` : `expired ${formatDuration(now - t)} ago`;
}

/**
 * Whether to offer changing actions (destroy, extend) to `user`: previews whose owner tag
 * names the user (case-insensitive, as the API's ownership rule). The API decides in the end;
 * a refusal shows its message.
 */
export function canChange(row: EnvironmentRow & { outputs?: Record<string, unknown> }, user: string): boolean {
    if (row.kind !== "preview") return false;
    const owners = [row.owner, ...(Array.isArray(row.outputs?.owners) ? (row.outputs.owners as unknown[]) : [])].filter((o): o is string => typeof o === "string");
    return owners.some((o) => o.toLowerCase() === user.toLowerCase());
}

/** An API error body as the page shows it: the field it names (before the first colon) and the text. */
export function fieldError(message: string, fields: readonly string[]): { field?: string; message: string } {
    const match = /^([A-Za-z][A-Za-z0-9_.]*): (.*)$/s.exec(message);
    if (match !== null && fields.includes(match[1].split(".")[0])) return { field: match[1].split(".")[0], message: match[2] };
    return { message };
}

/** The create form's values (strings, as typed). */
export interface PreviewForm {
    pr: string;
    branch: string;
    image: string;
    ttl: string;
}

/**
 * The body of `POST /previews` from the form. Nothing is checked here beyond shape: the API's
 * own validation decides, and its error lands next to the field it names.
 */
export function previewBody(form: PreviewForm): Record<string, unknown> {
    const pr = form.pr.trim();
    const body: Record<string, unknown> = { pr: /^-?\d+$/.test(pr) ? Number(pr) : pr, branch: form.branch.trim() };
    if (form.image.trim() !== "") body.image = form.image.trim();
    if (form.ttl.trim() !== "") body.ttl = form.ttl.trim();
    return body;
}

/** An operation's progress as its events tell it. */
export interface Progress {
    step?: string;
    done?: number;
    total?: number;
    /** Final status (`succeeded`, `failed`, ...) once `done` arrived. */
    status?: string;
    error?: string;
    lastMessage?: string;
}

/** Folds one server-sent event of `/operations/:id/events` into the progress. */
export function applyEvent(progress: Progress, type: string, data: Record<string, unknown>): Progress {
    switch (type) {
        case "step":
            return { ...progress, step: String(data.step), lastMessage: typeof data.message === "string" ? data.message : progress.lastMessage };
        case "resource":
            return { ...progress, done: Number(data.done), total: Number(data.total) };
        case "done": {
            const result = data.result as { error?: string } | undefined;
            return { ...progress, status: String(data.status), error: result?.error ?? progress.error };
        }
        case "end": {
            const state = typeof data.state === "string" ? data.state : undefined;
            return { ...progress, status: progress.status ?? state, error: progress.error ?? (typeof data.error === "string" ? data.error : undefined) };
        }
        default:
            return progress;
    }
}

/**
 * A bounded buffer of log lines: keeps the last `maxLines` lines and at most `maxBytes`
 * characters, counting the lines it dropped, so a chatty pod cannot fill the tab's memory.
 * While paused, new lines wait (bounded the same way) and show on resume.
 */
export class LogBuffer {
    lines: string[] = [];
    dropped = 0;
    private bytes = 0;
    private partial = "";

    constructor(readonly maxLines = 2000, readonly maxBytes = 512 * 1024) {}

    /** Adds a chunk of text (lines may be split across chunks). */
    push(chunk: string): void {
        const parts = (this.partial + chunk).split("\n");
        this.partial = parts.pop() ?? "";
        for (const line of parts) this.add(line);
        // A line longer than the whole budget cannot wait for its end.
        if (this.partial.length > this.maxBytes) {
            this.add(this.partial.slice(0, this.maxBytes - 1));
            this.partial = "";
        }
    }

    /** The unterminated last line, at the end of the stream. */
    flush(): void {
        if (this.partial !== "") this.add(this.partial);
        this.partial = "";
    }

    private add(line: string): void {
        this.lines.push(line);
        this.bytes += line.length + 1;
        while (this.lines.length > this.maxLines || this.bytes > this.maxBytes) {
            const gone = this.lines.shift();
            if (gone === undefined) break;
            this.bytes -= gone.length + 1;
            this.dropped += 1;
        }
    }
}

/**
 * What the log view shows over a {@link LogBuffer}: its lines while following; while paused, the
 * lines (and dropped count) of the moment it paused, frozen, and how many lines arrived since.
 * The buffer keeps filling (and capping) underneath, so resume shows the latest lines.
 */
export class PausableLog {
    private frozen?: { lines: string[]; dropped: number };

    constructor(readonly buffer: LogBuffer = new LogBuffer()) {}

    get paused(): boolean {
        return this.frozen !== undefined;
    }

    pause(): void {
        this.frozen ??= { lines: [...this.buffer.lines], dropped: this.buffer.dropped };
    }

    resume(): void {
        this.frozen = undefined;
    }

    /** The lines to show, the lines dropped before them, and (paused) how many arrived since. */
    view(): { lines: string[]; dropped: number; waiting: number } {
        const { lines, dropped } = this.frozen ?? this.buffer;
        const waiting = this.buffer.lines.length + this.buffer.dropped - lines.length - dropped;
        return { lines: this.frozen === undefined ? [...lines] : lines, dropped, waiting };
    }
}

/** Words for the engine's resource operations; others show as the engine names them. */
const CHANGE_WORDS: Record<string, string> = { create: "created", update: "updated", delete: "deleted", replace: "replaced", same: "unchanged", import: "imported", read: "read", refresh: "refreshed" };

/**
 * An operation's resource changes as `3 created, 1 updated, 20 unchanged`: what changed first,
 * then the unchanged; `no changes` when the engine recorded none.
 */
export function changesText(changes: ChangeCounts): string {
    const entries = Object.entries(changes).filter(([, n]) => n > 0).sort(([a], [b]) => (a === "same" ? 1 : 0) - (b === "same" ? 1 : 0));
    return entries.length === 0 ? "no changes" : entries.map(([op, n]) => `${n} ${CHANGE_WORDS[op] ?? op}`).join(", ");
}

/** How long an operation took, or `running` while the backend has no end time. */
export function operationDuration(op: StackOperation): string {
    return op.durationMs === undefined ? "running" : formatDuration(op.durationMs);
}

/** A type of resource and the stack's resources of it. */
export interface ResourceGroup {
    type: string;
    resources: StackResource[];
}

/** The stack's resources grouped by type, types sorted by name, resources by name within. */
export function groupResources(resources: StackResource[]): ResourceGroup[] {
    const groups = new Map<string, StackResource[]>();
    for (const r of resources) groups.set(r.type, [...(groups.get(r.type) ?? []), r]);
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, list]) => ({ type, resources: [...list].sort((a, b) => a.name.localeCompare(b.name)) }));
}

/** The name of a resource's parent, or undefined when it hangs off the stack itself (or nothing). */
export function parentName(resource: StackResource): string | undefined {
    const parent = resource.parent;
    if (parent === undefined || parent.split("::")[2] === "pulumi:pulumi:Stack") return undefined;
    return parent.slice(parent.lastIndexOf("::") + 2);
}

/** A pod's age: since it started (kwok or the kubelet), else since it was created. */
export function podAge(pod: { createdAt?: string; startedAt?: string }, now: number): string {
    return age(pod.startedAt ?? pod.createdAt, now);
}

/** A condition as the page's table shows it. */
export interface ConditionRow {
    type: string;
    status: string;
    reason: string;
    message: string;
    /** The last transition in the viewer's time zone, or "—" when no fact says it. */
    since: string;
    /** False when the status is not the one that is fine for the type (marked on the page). */
    healthy: boolean;
}

/** An ISO 8601 UTC time as the API writes it inside messages. */
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b/g;

/**
 * The conditions of `GET /environments/:name` as table rows, in the API's order. Times inside a
 * message (the API writes UTC) are shown in the viewer's zone, like every other time of the page.
 */
export function conditionRows(conditions: readonly EnvironmentCondition[] | undefined, timeZone?: string): ConditionRow[] {
    return (conditions ?? []).map((c) => ({
        type: c.type, status: c.status, reason: c.reason, message: c.message.replace(ISO_TIME, (iso) => formatTime(iso, timeZone)),
        since: formatTime(c.lastTransitionTime, timeZone), healthy: isHealthy(c),
    }));
}

/** Hash routes of the page: `#/` the list, `#/environments/<name>` one environment. */
export type Route = { page: "list" } | { page: "environment"; name: string };

/** Parses `location.hash`. */
export function parseRoute(hash: string): Route {
    const match = /^#\/environments\/([a-z0-9-]{1,63})$/.exec(hash);
    return match === null ? { page: "list" } : { page: "environment", name: match[1] };
}
