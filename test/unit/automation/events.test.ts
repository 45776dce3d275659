import type { EngineEvent } from "@pulumi/pulumi/automation";
import { EventChannel, FailedResourceWatch, Operation, plainText, ProgressTracker, urnType } from "../../../stacks/automation/events";
import { CatalystEvent } from "../../../stacks/automation/types";

const urn = (name: string, type = "kubernetes:core/v1:Namespace") => `urn:pulumi:pr-1::catalyst::${type}::${name}`;
const meta = (name: string, op = "create", type = "kubernetes:core/v1:Namespace") =>
    ({ op, urn: urn(name, type), type, provider: "" }) as EngineEvent["resourcePreEvent"] extends infer T ? T extends { metadata: infer M } ? M : never : never;
const event = (fields: Partial<EngineEvent>): EngineEvent => ({ sequence: 0, timestamp: 0, ...fields });

describe("engine events to progress", () => {
    it("counts resources done of total from pre and outputs events", () => {
        const tracker = new ProgressTracker("pr-1", 3);
        const out: CatalystEvent[] = [];
        const feed = (e: EngineEvent) => out.push(...tracker.handle(e));
        feed(event({ resourcePreEvent: { metadata: meta("a") } }));
        feed(event({ resourcePreEvent: { metadata: meta("b", "same") } }));
        feed(event({ resOutputsEvent: { metadata: meta("a") } }));
        feed(event({ resourcePreEvent: { metadata: meta("c") } }));
        feed(event({ resourcePreEvent: { metadata: meta("d") } }));
        feed(event({ resOpFailedEvent: { metadata: meta("c"), status: 1, steps: 1 } }));
        feed(event({ resOutputsEvent: { metadata: meta("b", "same") } }));
        expect(out.map((e) => e.type === "resource" && [e.name, e.op, e.state, e.done, e.total])).toEqual([
            ["a", "create", "started", 0, 3],
            ["b", "same", "started", 0, 3],
            ["a", "create", "done", 1, 3],
            ["c", "create", "started", 1, 3],
            ["d", "create", "started", 1, 4],
            ["c", "create", "failed", 2, 4],
            ["b", "same", "done", 3, 4],
        ]);
        expect(out[0]).toMatchObject({ type: "resource", stack: "pr-1", urn: urn("a"), resourceType: "kubernetes:core/v1:Namespace" });
    });

    it("ignores planning events, prelude config values and stdout", () => {
        const tracker = new ProgressTracker("pr-1");
        expect(tracker.handle(event({ resourcePreEvent: { metadata: meta("a"), planning: true } }))).toEqual([]);
        expect(tracker.handle(event({ preludeEvent: { config: { "catalyst:token": "s3cret" } } }))).toEqual([]);
        expect(tracker.handle(event({ stdoutEvent: { message: "Updating (pr-1)", color: "never" } }))).toEqual([]);
        expect(tracker.total).toBe(0);
    });

    it("maps diagnostics to log levels, without colour codes", () => {
        const tracker = new ProgressTracker("pr-1");
        const diag = (severity: "info" | "warning" | "error", message: string, ephemeral = false) =>
            tracker.handle(event({ diagnosticEvent: { severity, message, color: "raw", ephemeral, urn: urn("a") } }))[0];
        expect(diag("error", "<{%fg 1%}>boom<{%reset%}>\n")).toMatchObject({ type: "log", level: "error", message: "boom", urn: urn("a") });
        expect(diag("warning", "careful")).toMatchObject({ level: "warning" });
        expect(diag("info", "fine")).toMatchObject({ level: "info" });
        expect(diag("info", "waiting", true)).toMatchObject({ level: "debug" });
        expect(diag("debug" as "info", "Secret data: c2VjcmV0")).toBeUndefined();
        expect(plainText("\u001b[31mred\u001b[0m  ")).toBe("red");
    });

    it("keeps the engine's change summary", () => {
        const tracker = new ProgressTracker("pr-1");
        tracker.handle(event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges: { create: 2, same: 1 }, policyPacks: {} } }));
        expect(tracker.summary).toEqual({ create: 2, same: 1 });
    });
});

describe("event streams", () => {
    it("gives every reader every event, also one that starts late", async () => {
        const channel = new EventChannel<number>();
        channel.push(1);
        const early: number[] = [];
        const reading = (async () => {
            for await (const n of channel) early.push(n);
        })();
        channel.push(2);
        channel.close();
        channel.push(3);
        await reading;
        const late: number[] = [];
        for await (const n of channel) late.push(n);
        expect(early).toEqual([1, 2]);
        expect(late).toEqual([1, 2]);
    });

    it("an Operation can be awaited and iterated, and a throwing listener does not break it", async () => {
        const seen: string[] = [];
        const op = new Operation<string>(async (emit) => {
            emit({ type: "step", stack: "pr-1", step: "updating", message: "pulumi up", time: "" });
            await new Promise((resolve) => setTimeout(resolve, 5));
            emit({ type: "log", stack: "pr-1", level: "info", message: "hi", time: "" });
            return "ok";
        }, (e) => {
            seen.push(e.type);
            throw new Error("listener bug");
        });
        const types: string[] = [];
        for await (const e of op) types.push(e.type);
        expect(types).toEqual(["step", "log"]);
        expect(seen).toEqual(["step", "log"]);
        expect(await op).toBe("ok");
    });
});

describe("FailedResourceWatch", () => {
    const time = "2026-01-01T00:00:00Z";
    const urn = "urn:pulumi:pr-1::catalyst::catalyst:environment:Database$kubernetes:core/v1:Secret::db";
    it("prefers the first failed resource over an error naming another one, and ignores the root stack", () => {
        const watch = new FailedResourceWatch();
        watch.handle({ type: "log", stack: "pr-1", level: "error", message: "x", urn: "urn:pulumi:pr-1::catalyst::pulumi:pulumi:Stack::catalyst-pr-1", time });
        expect(watch.resource).toBeUndefined();
        watch.handle({ type: "log", stack: "pr-1", level: "error", message: "x", urn, time });
        expect(watch.resource).toEqual({ urn, type: "kubernetes:core/v1:Secret", name: "db" });
        watch.handle({ type: "resource", stack: "pr-1", urn: "urn:pulumi:pr-1::catalyst::kubernetes:apps/v1:Deployment::app", resourceType: "kubernetes:apps/v1:Deployment", name: "app", op: "create", state: "failed", done: 1, total: 2, time });
        expect(watch.resource?.name).toBe("app");
        expect(urnType("not-a-urn")).toBe("");
    });
});
