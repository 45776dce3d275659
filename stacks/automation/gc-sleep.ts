import { idleDecision, nextRequestSample, parseRequestSample, formatRequestSample, requestsByNamespace, scheduleDecision, SleepSchedule } from "./idle";
import { SleepReason } from "./sleep";
import { EnvironmentRecord, OperationResult } from "./types";

/**
 * The automatic part of sleep, run by `catalyst preview gc` (which already runs periodically:
 * the preview workflow's schedule, a cron job, the controller's host): previews idle for the
 * idle time go to sleep, and a schedule sleeps and wakes previews (idle.ts decides; this runs
 * it). Dependencies are injected, so every path is unit-tested without a cluster.
 */

/** What an auto-sleep run needs. */
export interface AutoSleepDeps {
    listPreviews(): Promise<EnvironmentRecord[]>;
    sleep(record: EnvironmentRecord, reason: SleepReason): Promise<OperationResult>;
    wake(record: EnvironmentRecord): Promise<OperationResult>;
    /** The ingress controller's metrics text (for idle). */
    metrics(): Promise<string>;
    /** The stored request sample of a namespace, and its write. */
    readSample(namespace: string): Promise<string | undefined>;
    writeSample(namespace: string, value: string): Promise<void>;
}

/** Options of an auto-sleep run. */
export interface AutoSleepOptions {
    /** Sleep previews with no deploy and no request for this long (undefined: no idle sleep). */
    idleMs?: number;
    schedule?: SleepSchedule;
    /** Only report. */
    dryRun?: boolean;
    now?: Date;
}

/** One preview's outcome. */
export interface AutoSleepAction {
    stack: string;
    action: "sleep" | "wake";
    reason: SleepReason;
    detail: string;
    status?: OperationResult["status"];
}

/** What an auto-sleep run did. */
export interface AutoSleepReport {
    actions: AutoSleepAction[];
    errors: string[];
}

/**
 * Runs one round: the schedule first (it both sleeps and wakes), then idleness for previews the
 * schedule left awake. Metrics that cannot be read skip idle sleep (an error in the report),
 * never the schedule. Failures of one preview do not stop the others.
 */
export async function runAutoSleep(deps: AutoSleepDeps, options: AutoSleepOptions): Promise<AutoSleepReport> {
    const now = options.now ?? new Date();
    const report: AutoSleepReport = { actions: [], errors: [] };
    const previews = await deps.listPreviews();
    let counts: Map<string, number> | undefined;
    if (options.idleMs !== undefined) {
        try {
            counts = requestsByNamespace(await deps.metrics());
        } catch (err) {
            report.errors.push(`ingress metrics: ${(err as Error).message.split("\n")[0]}; no preview was put to sleep for idleness`);
        }
    }
    for (const record of previews) {
        try {
            const scheduled = options.schedule === undefined ? undefined : scheduleDecision(record, options.schedule, now);
            if (scheduled !== undefined) {
                report.actions.push(await act(deps, record, scheduled, "schedule", scheduled === "sleep" ? "inside the sleep schedule" : "the sleep schedule ended", options.dryRun));
                continue;
            }
            if (counts === undefined || options.idleMs === undefined || record.namespace === undefined || record.sleepingSince !== undefined) continue;
            const previous = parseRequestSample(await deps.readSample(record.namespace));
            // No series for the namespace yet: no request since the controller started, which is a count of 0.
            const sample = nextRequestSample(previous, counts.get(record.namespace) ?? 0, now);
            if (sample !== undefined && sample !== previous && !options.dryRun) await deps.writeSample(record.namespace, formatRequestSample(sample));
            // A first sample counts as activity now: nothing sleeps before one idle time was watched.
            const decision = idleDecision(record, sample, options.idleMs, now);
            if (decision.sleep) report.actions.push(await act(deps, record, "sleep", "idle", decision.detail, options.dryRun));
        } catch (err) {
            report.errors.push(`${record.stack}: ${(err as Error).message.split("\n")[0]}`);
        }
    }
    return report;
}

async function act(deps: AutoSleepDeps, record: EnvironmentRecord, action: "sleep" | "wake", reason: SleepReason, detail: string, dryRun?: boolean): Promise<AutoSleepAction> {
    if (dryRun) return { stack: record.stack, action, reason, detail };
    const result = action === "sleep" ? await deps.sleep(record, reason) : await deps.wake(record);
    return { stack: record.stack, action, reason, detail, status: result.status };
}
