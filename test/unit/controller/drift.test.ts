import { condition } from "../../../stacks/controller/conditions";
import { DRIFT_JITTER, driftDueAt, unitHash } from "../../../stacks/controller/drift";
import { controllerOptions, DEFAULT_DRIFT_INTERVAL_MS, parseDriftInterval } from "../../../stacks/controller/index";
import { Reconciler } from "../../../stacks/controller/reconcile";
import type { DriftedResource } from "../../../stacks/automation/types";
import { FakeApi, FakeStacks } from "./fakes";

const NS = "catalyst-system";
const MINUTE = 60_000;
const preview = { project: "web", type: "preview" as const, pullRequest: 7, branch: "feat/x", image: "nginx:1.27.4" };
const scaled: DriftedResource = { urn: "urn:pulumi:pr-7::catalyst::kubernetes:apps/v1:Deployment::app", type: "kubernetes:apps/v1:Deployment", name: "app", op: "update", properties: ["spec.replicas"] };

/** A Ready preview pr-7 at `clock.now`, reconciled by a Reconciler with a 10-minute drift interval. */
async function readyPreview(intervalMs = 10 * MINUTE) {
    const clock = { now: 1_000_000_000 };
    const api = new FakeApi();
    const stacks = new FakeStacks();
    api.addProject("web", { services: { postgres: false, redis: false } });
    api.addEnvironment("pr-7", preview);
    const reconciler = new Reconciler(api, stacks, { identity: "r1", maxFailures: 3, backoffBaseMs: 1000, backoffMaxMs: 60_000, driftIntervalMs: intervalMs, now: () => clock.now });
    expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "reconciled" });
    stacks.calls = [];
    api.events = [];
    const env = () => api.environments.get(`${NS}/pr-7`)!;
    const drifted = () => condition(env().status?.conditions, "Drifted");
    return { clock, api, stacks, reconciler, env, drifted };
}

describe("driftDueAt", () => {
    const start = new Date(1_000_000).toISOString();
    it("counts from the later of the last operation's end and the last check, jittered by at most ±10%", () => {
        const afterUp = driftDueAt({ lastOperation: { action: "up", result: "succeeded", start, durationMs: 5000 } }, "uid-a", MINUTE);
        expect(afterUp).toBeGreaterThanOrEqual(1_005_000 + MINUTE * (1 - DRIFT_JITTER));
        expect(afterUp).toBeLessThanOrEqual(1_005_000 + MINUTE * (1 + DRIFT_JITTER));
        const checked = new Date(2_000_000).toISOString();
        const afterCheck = driftDueAt({ lastOperation: { action: "up", result: "succeeded", start, durationMs: 5000 }, drift: { checkedAt: checked, result: "succeeded", durationMs: 1 } }, "uid-a", MINUTE);
        expect(afterCheck).toBeGreaterThanOrEqual(2_000_000 + MINUTE * (1 - DRIFT_JITTER));
        expect(afterCheck).toBeLessThanOrEqual(2_000_000 + MINUTE * (1 + DRIFT_JITTER));
    });

    it("is the same on every replica, and Environments made together come due at different times", () => {
        const status = { lastOperation: { action: "up" as const, result: "succeeded", start, durationMs: 0 } };
        expect(driftDueAt(status, "uid-a", MINUTE)).toBe(driftDueAt(status, "uid-a", MINUTE));
        const times = new Set(Array.from({ length: 12 }, (_, i) => driftDueAt(status, `uid-${i}`, MINUTE)));
        expect(times.size).toBe(12);
        const fractions = Array.from({ length: 1000 }, (_, i) => unitHash(`key-${i}`));
        expect(Math.min(...fractions)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...fractions)).toBeLessThan(1);
        // Spread over the whole range, not bunched: each tenth gets some.
        for (let tenth = 0; tenth < 10; tenth++) expect(fractions.some((f) => Math.floor(f * 10) === tenth)).toBe(true);
    });
});

describe("drift checks of Ready Environments", () => {
    it("none before it is due; then a check through the library (busy answers at once) writes Drifted=False at the generation", async () => {
        const { clock, stacks, reconciler, env, drifted } = await readyPreview();
        const early = await reconciler.reconcile(NS, "pr-7");
        expect(early.result).toBe("unchanged");
        expect(early.requeueAfterMs).toBeGreaterThanOrEqual(9 * MINUTE);
        expect(early.requeueAfterMs).toBeLessThanOrEqual(11 * MINUTE);
        expect(stacks.calls).toEqual([]);

        clock.now += early.requeueAfterMs as number;
        stacks.results.push({ changes: { same: 9 } });
        const checked = await reconciler.reconcile(NS, "pr-7");
        expect(checked.result).toBe("clean");
        expect(stacks.calls).toEqual([{ action: "drift", stack: "pr-7--web", args: expect.objectContaining({ lockTimeoutMs: 0 }) }]);
        expect(drifted()).toMatchObject({ status: "False", reason: "NoDrift", observedGeneration: 1, message: "the objects of stack pr-7--web match its state (9 resources checked)" });
        expect(env().status?.drift).toMatchObject({ checkedAt: new Date(clock.now).toISOString(), result: "succeeded", resources: 0 });
        expect(condition(env().status?.conditions, "Ready")?.status).toBe("True");
        // The next one is an interval after this check.
        expect(checked.requeueAfterMs).toBeGreaterThanOrEqual(9 * MINUTE);
    });

    it("drift without repair: Drifted=True naming the resources, a Warning Event, no up", async () => {
        const { clock, stacks, reconciler, api, drifted } = await readyPreview();
        clock.now += 11 * MINUTE;
        stacks.results.push({ drift: [scaled], changes: { same: 8, update: 1 }, changed: true });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "drifted" });
        expect(drifted()).toMatchObject({
            status: "True", reason: "Drifted", observedGeneration: 1,
            message: "1 resource drifted: Deployment app (update: spec.replicas); not repaired: set spec.drift.repair on Project web to have the controller run up",
        });
        expect(api.events.map((e) => `${e.type} ${e.reason}`)).toEqual(["Warning Drifted"]);
        expect(stacks.calls.map((c) => c.action)).toEqual(["drift"]);
        // The same drift at the next check: the status is written again (the schedule), no new Event.
        clock.now += 11 * MINUTE;
        stacks.results.push({ drift: [scaled] });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "drifted" });
        expect(api.events).toHaveLength(1);
        expect(stacks.calls.map((c) => c.action)).toEqual(["drift", "drift"]);
    });

    it("a Project that asks for repair: the drifted Environment is checked at once and repaired by an up with a refresh first", async () => {
        const { clock, stacks, reconciler, api, env, drifted } = await readyPreview();
        clock.now += 11 * MINUTE;
        stacks.results.push({ drift: [scaled] });
        await reconciler.reconcile(NS, "pr-7");
        expect(drifted()?.reason).toBe("Drifted");

        api.projects.get(`${NS}/web`)!.spec.drift = { repair: true };
        clock.now += 1000;
        stacks.results.push({ drift: [scaled] }, { updateId: "4" });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "repaired" });
        expect(stacks.calls.map((c) => c.action)).toEqual(["drift", "drift", "up"]);
        expect(stacks.calls[2].args).toMatchObject({ pr: 7, image: "nginx:1.27.4", refresh: true });
        expect(drifted()).toMatchObject({ status: "False", reason: "Repaired", message: "repaired by up (update 4): 1 resource drifted: Deployment app (update: spec.replicas)" });
        expect(env().status?.lastOperation).toMatchObject({ action: "up", result: "succeeded", id: "4" });
        expect(env().status?.drift?.repairedAt).toBe(new Date(clock.now).toISOString());
        expect(api.events.map((e) => e.reason)).toEqual(["Drifted", "Drifted", "Repaired"]);
        // Repaired: nothing more until the next interval.
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "unchanged" });
        expect(stacks.calls).toHaveLength(3);
    });

    it("a failed repair leaves Drifted=True with the error and Ready as it was", async () => {
        const { clock, stacks, reconciler, api, env, drifted } = await readyPreview();
        api.projects.get(`${NS}/web`)!.spec.drift = { repair: true };
        clock.now += 11 * MINUTE;
        stacks.results.push({ drift: [{ ...scaled, op: "delete", properties: undefined }] }, { status: "failed", error: "the cluster said no" });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "failed" });
        expect(drifted()).toMatchObject({ status: "True", reason: "RepairFailed", message: "1 resource drifted: Deployment app (deleted); repair failed: the cluster said no; tried again at the next check" });
        expect(condition(env().status?.conditions, "Ready")?.status).toBe("True");
        expect(api.events.map((e) => e.reason)).toEqual(["Drifted", "RepairFailed"]);
    });

    it("a failed check: Drifted=Unknown with the error; a busy stack: nothing written, asked again soon", async () => {
        const { clock, stacks, reconciler, api, drifted } = await readyPreview();
        clock.now += 11 * MINUTE;
        stacks.results.push({ status: "busy", error: "pr-7 is locked" });
        const writes = api.statusWrites;
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "busy", requeueAfterMs: 30_000 });
        expect(api.statusWrites).toBe(writes);
        stacks.results.push({ status: "failed", error: "connection refused" });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "failed" });
        expect(drifted()).toMatchObject({ status: "Unknown", reason: "CheckFailed", message: "drift check of pr-7--web failed: connection refused; next try at the next check" });
    });

    it("an interval of 0: no drift checks at all", async () => {
        const { clock, stacks, reconciler } = await readyPreview(0);
        clock.now += 365 * 24 * 60 * MINUTE;
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "unchanged", requeueAfterMs: undefined });
        expect(stacks.calls).toEqual([]);
    });
});

describe("--drift-interval", () => {
    it("takes 0 or a duration of at least 5s; defaults to 10m; the variable is checked naming it", () => {
        expect(parseDriftInterval("0", "--drift-interval")).toBe(0);
        expect(parseDriftInterval("5s", "--drift-interval")).toBe(5000);
        expect(parseDriftInterval("1h30m", "--drift-interval")).toBe(90 * MINUTE);
        for (const bad of ["4s", "10", "soon", "-1m"]) {
            expect(() => parseDriftInterval(bad, "--drift-interval")).toThrow(`--drift-interval: must be 0 (no drift checks) or a duration of at least 5s such as 10m or 1h, got "${bad}"`);
        }
        expect(controllerOptions({}, {}).driftIntervalMs).toBe(DEFAULT_DRIFT_INTERVAL_MS);
        expect(controllerOptions({}, { CATALYST_CONTROLLER_DRIFT_INTERVAL: "30s" }).driftIntervalMs).toBe(30_000);
        expect(controllerOptions({ driftInterval: 7000 }, { CATALYST_CONTROLLER_DRIFT_INTERVAL: "30s" }).driftIntervalMs).toBe(7000);
        expect(() => controllerOptions({}, { CATALYST_CONTROLLER_DRIFT_INTERVAL: "1s" })).toThrow(/^CATALYST_CONTROLLER_DRIFT_INTERVAL: must be 0/);
    });
});
