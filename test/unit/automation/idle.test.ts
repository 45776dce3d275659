import { runAutoSleep, AutoSleepDeps } from "../../../stacks/automation/gc-sleep";
import { idleDecision, inSleepWindow, nextRequestSample, parseRequestSample, parseSleepSchedule, requestsByNamespace, scheduleDecision } from "../../../stacks/automation/idle";
import { EnvironmentRecord, OperationResult } from "../../../stacks/automation/types";

/*
 * The decision logic of automatic sleep on metric samples. No ingress controller pod runs on the
 * local cluster (kwok runs no containers), so these samples, shaped like ingress-nginx's
 * /metrics page, are where the logic is tested.
 */

const METRICS = `# HELP nginx_ingress_controller_requests The total number of client requests
# TYPE nginx_ingress_controller_requests counter
nginx_ingress_controller_requests{canary="",controller_class="k8s.io/ingress-nginx",controller_namespace="ingress-nginx",controller_pod="c-1",host="pr-1.preview.example.com",ingress="app",method="GET",namespace="env-pr-1",path="/",service="app",status="200"} 41
nginx_ingress_controller_requests{canary="",controller_class="k8s.io/ingress-nginx",controller_namespace="ingress-nginx",controller_pod="c-1",host="pr-1.preview.example.com",ingress="app",method="POST",namespace="env-pr-1",path="/",service="app",status="503"} 1
nginx_ingress_controller_requests{ingress="app",method="GET",namespace="env-pr-2",path="/a\\"b",status="200"} 7 1733550000000
nginx_ingress_controller_request_duration_seconds_count{namespace="env-pr-3"} 99
nginx_ingress_controller_requests{namespace="env-pr-4"} not-a-number
`;

const minutes = (n: number) => n * 60_000;
const at = (iso: string) => new Date(iso);

describe("idle previews from ingress-nginx's request counter (idle.ts)", () => {
    it("sums the request counter per Ingress namespace, skipping other metrics and bad lines", () => {
        expect([...requestsByNamespace(METRICS)]).toEqual([["env-pr-1", 42], ["env-pr-2", 7]]);
        expect(requestsByNamespace("")).toEqual(new Map());
    });

    it("keeps the counter's last value and when it last moved; a moved counter (also down, after a restart) is activity now", () => {
        const now = at("2026-12-07T10:00:00.000Z");
        const previous = { count: 42, changedAt: "2026-12-07T08:00:00.000Z" };
        expect(nextRequestSample(undefined, 42, now)).toEqual({ count: 42, changedAt: now.toISOString() });
        expect(nextRequestSample(previous, 42, now)).toBe(previous);
        expect(nextRequestSample(previous, 50, now)).toEqual({ count: 50, changedAt: now.toISOString() });
        expect(nextRequestSample(previous, 3, now)).toEqual({ count: 3, changedAt: now.toISOString() });
        expect(parseRequestSample("42@2026-12-07T08:00:00.000Z")).toEqual(previous);
        for (const bad of [undefined, "", "42", "x@2026-12-07T08:00:00.000Z", "42@tomorrow"]) expect(parseRequestSample(bad)).toBeUndefined();
    });

    it("sleeps only after the idle time without a deploy and without a request; never without a sample, never twice", () => {
        const now = at("2026-12-07T10:00:00.000Z");
        const quiet = { count: 42, changedAt: "2026-12-07T07:00:00.000Z" };
        expect(idleDecision({ updatedAt: "2026-12-07T06:00:00.000Z" }, quiet, minutes(120), now)).toEqual({ sleep: true, detail: "no deploy or request for 180 min (idle time 120 min)" });
        expect(idleDecision({ updatedAt: "2026-12-07T09:30:00.000Z" }, quiet, minutes(120), now)).toEqual({ sleep: false, detail: "active 30 min ago" });
        expect(idleDecision({ updatedAt: "2026-12-07T06:00:00.000Z" }, { count: 43, changedAt: "2026-12-07T09:59:00.000Z" }, minutes(120), now).sleep).toBe(false);
        expect(idleDecision({ updatedAt: "2026-12-07T06:00:00.000Z" }, undefined, minutes(120), now)).toEqual({ sleep: false, detail: "no request count seen yet" });
        expect(idleDecision({ updatedAt: "2026-12-07T06:00:00.000Z", sleepingSince: "2026-12-07T07:00:00.000Z" }, quiet, minutes(120), now)).toEqual({ sleep: false, detail: "already asleep" });
    });
});

describe("sleep schedules (idle.ts)", () => {
    const nights = parseSleepSchedule("0 20 * * 1-5; 0 7 * * 1-5");

    it("sleeps between a sleep time and the next wake time: weekday nights, and the weekend from Friday night to Monday morning", () => {
        expect(inSleepWindow(nights, at("2026-12-07T12:00:00Z"))).toBe(false); // Monday noon
        expect(inSleepWindow(nights, at("2026-12-07T21:00:00Z"))).toBe(true); // Monday night
        expect(inSleepWindow(nights, at("2026-12-08T06:59:00Z"))).toBe(true); // Tuesday before seven
        expect(inSleepWindow(nights, at("2026-12-08T07:01:00Z"))).toBe(false);
        expect(inSleepWindow(nights, at("2026-12-12T12:00:00Z"))).toBe(true); // Saturday
        expect(inSleepWindow(nights, at("2026-12-14T06:00:00Z"))).toBe(true); // Monday early
    });

    it("honours the time zone", () => {
        const berlin = parseSleepSchedule("0 20 * * 1-5; 0 7 * * 1-5; Europe/Berlin");
        expect(berlin.timezone).toBe("Europe/Berlin");
        expect(inSleepWindow(berlin, at("2026-12-07T19:30:00Z"))).toBe(true); // 20:30 in Berlin
        expect(inSleepWindow(nights, at("2026-12-07T19:30:00Z"))).toBe(false);
    });

    it("wakes only what the schedule put to sleep", () => {
        const day = at("2026-12-07T12:00:00Z");
        const night = at("2026-12-07T21:00:00Z");
        expect(scheduleDecision({}, nights, night)).toBe("sleep");
        expect(scheduleDecision({ sleepingSince: "x", sleepReason: "schedule" }, nights, night)).toBeUndefined();
        expect(scheduleDecision({ sleepingSince: "x", sleepReason: "schedule" }, nights, day)).toBe("wake");
        expect(scheduleDecision({ sleepingSince: "x", sleepReason: "manual" }, nights, day)).toBeUndefined();
        expect(scheduleDecision({ sleepingSince: "x", sleepReason: "idle" }, nights, day)).toBeUndefined();
        expect(scheduleDecision({}, nights, day)).toBeUndefined();
    });

    it("refuses a malformed schedule, naming the field", () => {
        expect(() => parseSleepSchedule("0 20 * * 1-5", "--sleep-schedule")).toThrow('--sleep-schedule: must be "<sleep cron>; <wake cron>[; <time zone>]"');
        expect(() => parseSleepSchedule("every night; 0 7 * * *", "--sleep-schedule")).toThrow('--sleep-schedule: the sleep time "every night" is not a cron expression');
        expect(() => parseSleepSchedule("0 20 * * *; 0 7 * * *; Mars/Olympus", "--sleep-schedule")).toThrow("--sleep-schedule: \"Mars/Olympus\" is not a time zone; use an IANA name such as Europe/Berlin or UTC");
    });
});

describe("an auto-sleep round (gc-sleep.ts)", () => {
    const record = (pr: number, extra: Partial<EnvironmentRecord> = {}): EnvironmentRecord =>
        ({ stack: `pr-${pr}`, kind: "preview", pr, namespace: `env-pr-${pr}`, updatedAt: "2026-12-07T01:00:00.000Z", ...extra });
    const done = (stack: string): OperationResult => ({ action: "up", stack, kind: "preview", status: "succeeded", durations: { totalMs: 0, waitMs: 0, runMs: 0 } });

    function fakes(previews: EnvironmentRecord[], samples: Record<string, string>, metrics: string | Error) {
        const calls: string[] = [];
        const stored = { ...samples };
        const deps: AutoSleepDeps = {
            listPreviews: async () => previews,
            sleep: async (r, reason) => (calls.push(`sleep ${r.stack} ${reason}`), done(r.stack)),
            wake: async (r) => (calls.push(`wake ${r.stack}`), done(r.stack)),
            metrics: async () => {
                if (metrics instanceof Error) throw metrics;
                return metrics;
            },
            readSample: async (ns) => stored[ns],
            writeSample: async (ns, value) => void (stored[ns] = value),
        };
        return { deps, calls, stored };
    }

    const now = at("2026-12-07T12:00:00.000Z");

    it("sleeps the previews whose counter did not move for the idle time, stores new samples, and leaves the others", async () => {
        const { deps, calls, stored } = fakes([record(1), record(2), record(5), record(6, { sleepingSince: "2026-12-07T02:00:00.000Z" })], {
            "env-pr-1": "42@2026-12-07T08:00:00.000Z", // unchanged since 08:00: idle 4 h
            "env-pr-2": "3@2026-12-07T08:00:00.000Z", // moved to 7: active now
        }, METRICS);
        const report = await runAutoSleep(deps, { idleMs: minutes(120), now });
        expect(calls).toEqual(["sleep pr-1 idle"]);
        expect(report.actions).toEqual([{ stack: "pr-1", action: "sleep", reason: "idle", detail: "no deploy or request for 240 min (idle time 120 min)", status: "succeeded" }]);
        expect(stored).toEqual({ "env-pr-1": "42@2026-12-07T08:00:00.000Z", "env-pr-2": `7@${now.toISOString()}`, "env-pr-5": `0@${now.toISOString()}` });
        expect(report.errors).toEqual([]);
    });

    it("skips idle sleep when the metrics cannot be read, but still applies the schedule", async () => {
        const { deps, calls } = fakes([record(1), record(2, { sleepingSince: "x", sleepReason: "schedule" })], { "env-pr-1": "42@2026-12-07T08:00:00.000Z" }, new Error("connect ECONNREFUSED"));
        const report = await runAutoSleep(deps, { idleMs: minutes(120), schedule: parseSleepSchedule("0 20 * * 1-5; 0 7 * * 1-5"), now });
        expect(calls).toEqual(["wake pr-2"]);
        expect(report.errors).toEqual(["ingress metrics: connect ECONNREFUSED; no preview was put to sleep for idleness"]);
    });

    it("only reports in a dry run: no sleep, no wake, no sample written", async () => {
        const { deps, calls, stored } = fakes([record(1)], { "env-pr-1": "42@2026-12-07T08:00:00.000Z" }, METRICS);
        const report = await runAutoSleep(deps, { idleMs: minutes(120), now, dryRun: true, schedule: parseSleepSchedule("0 20 * * *; 0 7 * * *") });
        expect(report.actions.map((a) => [a.stack, a.action, a.status])).toEqual([["pr-1", "sleep", undefined]]);
        expect(calls).toEqual([]);
        expect(stored).toEqual({ "env-pr-1": "42@2026-12-07T08:00:00.000Z" });
    });
});
