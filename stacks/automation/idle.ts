import { CronExpressionParser } from "cron-parser";
import { InputError } from "./validation";
import { EnvironmentRecord } from "./types";

/**
 * When a preview goes to sleep by itself (`catalyst preview gc --sleep-idle`, `--sleep-schedule`):
 *
 * - **Idle**: no deploy and no request through its Ingress for the idle time. Requests are read
 *   from the ingress controller's Prometheus metrics (`nginx_ingress_controller_requests`, a
 *   counter per Ingress namespace, which ingress-nginx exports with metrics on, as the platform
 *   installs it), not from its access log: one HTTP read per gc run instead of shipping and
 *   parsing logs. A counter says how many requests there were since the controller started, not
 *   when; so each gc run keeps the last value it saw per preview and when it last moved
 *   (`<count>@<time>`, in a ConfigMap of the preview's namespace: activity.ts). A counter that moved (up, or down after a
 *   controller restart) is activity now. The first sample of a preview is activity too: nothing
 *   sleeps before one idle time has been watched.
 * - **Schedule**: two cron expressions (cron-parser, a well-kept parser with time zones and
 *   `prev()`): when to sleep (`0 20 * * 1-5`: weekday evenings) and when to wake (`0 7 * * 1-5`):
 *   between a sleep time and the next wake time a preview sleeps; a weekend is simply a Friday
 *   sleep with no wake until Monday. Previews that the schedule put to sleep are woken by it;
 *   previews put to sleep by hand or for idleness are not.
 *
 * All pure: gc (gc-sleep.ts) gathers the inputs and runs the sleeps and wakes.
 */

/** The metric ingress-nginx counts requests in (label `namespace`: the Ingress's namespace). */
export const REQUESTS_METRIC = "nginx_ingress_controller_requests";

/**
 * Sums {@link REQUESTS_METRIC} per Ingress namespace from the Prometheus text format. Only the
 * sample lines of that metric are read (`name{labels} value [timestamp]`); label values may hold
 * escaped quotes. Lines of other metrics, comments and malformed lines are skipped.
 */
export function requestsByNamespace(text: string): Map<string, number> {
    const totals = new Map<string, number>();
    for (const line of text.split("\n")) {
        if (!line.startsWith(`${REQUESTS_METRIC}{`)) continue;
        const close = line.lastIndexOf("}");
        if (close < 0) continue;
        const labels = line.slice(REQUESTS_METRIC.length + 1, close);
        const value = Number(line.slice(close + 1).trim().split(/\s+/)[0]);
        const namespace = /(?:^|,)namespace="((?:[^"\\]|\\.)*)"/.exec(labels)?.[1];
        if (namespace === undefined || !Number.isFinite(value)) continue;
        totals.set(namespace, (totals.get(namespace) ?? 0) + value);
    }
    return totals;
}

/** The last request count seen for a preview and when it last changed (activity.ts stores it). */
export interface RequestSample {
    count: number;
    /** ISO time the count last moved (or was first seen). */
    changedAt: string;
}

/** Reads the tag value `<count>@<ISO time>`; undefined when missing or not in that form. */
export function parseRequestSample(value: string | undefined): RequestSample | undefined {
    const match = /^([0-9]+(?:\.[0-9]+)?)@(.+)$/.exec(value ?? "");
    if (match === null || Number.isNaN(Date.parse(match[2]))) return undefined;
    return { count: Number(match[1]), changedAt: match[2] };
}

/** The tag value of a sample. */
export function formatRequestSample(sample: RequestSample): string {
    return `${sample.count}@${sample.changedAt}`;
}

/** A preview's activity after this gc run's sample: the new sample, and its last activity. */
export function nextRequestSample(previous: RequestSample | undefined, count: number | undefined, now: Date): RequestSample | undefined {
    if (count === undefined) return previous;
    if (previous === undefined || previous.count !== count) return { count, changedAt: now.toISOString() };
    return previous;
}

/** Why {@link idleDecision} sleeps a preview, or why not. */
export interface IdleDecision {
    sleep: boolean;
    /** One line for the gc report. */
    detail: string;
}

/**
 * Whether an awake preview has been idle for `idleMs` at `now`: its last deploy (`updatedAt`,
 * which sleep and wake also set) and its last request (the sample's `changedAt`) both older.
 * Without a sample (no metrics, or none yet) it never sleeps for idleness.
 */
export function idleDecision(record: Pick<EnvironmentRecord, "updatedAt" | "sleepingSince">, sample: RequestSample | undefined, idleMs: number, now: Date): IdleDecision {
    if (record.sleepingSince !== undefined) return { sleep: false, detail: "already asleep" };
    if (sample === undefined) return { sleep: false, detail: "no request count seen yet" };
    const lastDeploy = Date.parse(record.updatedAt ?? "");
    const last = Math.max(Number.isNaN(lastDeploy) ? 0 : lastDeploy, Date.parse(sample.changedAt));
    const idle = now.getTime() - last;
    return idle >= idleMs
        ? { sleep: true, detail: `no deploy or request for ${Math.floor(idle / 60_000)} min (idle time ${Math.floor(idleMs / 60_000)} min)` }
        : { sleep: false, detail: `active ${Math.floor(idle / 60_000)} min ago` };
}

/** A sleep schedule: cron expressions of when previews sleep and when they wake, in a time zone. */
export interface SleepSchedule {
    sleep: string;
    wake: string;
    /** IANA time zone (default UTC). */
    timezone?: string;
}

/**
 * Parses `<sleep cron>;<wake cron>[;<time zone>]` (CATALYST_SLEEP_SCHEDULE, `--sleep-schedule`),
 * e.g. `0 20 * * 1-5; 0 7 * * 1-5; Europe/Berlin`: weekday nights and the weekend. Throws
 * {@link InputError} naming `field`.
 */
export function parseSleepSchedule(text: string, field = "sleep-schedule"): SleepSchedule {
    const parts = text.split(";").map((part) => part.trim());
    if (parts.length < 2 || parts.length > 3 || parts[0] === "" || parts[1] === "") {
        throw new InputError(field, `must be "<sleep cron>; <wake cron>[; <time zone>]", e.g. "0 20 * * 1-5; 0 7 * * 1-5; Europe/Berlin"; got ${JSON.stringify(text)}`);
    }
    const schedule: SleepSchedule = { sleep: parts[0], wake: parts[1], ...(parts[2] ? { timezone: parts[2] } : {}) };
    if (schedule.timezone !== undefined) {
        try {
            new Intl.DateTimeFormat("en", { timeZone: schedule.timezone });
        } catch {
            throw new InputError(field, `${JSON.stringify(schedule.timezone)} is not a time zone; use an IANA name such as Europe/Berlin or UTC`);
        }
    }
    for (const [which, expression] of [["sleep", schedule.sleep], ["wake", schedule.wake]] as const) {
        try {
            CronExpressionParser.parse(expression, { tz: schedule.timezone ?? "UTC" });
        } catch (err) {
            throw new InputError(field, `the ${which} time ${JSON.stringify(expression)} is not a cron expression (minute hour day month weekday) in time zone ${schedule.timezone ?? "UTC"}: ${(err as Error).message}`);
        }
    }
    return schedule;
}

function previous(expression: string, now: Date, timezone: string): number {
    return CronExpressionParser.parse(expression, { currentDate: now, tz: timezone }).prev().getTime();
}

/** True when `now` lies between a sleep time of the schedule and the next wake time. */
export function inSleepWindow(schedule: SleepSchedule, now: Date): boolean {
    const timezone = schedule.timezone ?? "UTC";
    return previous(schedule.sleep, now, timezone) > previous(schedule.wake, now, timezone);
}

/** What the schedule does to one preview now: sleep it, wake it (only if the schedule slept it), or nothing. */
export function scheduleDecision(record: Pick<EnvironmentRecord, "sleepingSince" | "sleepReason">, schedule: SleepSchedule, now: Date): "sleep" | "wake" | undefined {
    const window = inSleepWindow(schedule, now);
    if (window && record.sleepingSince === undefined) return "sleep";
    if (!window && record.sleepingSince !== undefined && record.sleepReason === "schedule") return "wake";
    return undefined;
}
