import type { CatalystEvent } from "../../../stacks/automation/types";
import { condition } from "../../../stacks/controller/conditions";
import { backoffMs, Reconciler } from "../../../stacks/controller/reconcile";
import { ENVIRONMENT_FINALIZER } from "../../../stacks/resources/types";
import { FakeApi, FakeStacks } from "./fakes";

const NS = "catalyst-system";

function setup(now = () => Date.now()) {
    const api = new FakeApi();
    const stacks = new FakeStacks();
    const reconciler = new Reconciler(api, stacks, { identity: "r1", maxFailures: 3, backoffBaseMs: 1000, backoffMaxMs: 60_000, now });
    api.addProject("web", { services: { postgres: false, redis: false } });
    return { api, stacks, reconciler };
}

const preview = { project: "web", type: "preview" as const, pullRequest: 7, branch: "feat/x", image: "nginx:1.27.4" };

describe("Reconciler", () => {
    it("adds the finalizer, runs one up, writes Ready with the URL and observedGeneration; a second reconcile does nothing", async () => {
        const { api, stacks, reconciler } = setup();
        api.addEnvironment("pr-7", preview);
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "reconciled" });
        const env = api.environments.get(`${NS}/pr-7`)!;
        expect(env.metadata.finalizers).toEqual([ENVIRONMENT_FINALIZER]);
        expect(env.status).toMatchObject({ observedGeneration: 1, url: "http://pr-7--web.preview.example.com", namespace: "env-pr-7--web", stack: "pr-7--web", failures: 0 });
        expect(condition(env.status?.conditions, "Ready")).toMatchObject({ status: "True", reason: "Reconciled", observedGeneration: 1 });
        expect(condition(env.status?.conditions, "Progressing")).toMatchObject({ status: "False" });
        expect(stacks.calls).toEqual([{ action: "up", stack: "pr-7--web", args: expect.objectContaining({ pr: 7, project: "web", branch: "feat/x", image: "nginx:1.27.4", config: { "catalyst:database": { mode: "none" }, "catalyst:redis": { enabled: false } } }) }]);
        expect(api.events.map((e) => e.reason)).toEqual(["Reconciled"]);

        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "unchanged" });
        expect(stacks.calls).toHaveLength(1);

        api.updateSpec("pr-7", { image: "nginx:1.27.5" });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "reconciled" });
        expect(stacks.calls).toHaveLength(2);
        expect(api.environments.get(`${NS}/pr-7`)!.status?.observedGeneration).toBe(2);
    });

    it("records the up's progress in status.operation (start, throttled progress, end with the result) and the destroy's the same way", async () => {
        const api = new FakeApi();
        const stacks = new FakeStacks();
        const reconciler = new Reconciler(api, stacks, { identity: "r1", maxFailures: 3, backoffBaseMs: 1000, backoffMaxMs: 60_000, progressIntervalMs: 0 });
        api.addProject("web", { services: { postgres: false, redis: false } });
        api.addEnvironment("pr-7", preview);
        const event = (done: number): CatalystEvent => ({ type: "resource", stack: "pr-7--web", urn: "u", resourceType: "t", name: "n", op: "create", state: "done", done, total: 3, time: "" });
        stacks.events.push([{ type: "step", stack: "pr-7--web", step: "updating", message: "", time: "" }, event(1), event(3)]);
        await reconciler.reconcile(NS, "pr-7");
        const writes = api.operationWrites;
        expect(writes[0]).toMatchObject({ action: "up", generation: 1, step: "starting" });
        expect(writes).toContainEqual(expect.objectContaining({ step: "updating", resourcesDone: 1, resourcesTotal: 3 }));
        expect(new Set(writes.map((w) => w.id)).size).toBe(1);
        const final = api.environments.get(`${NS}/pr-7`)!.status?.operation;
        expect(final).toMatchObject({ id: writes[0].id, step: "done", result: "succeeded", resourcesDone: 3, resourcesTotal: 3, generation: 1 });
        expect(final?.finishedAt).toBeDefined();
        expect(writes.at(-1)).toEqual(final);

        api.operationWrites = [];
        stacks.results.push({ status: "failed", error: "destroy broke" });
        await api.deleteEnvironment(NS, "pr-7");
        await reconciler.reconcile(NS, "pr-7");
        const failed = api.environments.get(`${NS}/pr-7`)!.status?.operation;
        expect(failed).toMatchObject({ action: "destroy", step: "done", result: "failed", message: "destroy broke" });
        expect(failed?.id).not.toBe(final?.id);
        await reconciler.reconcile(NS, "pr-7");
        // The successful destroy's end was patched before the finalizer (and the object) went.
        expect(api.operationWrites.at(-1)).toMatchObject({ action: "destroy", result: "succeeded" });
        expect(api.environments.has(`${NS}/pr-7`)).toBe(false);
    });

    it("hands spec.sleep to upPreview: a change of it is a new generation and one up; unset passes undefined (leave it as it is)", async () => {
        const { api, stacks, reconciler } = setup();
        api.addEnvironment("pr-7", preview);
        await reconciler.reconcile(NS, "pr-7");
        expect(stacks.calls[0].args).toEqual(expect.objectContaining({ sleep: undefined }));
        api.updateSpec("pr-7", { sleep: true });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "reconciled" });
        expect(stacks.calls[1].args).toEqual(expect.objectContaining({ sleep: true }));
        api.updateSpec("pr-7", { sleep: false });
        await reconciler.reconcile(NS, "pr-7");
        expect(stacks.calls[2].args).toEqual(expect.objectContaining({ sleep: false }));
    });

    it("hands the Project's preview caps (spec.limits) to upPreview, which checks them before anything is created", async () => {
        const { api, stacks, reconciler } = setup();
        api.addProject("capped", { limits: { previewsPerOwner: 2, previewsPerProject: 10 } });
        api.addEnvironment("pr-8", { ...preview, project: "capped", pullRequest: 8 });
        await reconciler.reconcile(NS, "pr-8");
        expect(stacks.calls).toEqual([{ action: "up", stack: "pr-8--capped", args: expect.objectContaining({ limits: { previewsPerOwner: 2, previewsPerProject: 10 } }) }]);
        api.addEnvironment("pr-9", { ...preview, pullRequest: 9 });
        await reconciler.reconcile(NS, "pr-9");
        expect(stacks.calls[1].args).toEqual(expect.objectContaining({ limits: undefined }));
    });

    it("an unknown project or a spec the stack config refuses: Ready=False naming the field, no stack operation", async () => {
        const { api, stacks, reconciler } = setup();
        api.addEnvironment("a", { ...preview, project: "nope" });
        api.addEnvironment("b", { ...preview, pullRequest: 8, overrides: { redis: { enabled: "maybe" } } });
        api.addEnvironment("c", { ...preview, pullRequest: 9, overrides: { appSecrets: { A: "b" } } });
        for (const name of ["a", "b", "c"]) expect(await reconciler.reconcile(NS, name)).toMatchObject({ result: "invalid" });
        const ready = (name: string) => condition(api.environments.get(`${NS}/${name}`)!.status?.conditions, "Ready");
        expect(ready("a")).toMatchObject({ status: "False", reason: "ProjectNotFound", message: 'spec.project: project "nope" does not exist in namespace catalyst-system; create it first' });
        expect(ready("b")).toMatchObject({ status: "False", reason: "InvalidSpec", message: expect.stringMatching(/^spec\.overrides\.redis\.enabled: /) });
        expect(ready("c")?.message).toMatch(/^spec\.overrides\.appSecrets: holds secrets/);
        expect(stacks.calls).toEqual([]);
        // Unchanged and still invalid: no new status write, no new Event.
        const writes = api.statusWrites;
        await reconciler.reconcile(NS, "b");
        expect(api.statusWrites).toBe(writes);
    });

    it("a second Environment for the same stack is refused; the first keeps it", async () => {
        const { api, stacks, reconciler } = setup();
        api.addEnvironment("first", preview);
        api.addEnvironment("second", preview);
        const siblings = [...api.environments.values()];
        expect(await reconciler.reconcile(NS, "second", siblings)).toMatchObject({ result: "invalid" });
        expect(condition(api.environments.get(`${NS}/second`)!.status?.conditions, "Ready")?.message).toBe("spec: the stack pr-7--web belongs to Environment first; one Environment per stack");
        expect(stacks.calls).toEqual([]);
    });

    it("two Projects' pull request 7 get two stacks; the default Project keeps pr-7; each destroy takes its own", async () => {
        const { api, stacks, reconciler } = setup();
        api.addProject("api", { services: { postgres: false, redis: false } });
        api.addProject("default", { services: { postgres: false, redis: false } });
        api.addEnvironment("pr-7--web", preview);
        api.addEnvironment("pr-7--api", { ...preview, project: "api" });
        api.addEnvironment("pr-7", { ...preview, project: "default" });
        const siblings = [...api.environments.values()];
        for (const name of ["pr-7--web", "pr-7--api", "pr-7"]) expect(await reconciler.reconcile(NS, name, siblings)).toMatchObject({ result: "reconciled" });
        expect(stacks.calls.map((c) => c.stack)).toEqual(["pr-7--web", "pr-7--api", "pr-7"]);
        expect(["pr-7--web", "pr-7--api", "pr-7"].map((name) => api.environments.get(`${NS}/${name}`)!.status?.stack)).toEqual(["pr-7--web", "pr-7--api", "pr-7"]);
        await api.deleteEnvironment(NS, "pr-7--api");
        expect(await reconciler.reconcile(NS, "pr-7--api")).toMatchObject({ result: "destroyed" });
        expect(stacks.calls.at(-1)).toMatchObject({ action: "destroy", stack: "pr-7--api" });
    });

    it("failures back off exponentially, Stalled after 3 in a row; a new generation clears the count", async () => {
        let now = 1_000_000;
        const { api, stacks, reconciler } = setup(() => now);
        api.addEnvironment("pr-7", preview);
        stacks.results = [{ status: "failed", error: "boom" }, { status: "failed", error: "boom" }, { status: "failed", error: "boom" }];
        const first = await reconciler.reconcile(NS, "pr-7");
        expect(first).toMatchObject({ result: "failed", requeueAfterMs: 1000 });
        // Too early: no new attempt.
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "failed" });
        expect(stacks.calls).toHaveLength(1);
        now += 2000;
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "failed", requeueAfterMs: 2000 });
        now += 3000;
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "failed", requeueAfterMs: 4000 });
        const status = api.environments.get(`${NS}/pr-7`)!.status!;
        expect(status.failures).toBe(3);
        expect(condition(status.conditions, "Stalled")).toMatchObject({ status: "True", reason: "TooManyFailures", message: "3 failures in a row: boom" });
        expect(condition(status.conditions, "Ready")).toMatchObject({ status: "False", reason: "UpFailed", message: "boom" });
        api.updateSpec("pr-7", { image: "nginx:1.27.5" });
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "reconciled" });
        expect(condition(api.environments.get(`${NS}/pr-7`)!.status?.conditions, "Stalled")).toMatchObject({ status: "False" });
    });

    it("delete: destroys the stack through the library, then removes the finalizer; a failed destroy keeps it", async () => {
        const { api, stacks, reconciler } = setup();
        api.addEnvironment("pr-7", preview);
        await reconciler.reconcile(NS, "pr-7");
        await api.deleteEnvironment(NS, "pr-7");
        stacks.results = [{ status: "failed", error: "provider exploded" }];
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "failed" });
        expect(api.environments.get(`${NS}/pr-7`)!.metadata.finalizers).toEqual([ENVIRONMENT_FINALIZER]);
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "destroyed" });
        expect(api.environments.has(`${NS}/pr-7`)).toBe(false);
        expect(stacks.calls.map((c) => `${c.action} ${c.stack}`)).toEqual(["up pr-7--web", "destroy pr-7--web", "destroy pr-7--web"]);
        expect(api.events.map((e) => e.reason)).toEqual(["Reconciled", "DestroyFailed", "Destroyed"]);
    });

    it("a passed TTL deletes the Environment (whose finalizer then destroys the stack)", async () => {
        let now = 1_000_000;
        const { api, reconciler } = setup(() => now);
        api.addEnvironment("pr-7", { ...preview, ttl: "1h" });
        const done = await reconciler.reconcile(NS, "pr-7");
        expect(done).toMatchObject({ result: "reconciled", requeueAfterMs: 3_600_000 });
        expect(api.environments.get(`${NS}/pr-7`)!.status?.expiresAt).toBe(new Date(1_000_000 + 3_600_000).toISOString());
        now += 3_600_001;
        expect(await reconciler.reconcile(NS, "pr-7")).toMatchObject({ result: "deleted" });
        expect(api.environments.get(`${NS}/pr-7`)!.metadata.deletionTimestamp).toBeDefined();
        expect(api.events.map((e) => e.reason)).toContain("Expired");
    });

    it("an unreachable API server throws (the caller retries); nothing is destroyed", async () => {
        const { api, stacks, reconciler } = setup();
        api.addEnvironment("pr-7", preview);
        api.down = true;
        await expect(reconciler.reconcile(NS, "pr-7")).rejects.toThrow("API server unreachable");
        expect(stacks.calls).toEqual([]);
    });

    it("backoff doubles from the base and stops at the cap", () => {
        expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, 1000, 5000))).toEqual([1000, 2000, 4000, 5000, 5000]);
    });
});
