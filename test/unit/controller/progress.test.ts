import type { CatalystEvent } from "../../../stacks/automation/types";
import { FINISHED_STEP, finishedOperation, OperationRecorder, startedOperation, withEvent } from "../../../stacks/controller/progress";
import type { OperationProgress } from "../../../stacks/resources/types";

const step = (name: string): CatalystEvent => ({ type: "step", stack: "pr-7", step: name as "updating", message: name, time: "" });
const resource = (done: number, total: number): CatalystEvent => ({ type: "resource", stack: "pr-7", urn: "urn:x", resourceType: "t", name: "n", op: "create", state: "done", done, total, time: "" });

describe("status.operation from the library's events", () => {
    const started = startedOperation("up", 3, Date.parse("2026-01-01T00:00:00Z"), "op-1");

    it("starts at step starting for the generation, takes steps and resource counts, ignores log lines", () => {
        expect(started).toEqual({ id: "op-1", action: "up", generation: 3, step: "starting", startedAt: "2026-01-01T00:00:00.000Z" });
        const moved = withEvent(withEvent(started, step("updating")), resource(4, 12));
        expect(moved).toMatchObject({ step: "updating", resourcesDone: 4, resourcesTotal: 12 });
        expect(withEvent(moved, { type: "log", stack: "pr-7", level: "info", message: "x", time: "" })).toBe(moved);
    });

    it("ends with step done, the result, the end time and the error as message", () => {
        const failed = finishedOperation(withEvent(started, resource(2, 5)), { status: "failed", error: "boom" }, Date.parse("2026-01-01T00:01:00Z"));
        expect(failed).toEqual({ ...started, step: FINISHED_STEP, resourcesDone: 2, resourcesTotal: 5, finishedAt: "2026-01-01T00:01:00.000Z", result: "failed", message: "boom" });
        expect(finishedOperation(started, { status: "succeeded" }, 0).message).toBeUndefined();
    });
});

describe("OperationRecorder: throttled progress patches", () => {
    beforeEach(() => jest.useFakeTimers({ now: 0 }));
    afterEach(() => jest.useRealTimers());

    function recorder(write: (op: OperationProgress) => Promise<void> = async () => undefined, onError?: (err: Error) => void) {
        const writes: OperationProgress[] = [];
        const rec = new OperationRecorder(startedOperation("up", 1, 0, "op"), async (op) => {
            writes.push(op);
            await write(op);
        }, { intervalMs: 2000, now: Date.now, onError });
        return { rec, writes };
    }

    it("at most one patch per interval, carrying the latest state, within the interval of the event", async () => {
        const { rec, writes } = recorder();
        rec.handle(step("updating"));
        for (let i = 1; i <= 10; i++) {
            await jest.advanceTimersByTimeAsync(100);
            rec.handle(resource(i, 12));
        }
        expect(writes).toEqual([]);
        await jest.advanceTimersByTimeAsync(1000); // t = 2000: an interval since the start was written
        expect(writes).toEqual([expect.objectContaining({ step: "updating", resourcesDone: 10, resourcesTotal: 12 })]);
        await jest.advanceTimersByTimeAsync(500);
        rec.handle(resource(11, 12));
        await jest.advanceTimersByTimeAsync(1499);
        expect(writes).toHaveLength(1);
        await jest.advanceTimersByTimeAsync(1); // t = 4000
        expect(writes).toHaveLength(2);
        expect(writes[1]).toMatchObject({ resourcesDone: 11 });
        // Nothing new: no patch.
        await jest.advanceTimersByTimeAsync(10_000);
        expect(writes).toHaveLength(2);
    });

    it("an event after a quiet spell is written at once", async () => {
        const { rec, writes } = recorder();
        await jest.advanceTimersByTimeAsync(5000);
        rec.handle(step("preparing"));
        await jest.advanceTimersByTimeAsync(0);
        expect(writes).toEqual([expect.objectContaining({ step: "preparing" })]);
    });

    it("finish cancels the pending patch, waits for the one in flight, and returns the final record; later events change nothing", async () => {
        let release: () => void = () => undefined;
        const { rec, writes } = recorder(() => new Promise<void>((resolve) => (release = resolve)));
        await jest.advanceTimersByTimeAsync(2000);
        rec.handle(resource(1, 3));
        await jest.advanceTimersByTimeAsync(0);
        expect(writes).toHaveLength(1); // in flight
        rec.handle(resource(2, 3)); // would go out at t = 4000
        let finished: OperationProgress | undefined;
        const ending = rec.finish({ status: "succeeded" }).then((op) => (finished = op));
        await jest.advanceTimersByTimeAsync(0);
        expect(finished).toBeUndefined();
        release();
        await ending;
        expect(finished).toMatchObject({ step: "done", result: "succeeded", resourcesDone: 2, resourcesTotal: 3, finishedAt: new Date(2000).toISOString() });
        rec.handle(resource(3, 3));
        await jest.advanceTimersByTimeAsync(10_000);
        expect(writes).toHaveLength(1);
        expect(rec.operation).toBe(finished);
    });

    it("a failed patch is reported, never thrown; the next event's patch carries the state", async () => {
        const errors: string[] = [];
        let fail = true;
        const { rec, writes } = recorder(async () => {
            if (fail) throw new Error("HTTP 404: not found");
        }, (err) => errors.push(err.message));
        await jest.advanceTimersByTimeAsync(2000);
        rec.handle(resource(1, 2));
        await jest.advanceTimersByTimeAsync(0);
        expect(errors).toEqual(["HTTP 404: not found"]);
        fail = false;
        rec.handle(resource(2, 2));
        await jest.advanceTimersByTimeAsync(2000);
        expect(writes.map((w) => w.resourcesDone)).toEqual([1, 2]);
        expect(errors).toHaveLength(1);
    });
});
