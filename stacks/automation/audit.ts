import { appendFileSync, mkdirSync } from "fs";
import { userInfo } from "os";
import * as path from "path";
import { Action, OperationResult } from "./types";

/**
 * The audit log: one JSON line per operation (up, destroy, drift, gc), appended. It records who did
 * what to which stack and how it ended, never configuration values, outputs or secrets.
 */

/** One line of the audit log. */
export interface AuditRecord {
    /** ISO time the operation ended. */
    time: string;
    /** Who asked: CATALYST_ACTOR, GITHUB_ACTOR or the OS user. */
    actor: string;
    action: Action;
    stack: string;
    result: OperationResult["status"];
    /** The stack version the operation produced, when it ran. */
    updateId: string | null;
    durationMs: number;
    /** Pull request of a preview. */
    pr?: number;
    /** Why: `gc:expired`, `gc:closed`, ... */
    reason?: string;
    /** Destroy of an absent stack, up with no changes. */
    noop?: boolean;
    changed?: boolean;
    /** Drift checks: how many resources drifted. */
    drifted?: number;
    /** First line of the error, redacted and shortened. */
    error?: string;
}

/** The actor recorded in audit lines. */
export function defaultActor(env: NodeJS.ProcessEnv = process.env): string {
    const fromEnv = env.CATALYST_ACTOR ?? env.GITHUB_ACTOR;
    if (fromEnv !== undefined && fromEnv !== "") {
        return fromEnv;
    }
    try {
        return userInfo().username;
    } catch {
        return "unknown";
    }
}

const SECRET_ENV = /PASSPHRASE|TOKEN|SECRET|PASSWORD|KEY/i;

/**
 * Removes anything secret-looking from a message: values of secret environment variables,
 * `key=value` pairs whose key sounds secret, and bearer tokens. Keeps the first line, <= 300 chars.
 */
export function redact(message: string, env: NodeJS.ProcessEnv = process.env): string {
    let text = message.split("\n").find((line) => line.trim() !== "") ?? "";
    for (const [name, value] of Object.entries(env)) {
        if (value && value.length >= 6 && SECRET_ENV.test(name)) {
            text = text.split(value).join("[redacted]");
        }
    }
    text = text
        .replace(/\b(password|passphrase|token|secret|apikey|api_key)(\s*[=:]\s*)\S+/gi, "$1$2[redacted]")
        .replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]");
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Builds the audit line of a finished operation. Pure, apart from the default actor. */
export function auditRecord(result: OperationResult, actor: string, reason?: string): AuditRecord {
    const record: AuditRecord = {
        time: new Date().toISOString(),
        actor,
        action: result.action,
        stack: result.stack,
        result: result.status,
        updateId: result.updateId ?? null,
        durationMs: Math.round(result.durations.totalMs),
    };
    if (result.pr !== undefined) record.pr = result.pr;
    if (reason !== undefined) record.reason = reason;
    if (result.noop) record.noop = true;
    if (result.changed !== undefined) record.changed = result.changed;
    if (result.drift !== undefined) record.drifted = result.drift.length;
    if (result.error !== undefined) record.error = redact(result.error);
    return record;
}

/**
 * Appends one line to the audit log at `file`, creating its directory. A single `write` with
 * O_APPEND, so concurrent writers never interleave within a line.
 */
export function appendAudit(file: string, record: AuditRecord | Record<string, unknown>): void {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify(record)}\n`, { encoding: "utf8", mode: 0o600 });
}
