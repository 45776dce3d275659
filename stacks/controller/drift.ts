import { EnvironmentStatus } from "../resources/types";

/**
 * When an Environment's next drift check is due. Every replica computes the same time from the
 * status alone (the last check, else the last operation), so whichever replica takes the
 * Environment's Lease then does the check, and a replica that restarts keeps the schedule.
 * The interval is jittered by up to ±10% per Environment and per round, so that Environments
 * created together (12 applied at once) do not all come due in the same second on every replica.
 * Pure.
 */

/** The share of the interval a check may come early or late. */
export const DRIFT_JITTER = 0.1;

/** A number in [0, 1) from `text` (FNV-1a): the same on every replica, spread over keys. */
export function unitHash(text: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash / 2 ** 32;
}

/** Epoch milliseconds of the next drift check of an Environment with `status` and `uid`. */
export function driftDueAt(status: EnvironmentStatus, uid: string, intervalMs: number): number {
    const operation = status.lastOperation;
    const lastOperationEnd = operation === undefined ? 0 : Date.parse(operation.start) + operation.durationMs;
    const lastCheck = status.drift === undefined ? 0 : Date.parse(status.drift.checkedAt);
    // A time that does not parse (NaN) counts as never.
    const since = Math.max(...[lastOperationEnd, lastCheck].filter(Number.isFinite), 0);
    const factor = 1 - DRIFT_JITTER + 2 * DRIFT_JITTER * unitHash(`${uid}/${since}`);
    return since + Math.round(intervalMs * factor);
}
