import {
    environmentActivity,
    parseResourceOperationId,
    progressEvents,
    progressOf,
    resourceOperationId,
    resourceOperationView,
} from "../../../stacks/api/environment-progress";
import type { Condition, EnvironmentObject, OperationProgress } from "../../../stacks/resources/types";

const T = "2026-01-01T00:00:00Z";

function env(generation: number, status?: { conditions?: Partial<Condition>[]; operation?: Partial<OperationProgress>; observed?: number }, deleting = false): EnvironmentObject {
    return {
        apiVersion: "catalyst.dev/v1alpha1", kind: "Environment",
        metadata: { name: "pr-7", namespace: "catalyst-system", generation, creationTimestamp: T, ...(deleting ? { deletionTimestamp: T } : {}) },
        spec: { project: "default", type: "preview", pullRequest: 7, branch: "b" },
        status: status && {
            observedGeneration: status.observed ?? generation,
            stack: "pr-7",
            conditions: status.conditions?.map((c) => ({ status: "True", reason: "R", message: "", lastTransitionTime: T, observedGeneration: generation, type: "Ready", ...c }) as Condition),
            operation: status.operation && { id: "op", action: "up", generation, step: "starting", startedAt: T, ...status.operation },
        },
    };
}

const progressing = { type: "Progressing", message: "running up on stack pr-7 (generation 2)" };
const create = { environment: "pr-7", action: "create" as const, generation: 2 };

describe("resource-mode operation ids", () => {
    it("name the environment and the generation written, or the delete; round trip; direct mode's UUIDs are not theirs", () => {
        expect(resourceOperationId(create)).toBe("pr-7.2");
        expect(resourceOperationId({ environment: "pr-5--web", action: "destroy" })).toBe("pr-5--web.destroy");
        expect(parseResourceOperationId("pr-7.2")).toEqual(create);
        expect(parseResourceOperationId("pr-5--web.destroy")).toEqual({ environment: "pr-5--web", action: "destroy" });
        expect(parseResourceOperationId("3f2b6c1e-9a7d-4c1b-8f00-0123456789ab")).toBeUndefined();
        expect(parseResourceOperationId("pr-7.x")).toBeUndefined();
        expect(parseResourceOperationId("PR-7.2")).toBeUndefined();
    });
});

describe("progress from the Environment's status", () => {
    it("pending before any controller wrote this generation, queued while it has not started the up", () => {
        expect(progressOf(env(2), create)).toMatchObject({ step: "pending", message: "waiting for a controller to pick up generation 2" });
        expect(progressOf(env(2, { conditions: [progressing], observed: 1 }), create)).toEqual({ step: "queued", message: "running up on stack pr-7 (generation 2)" });
    });

    it("the running operation's step and counts; an earlier generation's operation does not count", () => {
        const running = env(2, { conditions: [progressing], observed: 1, operation: { step: "updating", resourcesDone: 3, resourcesTotal: 9 } });
        expect(progressOf(running, create)).toEqual({ step: "updating", message: "running up on stack pr-7 (generation 2)", done: 3, total: 9 });
        const older = env(2, { conditions: [progressing], observed: 1, operation: { step: "done", generation: 1, finishedAt: T, result: "succeeded", resourcesDone: 5, resourcesTotal: 5 } });
        expect(progressOf(older, create)).toEqual({ step: "queued", message: "running up on stack pr-7 (generation 2)" });
    });

    it("a failed try the controller retries is `retrying`; the end of a successful one is `done` with the counts", () => {
        const failed = env(2, { conditions: [{ type: "Ready", status: "False", reason: "UpFailed", message: "boom" }, { type: "Progressing", status: "False", reason: "RetryScheduled", message: "failure 1; next try in 2s" }], operation: { step: "done", finishedAt: T, result: "failed", message: "boom" } });
        expect(progressOf(failed, create)).toEqual({ step: "retrying", message: "UpFailed: boom; failure 1; next try in 2s" });
        const done = env(2, { conditions: [{ type: "Ready", message: "stack pr-7 is up" }], operation: { step: "done", finishedAt: T, result: "succeeded", resourcesDone: 9, resourcesTotal: 9 } });
        expect(progressOf(done, create)).toEqual({ step: "done", message: "stack pr-7 is up", done: 9, total: 9 });
    });

    it("events only for what changed: a step when step or message moved, a resource when the counts did", () => {
        const a = { step: "updating", message: "m", done: 1, total: 4 };
        expect(progressEvents("pr-7", undefined, a, T).map((e) => e.data)).toEqual([
            { type: "step", stack: "pr-7", step: "updating", message: "m", time: T },
            { type: "resource", stack: "pr-7", done: 1, total: 4, time: T },
        ]);
        expect(progressEvents("pr-7", a, a, T)).toEqual([]);
        expect(progressEvents("pr-7", a, { ...a, done: 2 }, T).map((e) => e.type)).toEqual(["resource"]);
        expect(progressEvents("pr-7", a, { step: "queued", message: "m" }, T).map((e) => e.type)).toEqual(["step"]);
    });
});

describe("views and activity", () => {
    it("the operation view: running, then succeeded once Ready at the generation, failed when Stalled; a destroy succeeds when the Environment is gone", () => {
        const running = env(2, { conditions: [progressing], observed: 1, operation: { startedAt: "2026-01-01T00:01:00Z" } });
        expect(resourceOperationView(create, running, "alice")).toEqual({ id: "pr-7.2", stack: "pr-7", action: "create", user: "alice", state: "running", startedAt: "2026-01-01T00:01:00Z", events: 0, droppedEvents: 0 });
        const ready = env(2, { conditions: [{ type: "Ready" }], operation: { finishedAt: "2026-01-01T00:02:00Z", result: "succeeded" } });
        expect(resourceOperationView(create, ready, "alice")).toMatchObject({ state: "succeeded", finishedAt: "2026-01-01T00:02:00Z" });
        const stalled = env(2, { conditions: [{ type: "Stalled", message: "3 failures in a row: boom" }] });
        expect(resourceOperationView(create, stalled, "alice")).toMatchObject({ state: "failed", error: "Stalled: 3 failures in a row: boom" });
        expect(resourceOperationView({ environment: "pr-7", action: "destroy" }, undefined, "alice")).toMatchObject({ id: "pr-7.destroy", state: "succeeded" });
        expect(resourceOperationView({ environment: "pr-7", action: "destroy" }, env(3, { conditions: [] }, true), "alice")).toMatchObject({ state: "running" });
    });

    it("activity: the current generation's up with progress while it runs, its result after; a delete while deleting and once gone", () => {
        const running = env(2, { conditions: [progressing], observed: 1, operation: { step: "updating", resourcesDone: 3, resourcesTotal: 9 } });
        expect(environmentActivity(running)).toEqual({ stack: "pr-7", operation: "pr-7.2", action: "create", state: "running", startedAt: T, step: "updating", done: 3, total: 9 });
        expect(environmentActivity(env(2, { conditions: [{ type: "Ready" }] }))).toEqual({ stack: "pr-7", operation: "pr-7.2", action: "create", state: "succeeded", startedAt: T });
        const deleting = env(3, { conditions: [{ type: "Progressing", message: "destroying stack pr-7" }], operation: { action: "destroy", step: "destroying", resourcesDone: 1, resourcesTotal: 9 } }, true);
        expect(environmentActivity(deleting)).toMatchObject({ operation: "pr-7.destroy", action: "destroy", state: "running", step: "destroying", done: 1, total: 9 });
        expect(environmentActivity(deleting, true)).toMatchObject({ operation: "pr-7.destroy", action: "destroy", state: "succeeded" });
    });
});
