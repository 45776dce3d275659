import { leaseBound, mustStop } from "../../../stacks/controller/takeover";
import type { StackOperations } from "../../../stacks/controller/reconcile";
import type { CallOptions } from "../../../stacks/automation/executor";

describe("stack operations bound to a replica's Lease", () => {
    it("passes the Lease's signal and the dead holder to every operation, keeping the caller's options", () => {
        const seen: [string, CallOptions | undefined][] = [];
        const destroyed: unknown[] = [];
        const record = (name: string) => (...args: unknown[]) => {
            if (name === "destroyPreview") destroyed.push(args[0]);
            seen.push([name, args[args.length - 1] as CallOptions | undefined]);
            return { result: Promise.resolve() } as never;
        };
        const stacks = {
            upPreview: record("upPreview"), up: record("up"), destroyPreview: record("destroyPreview"), destroy: record("destroy"), checkDrift: record("checkDrift"),
        } as unknown as StackOperations;
        const signal = new AbortController().signal;
        const bound = leaseBound(stacks, { signal, deadLockHosts: ["catalyst-controller-5f7d-x2v9q"] });
        bound.upPreview({ pr: 1, branch: "b" }, { reason: "controller:a" });
        bound.up("staging", {}, { reason: "controller:a" });
        bound.destroyPreview({ pr: 1, project: "web" }, { reason: "controller:delete" });
        bound.destroy("staging");
        bound.checkDrift("pr-1", { lockTimeoutMs: 0 });
        expect(seen.map(([name]) => name)).toEqual(["upPreview", "up", "destroyPreview", "destroy", "checkDrift"]);
        for (const [, call] of seen) {
            expect(call?.signal).toBe(signal);
            expect(call?.deadLockHosts).toEqual(["catalyst-controller-5f7d-x2v9q"]);
        }
        expect(seen[0][1]?.reason).toBe("controller:a");
        // The Project travels with the preview: a wrapper cannot drop it (it once did: the stack pr-1 was destroyed instead of pr-1--web).
        expect(destroyed).toEqual([{ pr: 1, project: "web" }]);
        expect(seen[4][1]?.lockTimeoutMs).toBe(0);
    });

    it("stops work after two thirds of the lease duration without a renewal, leaving a third to stop in", () => {
        expect(mustStop(0, 30, 19_999)).toBe(false);
        expect(mustStop(0, 30, 20_000)).toBe(true);
        expect(mustStop(10_000, 15, 19_999)).toBe(false);
        expect(mustStop(10_000, 15, 20_000)).toBe(true);
    });
});
