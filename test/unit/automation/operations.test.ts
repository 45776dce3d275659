import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Automation, AutomationOptions } from "../../../stacks/automation/operations";
import { withoutBackend } from "./no-backend";
import { CatalystEvent } from "../../../stacks/automation/types";
import { InputError } from "../../../stacks/automation/validation";

/*
 * The orchestration of stack operations (locks, queue, concurrency limit, timeouts, recovery,
 * audit, results) with a fake worker process instead of Pulumi: see fixtures/fake-worker.js.
 */
const workerPath = path.join(__dirname, "fixtures", "fake-worker.js");

describe("Automation operations (fake worker)", () => {
    let dir: string;
    let logFile: string;
    let auditLog: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-ops-"));
        logFile = path.join(dir, "worker.jsonl");
        auditLog = path.join(dir, "audit.log");
        process.env.FAKE_LOG = logFile;
    });
    afterEach(() => {
        delete process.env.FAKE_LOG;
        rmSync(dir, { recursive: true, force: true });
    });

    const make = (options: AutomationOptions = {}) =>
        withoutBackend(new Automation({ repoRoot: dir, workRoot: path.join(dir, "work"), auditLog, workerPath, actor: "tester", platformStack: "platform", ...options }));
    const worker = () => readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { phase: string; stack: string; action: string; time: number; pid: number });
    const audit = () => readFileSync(auditLog, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const preview = (pr: number, config: Record<string, unknown> = {}) => ({ pr, branch: "feat/x", config });

    it("bounds each destroy of preview gc by the timeout it is given (defect 3.4)", async () => {
        const automation = make();
        jest.spyOn(automation, "listPreviews").mockResolvedValue([{ stack: "pr-5", kind: "preview", pr: 5 }]);
        const destroy = jest.spyOn(automation, "destroyPreview");
        await automation.collectGarbage({ ttlMs: 0, timeoutMs: 5 * 60_000 });
        expect(destroy).toHaveBeenCalledWith(5, expect.objectContaining({ timeoutMs: 5 * 60_000 }));
    });

    it("refuses platform down while a stack's size is unknown (defect 3.4)", async () => {
        const automation = make();
        jest.spyOn(automation, "listEnvironments").mockResolvedValue([
            { stack: "platform", kind: "platform", resourceCount: 40 },
            { stack: "pr-5", kind: "preview", pr: 5 },
        ]);
        const result = await automation.destroyPlatform().result;
        expect(result.status).toBe("failed");
        expect(result.error).toBe("environment stacks may still hold resources (pr-5: size unknown); destroy them first");
    });

    it("returns url, namespace, status, update id and durations, and audits one line", async () => {
        const events: CatalystEvent[] = [];
        const result = await make().upPreview(preview(12), { onEvent: (e) => events.push(e) });
        expect(result).toMatchObject({
            action: "up", stack: "pr-12", kind: "preview", pr: 12, status: "succeeded", updateId: "3", changed: true,
            namespace: "env-pr-12", url: "http://pr-12.preview.test", outputs: { kubeconfig: "[secret]" },
        });
        expect(result.durations.totalMs).toBeGreaterThanOrEqual(result.durations.runMs);
        expect(events.map((e) => e.type)).toEqual(["step", "step", "resource", "done"]);
        expect(events.at(-1)).toMatchObject({ type: "done", status: "succeeded", result });
        expect(audit()).toEqual([expect.objectContaining({ actor: "tester", action: "up", stack: "pr-12", result: "succeeded", updateId: "3", pr: 12 })]);
    });

    it("validates before creating anything: bad input throws and leaves no work dir or audit line", () => {
        const automation = make();
        expect(() => automation.upPreview({ pr: "production", branch: "main" })).toThrow(InputError);
        expect(() => automation.upPreview({ pr: 1, branch: "bad branch" })).toThrow(/^branch: must be a git branch name/);
        expect(() => automation.upPreview({ pr: 1, branch: "main", ttl: "soon" })).toThrow(/^ttl: must be a duration/);
        expect(() => automation.destroyPreview(-3)).toThrow("pr: must be a positive whole number, got -3");
        expect(() => automation.up("pr-3")).toThrow(/is a preview/);
        expect(existsSync(path.join(dir, "work"))).toBe(false);
        expect(existsSync(auditLog)).toBe(false);
    });

    it("queues a second operation on the same stack behind the first (FIFO), both succeed", async () => {
        const automation = make();
        const seen: CatalystEvent[] = [];
        const first = automation.upPreview(preview(5, { "fake:sleepMs": 200 }));
        const second = automation.upPreview(preview(5, { "fake:same": true }), { onEvent: (e) => seen.push(e) });
        const [a, b] = await Promise.all([first, second]);
        expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
        expect(b.changed).toBe(false);
        expect(b.durations.waitMs).toBeGreaterThanOrEqual(150);
        expect(seen.some((e) => e.type === "step" && e.step === "waiting")).toBe(true);
        const log = worker();
        const ends = log.filter((e) => e.phase === "end");
        const starts = log.filter((e) => e.phase === "start");
        expect(starts[1].time).toBeGreaterThanOrEqual(ends[0].time);
    });

    it("answers busy at once with a lock timeout of 0, and audits it", async () => {
        const automation = make();
        const first = automation.upPreview(preview(6, { "fake:sleepMs": 200 }));
        const second = await automation.upPreview(preview(6), { lockTimeoutMs: 0 });
        expect(second).toMatchObject({ status: "busy", error: "pr-6 is busy (another operation in this process); waited 0s" });
        expect((await first).status).toBe("succeeded");
        expect(audit().map((l) => l.result).sort()).toEqual(["busy", "succeeded"]);
    });

    it("makes a second process wait too (lock file next to the work dirs)", async () => {
        const one = make();
        const two = make();
        const [a, b] = await Promise.all([one.upPreview(preview(7, { "fake:sleepMs": 200 })), two.upPreview(preview(7), { lockTimeoutMs: 50 })]);
        expect(a.status).toBe("succeeded");
        expect(b).toMatchObject({ status: "busy" });
        expect(b.error).toMatch(/^pr-7 is busy \(up by pid \d+ on /);
    });

    it("answers busy when no operation slot comes free within the wait (defect 3.5)", async () => {
        const automation = make({ concurrency: 1 });
        const first = automation.upPreview(preview(1, { "fake:sleepMs": 3000 }));
        const second = await automation.upPreview(preview(2), { lockTimeoutMs: 200 }).result;
        expect(second.status).toBe("busy");
        expect(second.error).toBe("an operation slot is busy (all 1 slots in use); waited 0s");
        expect((await first.result).status).toBe("succeeded");
    });

    it("runs at most `concurrency` stack operations at once", async () => {
        const automation = make({ concurrency: 2 });
        const results = await Promise.all([1, 2, 3, 4, 5].map((pr) => automation.upPreview(preview(pr, { "fake:sleepMs": 150 }))));
        expect(results.every((r) => r.status === "succeeded")).toBe(true);
        const log = worker();
        const points = log.filter((e) => e.phase !== "grandchild").map((e) => ({ time: e.time, delta: e.phase === "start" ? 1 : -1 }));
        points.sort((x, y) => x.time - y.time || x.delta - y.delta);
        let running = 0;
        let peak = 0;
        for (const p of points) {
            running += p.delta;
            peak = Math.max(peak, running);
        }
        expect(peak).toBe(2);
    });

    it("counts destroys against a cap of their own: they do not wait for ups, nor ups for them", async () => {
        process.env.FAKE_SLEEP_MS = "400";
        try {
            const automation = make({ concurrency: 1, destroyConcurrency: 2 });
            const ups = [1, 2].map((pr) => automation.upPreview(preview(pr, { "fake:sleepMs": 400 })));
            const downs = [3, 4, 5].map((pr) => automation.destroyPreview(pr));
            expect((await Promise.all([...ups, ...downs].map((op) => op.result))).map((r) => r.status)).toEqual(Array(5).fill("succeeded"));
        } finally {
            delete process.env.FAKE_SLEEP_MS;
        }
        const log = worker().filter((e) => e.phase === "start" || e.phase === "end");
        const peak = (action: string) => {
            let running = 0, most = 0;
            for (const e of log.filter((l) => l.action === action).sort((x, y) => x.time - y.time)) {
                running += e.phase === "start" ? 1 : -1;
                most = Math.max(most, running);
            }
            return most;
        };
        expect(peak("up")).toBe(1);
        expect(peak("destroy")).toBe(2);
        // The first destroy started before the first up ended: no destroy queued behind an up.
        const firstUpEnd = Math.min(...log.filter((e) => e.action === "up" && e.phase === "end").map((e) => e.time));
        expect(Math.min(...log.filter((e) => e.action === "destroy" && e.phase === "start").map((e) => e.time))).toBeLessThan(firstUpEnd);
    });

    it("hands the hosts a caller names dead to the worker, and only when named", async () => {
        const automation = make();
        await automation.upPreview(preview(14), { deadLockHosts: ["catalyst-controller-7d9f-abcde"] });
        await automation.upPreview(preview(15));
        const starts = worker().filter((e) => e.phase === "start") as unknown as { stack: string; deadLockHosts?: string[] }[];
        expect(starts.map((e) => [e.stack, e.deadLockHosts])).toEqual([["pr-14", ["catalyst-controller-7d9f-abcde"]], ["pr-15", undefined]]);
    });

    it("times out: SIGINT, SIGKILL, then a recovery worker; the result says timed-out", async () => {
        // A timeout a loaded machine can meet: the worker must have started and ignored SIGINT.
        const result = await make({ graceMs: 200 }).upPreview(preview(8, { "fake:mode": "ignore-sigint" }), { timeoutMs: 2000 });
        expect(result).toMatchObject({ status: "timed-out", recovered: true, error: "timed out after 2s (killed)" });
        expect(result.durations.recoveryMs).toBeGreaterThan(0);
        expect(worker().filter((e) => e.phase === "start").map((e) => e.action)).toEqual(["up", "recover"]);
        expect(audit()).toEqual([expect.objectContaining({ result: "timed-out", stack: "pr-8" })]);
    });

    it("reports a worker crash as failed and recovers the stack", async () => {
        const result = await make().upPreview(preview(9, { "fake:mode": "crash" }));
        expect(result.status).toBe("failed");
        expect(result.error).toMatch(/^worker exited \(code 7/);
        expect(worker().map((e) => e.action)).toContain("recover");
    });

    it("passes on busy from the backend lock", async () => {
        const result = await make().upPreview(preview(10, { "fake:mode": "busy" }));
        expect(result).toMatchObject({ status: "busy", error: "pr-10 is locked by ci@elsewhere pid 1 in the backend" });
    });

    it("destroys a preview and removes its work dir", async () => {
        const automation = make();
        await automation.upPreview(preview(11));
        const result = await automation.destroyPreview(11);
        expect(result).toMatchObject({ action: "destroy", stack: "pr-11", status: "succeeded", changes: { delete: 1 }, namespace: "env-pr-11" });
        expect(existsSync(path.join(dir, "work", "pr-11"))).toBe(false);
        expect(audit().map((l) => l.action)).toEqual(["up", "destroy"]);
    });

    it("can be iterated for progress", async () => {
        const types: string[] = [];
        for await (const event of make().upPreview(preview(13))) {
            types.push(event.type);
        }
        expect(types.at(-1)).toBe("done");
    });
});

describe("a failed up names its failing resource (fake worker)", () => {
    it("reports the engine's one-line reason and the resource it failed first", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "catalyst-fail-"));
        try {
            const automation = withoutBackend(new Automation({ repoRoot: dir, workRoot: path.join(dir, "work"), auditLog: path.join(dir, "audit.log"), workerPath, actor: "t", platformStack: "platform", previewLimits: {} }));
            const result = await automation.upPreview({ pr: 4, branch: "feat/x", config: { "fake:mode": "fail" } }).result;
            expect(result).toMatchObject({
                status: "failed",
                error: "the Deployment did not become ready: 0 of 1 replicas available",
                failedResource: { urn: "urn:pulumi:pr-4::catalyst::catalyst:environment:App$kubernetes:apps/v1:Deployment::app", type: "kubernetes:apps/v1:Deployment", name: "app" },
            });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
