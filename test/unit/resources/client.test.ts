import {
    CONTROL_PLANE_ENV,
    controlPlaneNamespace,
    controlPlaneProject,
    EnvironmentResources,
    environmentState,
    ResourceError,
} from "../../../stacks/resources/client";
import { EnvironmentObject } from "../../../stacks/resources/types";
import { FakeStore } from "./fake-store";

const NS = "catalyst-system";
const request = { pr: 12, branch: "feat/x", project: "default", createdBy: "cli" };

function setup() {
    const store = new FakeStore();
    let clock = 0;
    // The clock moves on every look, so waits end without real time passing.
    const resources = new EnvironmentResources(store, NS, { now: () => (clock += 100) });
    return { store, resources };
}

const wait = { timeoutMs: 10_000, intervalMs: 0 };

describe("the switch to resource mode", () => {
    it("is off without the flag and the variable, on with either; the flag wins", () => {
        expect(controlPlaneNamespace(undefined, {})).toBeUndefined();
        expect(controlPlaneNamespace(undefined, { [CONTROL_PLANE_ENV]: "catalyst-system" })).toBe("catalyst-system");
        expect(controlPlaneNamespace("other", { [CONTROL_PLANE_ENV]: "catalyst-system" })).toBe("other");
    });

    it("refuses a malformed or empty namespace naming where it came from, never falling back to direct mode", () => {
        expect(() => controlPlaneNamespace(undefined, { [CONTROL_PLANE_ENV]: "" })).toThrow(`${CONTROL_PLANE_ENV}: must be a namespace name (a DNS-1123 label: lower case letters, digits and '-', at most 63 characters), got ""`);
        expect(() => controlPlaneNamespace("Catalyst_System", {})).toThrow('--control-plane: must be a namespace name (a DNS-1123 label: lower case letters, digits and \'-\', at most 63 characters), got "Catalyst_System"');
    });

    it("takes the project from the flag, else CATALYST_CONTROL_PLANE_PROJECT, else default", () => {
        expect(controlPlaneProject(undefined, {})).toBe("default");
        expect(controlPlaneProject(undefined, { CATALYST_CONTROL_PLANE_PROJECT: "web" })).toBe("web");
        expect(controlPlaneProject("api", { CATALYST_CONTROL_PLANE_PROJECT: "web" })).toBe("api");
        expect(() => controlPlaneProject(undefined, { CATALYST_CONTROL_PLANE_PROJECT: "Web!" })).toThrow(`CATALYST_CONTROL_PLANE_PROJECT: must be a project name: lower case letters, digits and single '-', at most 30 characters (no '--'), got "Web!"`);
    });
});

describe("applyPreview", () => {
    it("creates Environment pr-<n> with the given fields only, labelled with its creator", async () => {
        const { resources } = setup();
        const created = await resources.applyPreview({ ...request, image: "nginx:1.27.4", owners: ["alice"], ttl: "3d" });
        expect(created.metadata).toMatchObject({ name: "pr-12", namespace: NS, generation: 1, labels: { "catalyst.dev/created-by": "cli" } });
        expect(created.spec).toEqual({ project: "default", type: "preview", pullRequest: 12, branch: "feat/x", image: "nginx:1.27.4", owners: ["alice"], ttl: "3d" });
    });

    it("patches an existing one: same values, same generation; a change, a new generation; left-out fields removed", async () => {
        const { store, resources } = setup();
        await resources.applyPreview({ ...request, image: "nginx:1.27.4" });
        expect((await resources.applyPreview({ ...request, image: "nginx:1.27.4" })).metadata.generation).toBe(1);
        const changed = await resources.applyPreview({ ...request, sha: "abcdef1" });
        expect(changed.metadata.generation).toBe(2);
        expect(changed.spec).toEqual({ project: "default", type: "preview", pullRequest: 12, branch: "feat/x", sha: "abcdef1" });
        expect(store.calls.filter((c) => c.startsWith("patch"))[1]).toContain('"image":null');
    });

    it("patches when someone else created it between the read and the create (409)", async () => {
        const { store, resources } = setup();
        const create = store.create.bind(store);
        store.create = async (ns, object) => {
            await create(ns, object);
            throw new ResourceError(409, "already exists");
        };
        const applied = await resources.applyPreview(request);
        expect(applied.spec.branch).toBe("feat/x");
        // Read again before the patch: what someone else created is checked like any existing one.
        expect(store.calls.map((c) => c.split(" ")[0])).toEqual(["get", "create", "get", "patch"]);
    });

    const onlyAlice = (existing: EnvironmentObject) => {
        if (!(existing.spec.owners ?? []).includes("alice")) throw new Error(`${existing.metadata.name} is not alice's`);
    };

    it("checks the object it patches: a change between the check and the write is read and checked again", async () => {
        const { store, resources } = setup();
        await resources.applyPreview({ ...request, owners: ["alice"] });
        // Another writer makes bob the only owner after alice's check passed, before her patch.
        store.beforeNextWrite = () => void store.patch(NS, "pr-12", { spec: { owners: ["bob"] } });
        await expect(resources.applyPreview({ ...request, owners: ["alice"], sha: "abcdef1" }, "--project", onlyAlice)).rejects.toThrow("pr-12 is not alice's");
        expect(store.objects.get(`${NS}/pr-12`)?.spec).toMatchObject({ owners: ["bob"] });
        expect(store.objects.get(`${NS}/pr-12`)?.spec.sha).toBeUndefined();
    });

    it("retries a patch that lost a race when the check still holds", async () => {
        const { store, resources } = setup();
        await resources.applyPreview({ ...request, owners: ["alice"] });
        store.beforeNextWrite = () => void store.patch(NS, "pr-12", { spec: { branch: "other" } });
        const applied = await resources.applyPreview({ ...request, owners: ["alice"], sha: "abcdef1" }, "--project", onlyAlice);
        expect(applied.spec).toMatchObject({ branch: "feat/x", sha: "abcdef1", owners: ["alice"] });
    });

    it("deletes only the object it checked: a change between the check and the delete is checked again", async () => {
        const { store, resources } = setup();
        await resources.applyPreview({ ...request, owners: ["alice"] });
        store.beforeNextWrite = () => void store.patch(NS, "pr-12", { spec: { owners: ["bob"] } });
        await expect(resources.delete("pr-12", onlyAlice)).rejects.toThrow("pr-12 is not alice's");
        expect(store.objects.get(`${NS}/pr-12`)?.metadata.deletionTimestamp).toBeUndefined();
        expect(await resources.delete("pr-12", () => undefined)).toBe(true);
        expect(await resources.delete("pr-404", onlyAlice)).toBe(false);
    });

    it("gives up after five lost races with a 409 that says so", async () => {
        const { store, resources } = setup();
        await resources.applyPreview(request);
        const patch = store.patch.bind(store);
        store.patch = async () => {
            throw new ResourceError(409, "the object has been modified");
        };
        await expect(resources.applyPreview(request)).rejects.toThrow(`Environment ${NS}/pr-12 kept changing while it was written (5 attempts); try again`);
        store.patch = patch;
    });

    it("refuses a missing project before writing anything, naming the flag", async () => {
        const { store, resources } = setup();
        await expect(resources.applyPreview({ ...request, project: "nope" })).rejects.toThrow('--project: project "nope" does not exist in namespace catalyst-system; create it first');
        expect(store.objects.size).toBe(0);
    });

    it("refuses an Environment that is being deleted", async () => {
        const { resources } = setup();
        await resources.applyPreview(request);
        await resources.delete("pr-12");
        await expect(resources.applyPreview(request)).rejects.toThrow("Environment catalyst-system/pr-12 is being deleted");
    });
});

describe("environmentState", () => {
    const object = (generation: number, conditions: object[], observedGeneration = generation): EnvironmentObject => ({
        apiVersion: "catalyst.dev/v1alpha1", kind: "Environment",
        metadata: { name: "pr-1", namespace: NS, generation },
        spec: { project: "default", type: "preview", pullRequest: 1, branch: "b" },
        status: { observedGeneration, conditions: conditions.map((c) => ({ lastTransitionTime: "t", reason: "R", message: "", ...c })) as never },
    });

    it.each([
        ["Ready at this generation", object(2, [{ type: "Ready", status: "True", message: "up", observedGeneration: 2 }]), "ready", "up"],
        ["Ready of the previous generation only", object(2, [{ type: "Ready", status: "True", message: "up", observedGeneration: 1 }], 1), "pending", "waiting for a controller to pick up generation 2"],
        ["Stalled", object(1, [{ type: "Ready", status: "False", reason: "UpFailed", message: "boom", observedGeneration: 1 }, { type: "Stalled", status: "True", message: "3 failures in a row: boom", observedGeneration: 1 }]), "failed", "Stalled: 3 failures in a row: boom"],
        ["a refused spec", object(1, [{ type: "Ready", status: "False", reason: "ProjectNotFound", message: 'spec.project: project "x" does not exist', observedGeneration: 1 }]), "failed", 'spec.project: project "x" does not exist'],
        ["a failure that is retried", object(1, [
            { type: "Ready", status: "False", reason: "UpFailed", message: "boom", observedGeneration: 1 },
            { type: "Progressing", status: "False", reason: "RetryScheduled", message: "failure 1; next try in 10s", observedGeneration: 1 },
        ]), "progressing", "UpFailed: boom; failure 1; next try in 10s"],
        ["an up running", object(1, [{ type: "Progressing", status: "True", reason: "Reconciling", message: "running up on stack pr-1 (generation 1)", observedGeneration: 1 }], 0), "progressing", "running up on stack pr-1 (generation 1)"],
    ])("%s", (_what, env, phase, message) => {
        expect(environmentState(env)).toMatchObject({ phase, message });
    });
});

describe("waits", () => {
    it("until Ready at the new generation, reporting each new state once, with the URL", async () => {
        const { store, resources } = setup();
        await resources.applyPreview(request);
        const seen: string[] = [];
        store.onGet = (_object, n) => {
            if (n === 3) store.setStatus("pr-12", { conditions: [{ type: "Progressing", message: "running up" }], observed: false });
            if (n === 5) store.setStatus("pr-12", { conditions: [{ type: "Ready", message: "stack pr-12 is up" }], url: "https://pr-12.example" });
        };
        const result = await resources.waitUntilReady("pr-12", { ...wait, onProgress: (s) => seen.push(`${s.phase}: ${s.message}`) });
        expect(result).toMatchObject({ outcome: "ready", message: "stack pr-12 is up", state: { url: "https://pr-12.example", generation: 1 } });
        expect(seen).toEqual(["pending: waiting for a controller to pick up generation 1", "progressing: running up", "ready: stack pr-12 is up"]);
    });

    it("ends failed at Stalled, and timed out with the last status when nothing moves", async () => {
        const { store, resources } = setup();
        await resources.applyPreview(request);
        store.setStatus("pr-12", { conditions: [{ type: "Stalled", message: "3 failures in a row: boom" }, { type: "Ready", status: "False", reason: "UpFailed", message: "boom" }] });
        expect(await resources.waitUntilReady("pr-12", wait)).toMatchObject({ outcome: "failed", message: "Stalled: 3 failures in a row: boom" });
        store.objects.get(`${NS}/pr-12`)!.status = undefined;
        let clock = 0;
        const slow = new EnvironmentResources(store, NS, { now: () => (clock += 4000) });
        expect(await slow.waitUntilReady("pr-12", wait)).toEqual(expect.objectContaining({ outcome: "timeout", message: "not done after 10 s; last status: waiting for a controller to pick up generation 1" }));
    });

    it("wakes on the watch's events instead of reading every second, and reads every second once the watch ended", async () => {
        const store = new FakeStore();
        const resources = new EnvironmentResources(store, NS);
        await resources.applyPreview(request);
        let changed: ((ended: boolean) => void) | undefined;
        let stopped = 0;
        store.watch = async (_ns, name, listener) => {
            expect(name).toBe("pr-12");
            changed = listener;
            return () => void stopped++;
        };
        const started = Date.now();
        const ready = resources.waitUntilReady("pr-12", { timeoutMs: 60_000 });
        await new Promise((resolve) => setTimeout(resolve, 50));
        store.setStatus("pr-12", { conditions: [{ type: "Ready", message: "up" }] });
        changed!(false);
        expect((await ready).outcome).toBe("ready");
        // Without the wake-up it would have read again only after 10 s.
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(stopped).toBe(1);

        store.setStatus("pr-12", { conditions: [{ type: "Ready", status: "False", message: "" }] });
        const again = resources.waitUntilReady("pr-12", { timeoutMs: 60_000 });
        await new Promise((resolve) => setTimeout(resolve, 50));
        changed!(true);
        const reads = store.calls.filter((c) => c === "get pr-12").length;
        store.setStatus("pr-12", { conditions: [{ type: "Ready", message: "up" }] });
        expect((await again).outcome).toBe("ready");
        expect(store.calls.filter((c) => c === "get pr-12").length - reads).toBeLessThanOrEqual(2);
        expect(stopped).toBe(2);
    });

    it("reads every second when the store cannot watch", async () => {
        const store = new FakeStore();
        const resources = new EnvironmentResources(store, NS);
        await resources.applyPreview(request);
        store.watch = async () => {
            throw new ResourceError(403, "watch forbidden");
        };
        store.onGet = (_o, n) => {
            if (n === 2) store.setStatus("pr-12", { conditions: [{ type: "Ready", message: "up" }] });
        };
        const started = Date.now();
        expect((await resources.waitUntilReady("pr-12", { timeoutMs: 60_000 })).outcome).toBe("ready");
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        expect(Date.now() - started).toBeLessThan(5_000);
    });

    it("waits out an API server that does not answer, but not a refusal", async () => {
        const { store, resources } = setup();
        await resources.applyPreview(request);
        store.setStatus("pr-12", { conditions: [{ type: "Ready", message: "up" }] });
        store.getErrors = [new ResourceError(undefined, "get Environment: connect ECONNREFUSED"), new ResourceError(503, "unavailable")];
        expect((await resources.waitUntilReady("pr-12", wait)).outcome).toBe("ready");
        store.getErrors = [new ResourceError(403, "forbidden")];
        await expect(resources.waitUntilReady("pr-12", wait)).rejects.toThrow("forbidden");
    });

    it("until gone after a delete; a destroy that fails meanwhile ends it failed with the message", async () => {
        const { store, resources } = setup();
        await resources.applyPreview(request);
        expect(await resources.delete("pr-12")).toBe(true);
        store.onGet = (_o, n) => {
            if (n === 2) store.remove("pr-12");
        };
        expect(await resources.waitUntilGone("pr-12", wait)).toMatchObject({ outcome: "gone" });
        expect(await resources.delete("pr-12")).toBe(false);

        await resources.applyPreview(request);
        await resources.delete("pr-12");
        store.onGet = (_o, n) => {
            if (n === 6) {
                store.setStatus("pr-12", { conditions: [{ type: "Ready", status: "False", reason: "DestroyFailed", message: "boom" }], failures: 1 });
            }
        };
        expect(await resources.waitUntilGone("pr-12", wait)).toMatchObject({ outcome: "failed", message: expect.stringContaining("destroy failed: boom (the controller retries") });
    });

    it("lists by type, sorted by name", async () => {
        const { store, resources } = setup();
        await resources.applyPreview({ ...request, pr: 30 });
        await resources.applyPreview({ ...request, pr: 4 });
        store.objects.set(`${NS}/staging`, { ...store.objects.get(`${NS}/pr-4`)!, metadata: { name: "staging", namespace: NS }, spec: { project: "default", type: "staging" } });
        expect((await resources.list("preview")).map((e) => e.metadata.name)).toEqual(["pr-30", "pr-4"]);
        expect((await resources.list()).length).toBe(3);
    });
});
