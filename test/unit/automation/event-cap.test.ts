import { MAX_KEPT_EVENTS, Operation } from "../../../stacks/automation/events";
import { OperationRegistry } from "../../../stacks/api/operations";
import type { CatalystEvent } from "../../../stacks/automation/types";

/*
 * Issue 12, defect 3.5 (third bullet): an operation keeps a bounded number of events in memory,
 * and says how many it dropped.
 */

const log = (i: number): CatalystEvent => ({ type: "log", stack: "pr-1", level: "info", message: `line ${i}`, time: "t" });

describe("bounded events (issue 12, 3.5)", () => {
    it("an Operation keeps at most MAX_KEPT_EVENTS for late readers and counts those it dropped", async () => {
        const total = MAX_KEPT_EVENTS + 500;
        const operation = new Operation(async (emit) => {
            for (let i = 0; i < total; i++) emit(log(i));
            return "done";
        });
        await operation.result;
        const seen: CatalystEvent[] = [];
        for await (const event of operation) seen.push(event);
        expect(seen).toHaveLength(MAX_KEPT_EVENTS);
        expect(seen[seen.length - 1]).toEqual(log(total - 1));
        expect(operation.droppedEvents).toBe(500);
    });

    it("the API's operation view counts events and says how many the registry dropped", async () => {
        const registry = new OperationRegistry({ maxEvents: 10 });
        const view = registry.start("pr-1", "create", "alice", () => new Operation(async (emit) => {
            for (let i = 0; i < 25; i++) emit(log(i));
            return { action: "up", stack: "pr-1", kind: "preview", status: "succeeded", durations: { totalMs: 0, waitMs: 0, runMs: 0 } } as const;
        }));
        const done = await registry.wait(view.id);
        expect(done).toMatchObject({ events: 25, droppedEvents: 15 });
        const replayed: unknown[] = [];
        registry.subscribe(view.id, (e) => e && replayed.push(e));
        expect(replayed).toHaveLength(10);
    });
});
