import { ChangeCounts, LastDeploy, StackOperation } from "./types";
import { InputError } from "./validation";

/**
 * A stack's last operations from the engine's own update history (`pulumi stack history
 * --json`, read by catalog.ts): every update, destroy, refresh or import the backend recorded,
 * whoever ran it. Only what says what happened and who started it leaves here: the config each
 * entry carries (values of the stack's settings) and the engine's `pulumi.*` flags do not.
 */

/** Operations listed when the caller names no limit. */
export const DEFAULT_OPERATIONS_LIMIT = 10;
/** The most operations one call lists (one page of the backend's history). */
export const MAX_OPERATIONS_LIMIT = 100;

/** Environment metadata keys shown as who or what started an operation (no e-mail addresses, no settings). */
const STARTED_BY_KEYS = new Set(["exec.kind", "git.head", "git.headName", "git.author", "git.dirty"]);
const STARTED_BY_PREFIXES = ["ci.", "vcs."];

/** Checks a limit of operations (`limit` in the HTTP API, `--limit` in the CLI): a whole number from 1 to {@link MAX_OPERATIONS_LIMIT}. */
export function parseOperationsLimit(value: unknown, field = "limit"): number {
    const n = typeof value === "string" && /^\s*[0-9]+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_OPERATIONS_LIMIT) {
        throw new InputError(field, `must be a whole number from 1 to ${MAX_OPERATIONS_LIMIT}, got ${JSON.stringify(value)}`);
    }
    return n;
}

/** The entries of `pulumi stack history --json` (newest first) as {@link StackOperation}s, at most `limit`. */
export function operationsOf(history: unknown, limit: number = DEFAULT_OPERATIONS_LIMIT): StackOperation[] {
    if (!Array.isArray(history)) return [];
    return history.slice(0, limit).filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null).map(operationOf);
}

function operationOf(entry: Record<string, unknown>): StackOperation {
    const start = isoTime(entry.startTime) ?? new Date(0).toISOString();
    const end = isoTime(entry.endTime);
    const operation: StackOperation = {
        kind: typeof entry.kind === "string" ? entry.kind : "unknown",
        result: typeof entry.result === "string" ? entry.result : "unknown",
        startTime: start,
        changes: changesOf(entry.resourceChanges),
        startedBy: startedByOf(entry.environment),
    };
    if (end !== undefined) {
        operation.endTime = end;
        operation.durationMs = Math.max(0, Date.parse(end) - Date.parse(start));
    }
    if (typeof entry.message === "string" && entry.message !== "") operation.message = entry.message;
    if (typeof entry.version === "number") operation.version = entry.version;
    return operation;
}

/** ISO text of a history time: the CLI writes ISO strings; epoch seconds (the stored form) are taken too. */
function isoTime(value: unknown): string | undefined {
    const date = typeof value === "number" ? new Date(value * 1000) : typeof value === "string" || value instanceof Date ? new Date(value) : undefined;
    return date === undefined || Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function changesOf(value: unknown): ChangeCounts {
    if (typeof value !== "object" || value === null) return {};
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === "number"));
}

function startedByOf(value: unknown): Record<string, string> {
    if (typeof value !== "object" || value === null) return {};
    return Object.fromEntries(Object.entries(value).filter(([key, v]) =>
        typeof v === "string" && (STARTED_BY_KEYS.has(key) || STARTED_BY_PREFIXES.some((p) => key.startsWith(p)))) as [string, string][]);
}

/** Operation kinds that change what a stack deploys (a refresh or an import only reads). */
const DEPLOY_KINDS = new Set(["update", "destroy"]);

/**
 * The newest update or destroy of a stack's history (newest first), with `since`: the end of the
 * oldest operation of the newest run of deploys that ended the same way (kind and result), i.e.
 * when the stack last changed to this outcome, as far as the history reaches. Undefined without any.
 */
export function lastDeployOf(operations: readonly StackOperation[]): LastDeploy | undefined {
    const deploys = operations.filter((op) => DEPLOY_KINDS.has(op.kind));
    const newest = deploys[0];
    if (newest === undefined) return undefined;
    let since = newest.endTime;
    for (const op of deploys.slice(1)) {
        if (op.kind !== newest.kind || op.result !== newest.result) break;
        since = op.endTime ?? since;
    }
    const deploy: LastDeploy = { kind: newest.kind, result: newest.result, startTime: newest.startTime };
    if (newest.endTime !== undefined) deploy.endTime = newest.endTime;
    if (since !== undefined) deploy.since = since;
    return deploy;
}
