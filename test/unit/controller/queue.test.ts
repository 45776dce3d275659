import { WorkQueue } from "../../../stacks/controller/queue";
import { needsWork } from "../../../stacks/controller/controller";
import { parseControllerArgs } from "../../../stacks/controller";

describe("WorkQueue", () => {
    it("hands out due keys once, earliest first; a key re-added while active runs again after done", () => {
        let now = 0;
        const queue = new WorkQueue(() => now);
        queue.add("b", 10);
        queue.add("a");
        queue.add("a");
        expect(queue.depth).toBe(2);
        expect(queue.take()).toBe("a");
        expect(queue.take()).toBeUndefined();
        queue.add("a");
        expect(queue.take()).toBeUndefined();
        queue.done("a");
        expect(queue.take()).toBe("a");
        now = 10;
        expect(queue.take()).toBe("b");
    });
});

describe("needsWork", () => {
    const meta = { name: "x", namespace: "n", generation: 2 };
    const ready = [{ type: "Ready", status: "True" as const, reason: "Reconciled", message: "", lastTransitionTime: "t", observedGeneration: 2 }];
    it("skips Ready Environments of the current generation only", () => {
        const env = { apiVersion: "", kind: "Environment" as const, spec: { project: "p", type: "staging" as const }, metadata: meta };
        expect(needsWork({ ...env, status: { observedGeneration: 2, conditions: ready } })).toBe(false);
        expect(needsWork({ ...env, status: { observedGeneration: 1, conditions: ready } })).toBe(true);
        expect(needsWork({ ...env, metadata: { ...meta, deletionTimestamp: "t" }, status: { observedGeneration: 2, conditions: ready } })).toBe(true);
        expect(needsWork(env)).toBe(true);
    });
});

describe("catalyst controller flags", () => {
    it("parses flags and refuses bad ones naming the flag", () => {
        expect(parseControllerArgs(["--concurrency", "3", "--lease-duration", "15s", "--identity", "r1"], {})).toMatchObject({
            namespace: "catalyst-system", concurrency: 3, leaseDurationSeconds: 15, identity: "r1", maxFailures: 3, metricsPort: 9090,
        });
        expect(parseControllerArgs(["--help"], {})).toBe("help");
        expect(() => parseControllerArgs(["--concurrency", "0"], {})).toThrow('--concurrency: must be a whole number from 1 to 64, got "0"');
        expect(() => parseControllerArgs(["--lease-duration", "soon"], {})).toThrow('--lease-duration: must be a duration of at least 1s such as 30s or 5m, got "soon"');
        expect(() => parseControllerArgs(["--bogus"], {})).toThrow(/catalyst controller: Unknown option '--bogus'/);
    });
});
