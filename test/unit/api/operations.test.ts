import { Operation } from "../../../stacks/automation/events";
import type { OperationResult } from "../../../stacks/automation";
import { formatSse, OperationRegistry } from "../../../stacks/api/operations";

function op(stack: string, gate: Promise<void>, status: OperationResult["status"] = "succeeded") {
    return new Operation<OperationResult>(async (emit) => {
        const time = "2026-01-01T00:00:00.000Z";
        emit({ type: "step", stack, step: "updating", message: "one", time });
        await gate;
        const result: OperationResult = { action: "up", stack, kind: "preview", status, durations: { totalMs: 0, waitMs: 0, runMs: 0 } };
        emit({ type: "done", stack, status, result, time });
        return result;
    });
}

describe("operation registry", () => {
    it("runs one operation per stack, records events and the result", async () => {
        const registry = new OperationRegistry();
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const view = registry.start("pr-1", "create", "alice", () => op("pr-1", gate));
        expect(view.state).toBe("running");
        expect(() => registry.start("pr-1", "create", "bob", () => op("pr-1", gate))).toThrow(`pr-1 is busy: operation ${view.id} (create) is running`);
        const other = registry.start("pr-2", "create", "bob", () => op("pr-2", Promise.resolve()));
        const seen: (string | undefined)[] = [];
        registry.subscribe(view.id, (e) => seen.push(e?.type));
        release();
        const done = await registry.wait(view.id);
        expect(done).toMatchObject({ state: "succeeded", events: 2, result: { stack: "pr-1", status: "succeeded" } });
        expect(done.finishedAt).toBeDefined();
        expect(seen).toEqual(["step", "done", undefined]);
        expect((await registry.wait(other.id)).state).toBe("succeeded");
        // Finished: the stack is free again, and late subscribers get the replay and the end.
        expect(registry.active("pr-1")).toBeUndefined();
        const late: (string | undefined)[] = [];
        registry.subscribe(view.id, (e) => late.push(e?.type));
        expect(late).toEqual(["step", "done", undefined]);
    });

    it("registers nothing when start throws (bad input)", () => {
        const registry = new OperationRegistry();
        expect(() => registry.start("pr-1", "create", "a", () => { throw new Error("bad"); })).toThrow("bad");
        expect(registry.active("pr-1")).toBeUndefined();
    });

    it("reports unknown ids as not-found and bounds kept events and operations", async () => {
        const registry = new OperationRegistry({ maxEvents: 1, maxFinished: 1 });
        expect(() => registry.get("nope")).toThrow("no operation nope");
        const a = registry.start("pr-1", "create", "a", () => op("pr-1", Promise.resolve()));
        await registry.wait(a.id);
        const b = registry.start("pr-2", "create", "a", () => op("pr-2", Promise.resolve(), "busy"));
        expect((await registry.wait(b.id)).state).toBe("busy");
        expect(() => registry.get(a.id)).toThrow(`no operation ${a.id}`);
        const events: unknown[] = [];
        registry.subscribe(b.id, (e) => events.push(e));
        expect(events).toHaveLength(2); // the last event kept, then the end marker
    });
});

describe("server-sent events", () => {
    it("formats event, id and one data line per JSON line", () => {
        expect(formatSse("step", { a: 1 }, 3)).toBe('event: step\nid: 3\ndata: {"a":1}\n\n');
        expect(formatSse("x\ny", "multi\nline")).toBe('event: xy\ndata: "multi\\nline"\n\n');
    });
});
