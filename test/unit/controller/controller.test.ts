import { Controller } from "../../../stacks/controller/controller";
import { ControllerMetrics } from "../../../stacks/controller/metrics";
import { FakeApi, FakeStacks } from "./fakes";

const settings = {
    namespace: "catalyst-system", identity: "r1", concurrency: 2, leaseDurationSeconds: 10, resyncMs: 60_000,
    maxFailures: 3, backoffBaseMs: 1000, backoffMaxMs: 10_000, driftIntervalMs: 0, log: () => undefined,
};

describe("Controller", () => {
    it("reconciles what it finds, and deleting a Project deletes its Environments (whose finalizers destroy the stacks)", async () => {
        const api = new FakeApi();
        const stacks = new FakeStacks();
        api.addProject("web");
        api.addProject("other");
        api.addEnvironment("pr-1", { project: "web", type: "preview", pullRequest: 1, branch: "a" });
        api.addEnvironment("pr-2", { project: "other", type: "preview", pullRequest: 2, branch: "b" });
        const controller = new Controller(api, stacks, new ControllerMetrics(), settings);
        await controller.start();
        try {
            // The loop takes both at start (the first resync), each under its Lease.
            for (let i = 0; i < 100 && stacks.calls.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
            expect(stacks.calls.map((c) => c.stack).sort()).toEqual(["pr-1--web", "pr-2--other"]);
            const project = api.projects.get("catalyst-system/web")!;
            api.projects.delete("catalyst-system/web");
            api.projectHandlers?.deleted?.(project);
            for (let i = 0; i < 50 && api.environments.get("catalyst-system/pr-1")?.metadata.deletionTimestamp === undefined; i++) await new Promise((r) => setTimeout(r, 20));
            expect(api.environments.get("catalyst-system/pr-1")?.metadata.deletionTimestamp).toBeDefined();
            expect(api.environments.get("catalyst-system/pr-2")?.metadata.deletionTimestamp).toBeUndefined();
            expect([...api.leases.values()].every((l) => l.holderIdentity === "")).toBe(true);
        } finally {
            await controller.stop();
        }
    });
});
