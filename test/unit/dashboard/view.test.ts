import { PausableLog, age, conditionRows, applyEvent, changesText, groupResources, operationDuration, parentName, podAge, StackResource, canChange, distinct, EnvironmentRow, fieldError, filterRows, formatTime, LogBuffer, NO_FILTERS, parseRoute, previewBody, progressText, sortRows, statusOf, until } from "../../../stacks/dashboard/web/view";

const rows: EnvironmentRow[] = [
    { stack: "pr-7", kind: "preview", pr: 7, branch: "feat/login", owner: "alice", resourceCount: 12, url: "http://pr-7.localhost" },
    { stack: "platform", kind: "platform", resourceCount: 40 },
    { stack: "pr-9--web", kind: "preview", project: "web", pr: 9, branch: "fix/css", owner: "Bob", resourceCount: 0 },
    { stack: "production", kind: "production", resourceCount: 30, updateInProgress: true },
];

describe("dashboard view logic", () => {
    it("status words, with the reason when not ready", () => {
        expect(statusOf(rows[0])).toEqual({ word: "ready" });
        expect(statusOf(rows[2])).toEqual({ word: "empty", reason: "the stack holds no resources" });
        expect(statusOf(rows[3])).toEqual({ word: "updating", reason: "an update is running" });
        expect(statusOf({ ...rows[0], lastResult: "failed" })).toEqual({ word: "failed", reason: "last update failed" });
        expect(statusOf({ ...rows[0], pendingOperations: 2 })).toEqual({ word: "needs repair", reason: "2 interrupted resource operations" });
        expect(statusOf(rows[0], { stack: "pr-7", operation: "x", action: "destroy", state: "running", startedAt: "", step: "destroying", done: 3, total: 12 }))
            .toEqual({ word: "destroying", reason: "destroying, 3 of 12 resources" });
        expect(progressText({})).toBe("starting");
    });

    it("filters by project, type, owner, status and a search over several fields", () => {
        const names = (f: Partial<typeof NO_FILTERS>) => filterRows(rows, { ...NO_FILTERS, ...f }).map((r) => r.stack);
        expect(names({})).toHaveLength(4);
        expect(names({ project: "web" })).toEqual(["pr-9--web"]);
        expect(names({ project: "default", kind: "preview" })).toEqual(["pr-7"]);
        expect(names({ owner: "Bob" })).toEqual(["pr-9--web"]);
        expect(names({ status: "updating" })).toEqual(["production"]);
        expect(names({ search: "LOGIN" })).toEqual(["pr-7"]);
        expect(names({ search: "#9" })).toEqual(["pr-9--web"]);
        expect(names({ search: "pr-7.localhost" })).toEqual(["pr-7"]);
        expect(distinct(rows, (r) => r.owner)).toEqual(["Bob", "alice"]);
    });

    it("sorts the platform first, then production, then previews newest first", () => {
        expect(sortRows(rows).map((r) => r.stack)).toEqual(["platform", "production", "pr-9--web", "pr-7"]);
    });

    it("times in the viewer's time zone; ages and expiries", () => {
        const iso = "2026-03-01T23:30:00Z";
        expect(formatTime(iso, "UTC")).toBe("1 Mar 2026, 23:30");
        expect(formatTime(iso, "Asia/Tokyo")).toBe("2 Mar 2026, 08:30");
        expect(formatTime(undefined)).toBe("—");
        expect(formatTime("not a time")).toBe("—");
        const now = Date.parse(iso);
        expect(age("2026-02-27T20:00:00Z", now)).toBe("2d 3h");
        expect(until("2026-03-02T01:35:10Z", now)).toBe("in 2h 5m");
        expect(until("2026-03-01T23:29:48Z", now)).toBe("expired 12s ago");
    });

    it("offers changes only to an owner of a preview (case-insensitive, owners output too)", () => {
        expect(canChange(rows[0], "alice")).toBe(true);
        expect(canChange(rows[0], "ALICE")).toBe(true);
        expect(canChange(rows[0], "bob")).toBe(false);
        expect(canChange({ ...rows[0], outputs: { owners: ["alice", "carol"] } }, "carol")).toBe(true);
        expect(canChange({ ...rows[1], owner: "alice" }, "alice")).toBe(false);
    });

    it("puts an API error next to the field it names", () => {
        const fields = ["pr", "branch", "image", "ttl"];
        expect(fieldError("pr: Too small: expected number to be >0", fields)).toEqual({ field: "pr", message: "Too small: expected number to be >0" });
        expect(fieldError("branch: not a branch name, got \"a b\"", fields)).toEqual({ field: "branch", message: "not a branch name, got \"a b\"" });
        expect(fieldError("pr-5 is busy: operation x (create) is running", fields)).toEqual({ message: "pr-5 is busy: operation x (create) is running" });
        expect(fieldError("alice does not own pr-5", fields)).toEqual({ message: "alice does not own pr-5" });
    });

    it("builds the create body as typed, leaving the checks to the API", () => {
        expect(previewBody({ pr: " 12 ", branch: "feat/x ", image: "", ttl: "" })).toEqual({ pr: 12, branch: "feat/x" });
        expect(previewBody({ pr: "-3", branch: "a", image: "nginx:1", ttl: "2h" })).toEqual({ pr: -3, branch: "a", image: "nginx:1", ttl: "2h" });
        expect(previewBody({ pr: "twelve", branch: "", image: "", ttl: "" })).toEqual({ pr: "twelve", branch: "" });
    });

    it("folds operation events into progress", () => {
        let p = applyEvent({}, "step", { step: "updating", message: "pulumi up" });
        p = applyEvent(p, "resource", { done: 3, total: 10 });
        expect(p).toEqual({ step: "updating", lastMessage: "pulumi up", done: 3, total: 10 });
        p = applyEvent(p, "done", { status: "failed", result: { error: "quota exceeded" } });
        p = applyEvent(p, "end", { state: "failed" });
        expect(p).toMatchObject({ status: "failed", error: "quota exceeded" });
        expect(applyEvent({}, "end", { state: "error", error: "boom" })).toEqual({ status: "error", error: "boom" });
        expect(applyEvent({ step: "x" }, "log", { message: "hi" })).toEqual({ step: "x" });
    });

    it("a log buffer joins split lines, caps lines and bytes, and counts what it dropped", () => {
        const b = new LogBuffer(3, 1000);
        b.push("one\ntw");
        b.push("o\nthree\nfour\nfi");
        expect(b.lines).toEqual(["two", "three", "four"]);
        expect(b.dropped).toBe(1);
        b.flush();
        expect(b.lines).toEqual(["three", "four", "fi"]);
        expect(b.dropped).toBe(2);
        const bytes = new LogBuffer(100, 10);
        bytes.push("12345\n67890\nab\n");
        expect(bytes.lines).toEqual(["67890", "ab"]);
        expect(bytes.dropped).toBe(1);
        const long = new LogBuffer(100, 8);
        long.push("x".repeat(20));
        // A line longer than the budget is cut to fit rather than held without end.
        expect(long.lines).toEqual(["x".repeat(7)]);
        expect(long.dropped).toBe(0);
    });

    it("routes by hash", () => {
        expect(parseRoute("#/environments/pr-7")).toEqual({ page: "environment", name: "pr-7" });
        expect(parseRoute("#/")).toEqual({ page: "list" });
        expect(parseRoute("#/environments/../x")).toEqual({ page: "list" });
    });

    it("an operation's changes, what changed first; its duration or running", () => {
        expect(changesText({ same: 20, create: 3, update: 1 })).toBe("3 created, 1 updated, 20 unchanged");
        expect(changesText({ delete: 25 })).toBe("25 deleted");
        expect(changesText({ "create-replacement": 1 })).toBe("1 create-replacement");
        expect(changesText({})).toBe("no changes");
        expect(changesText({ same: 0 })).toBe("no changes");
        const op = { kind: "update", result: "succeeded", startTime: "2026-12-07T06:00:00.000Z", changes: {}, startedBy: {} };
        expect(operationDuration({ ...op, durationMs: 75_000 })).toBe("1m 15s");
        expect(operationDuration(op)).toBe("running");
    });

    it("groups resources by type, names sorted; names a parent other than the stack", () => {
        const stack = "urn:pulumi:pr-1::catalyst::pulumi:pulumi:Stack::catalyst-pr-1";
        const r = (type: string, name: string, parent?: string): StackResource => ({ type, name, urn: `urn:pulumi:pr-1::catalyst::${type}::${name}`, custom: true, parent });
        const groups = groupResources([r("kubernetes:core/v1:Service", "web"), r("kubernetes:apps/v1:Deployment", "web"), r("kubernetes:core/v1:Service", "api")]);
        expect(groups.map((g) => [g.type, g.resources.map((x) => x.name)])).toEqual([
            ["kubernetes:apps/v1:Deployment", ["web"]],
            ["kubernetes:core/v1:Service", ["api", "web"]],
        ]);
        expect(groupResources([])).toEqual([]);
        expect(parentName(r("t", "a", stack))).toBeUndefined();
        expect(parentName(r("t", "a"))).toBeUndefined();
        expect(parentName(r("t", "a", "urn:pulumi:pr-1::catalyst::catalyst:environment:App::app"))).toBe("app");
    });

    it("a pod's age since it started, else since it was created", () => {
        const now = Date.parse("2026-12-07T07:00:00Z");
        expect(podAge({ createdAt: "2026-12-07T05:00:00Z", startedAt: "2026-12-07T06:58:30Z" }, now)).toBe("1m 30s");
        expect(podAge({ createdAt: "2026-12-07T05:00:00Z" }, now)).toBe("2h 0m");
        expect(podAge({}, now)).toBe("—");
    });

    it("pausing the log view freezes what it shows while lines keep arriving; resume shows the latest", () => {
        const log = new PausableLog(new LogBuffer(3, 1024));
        log.buffer.push("a\nb\n");
        expect(log.view()).toEqual({ lines: ["a", "b"], dropped: 0, waiting: 0 });
        log.pause();
        log.buffer.push("c\nd\ne\n");
        // The buffer capped itself at 3 lines underneath (a and b dropped); the view did not move.
        expect([log.paused, log.view()]).toEqual([true, { lines: ["a", "b"], dropped: 0, waiting: 3 }]);
        log.pause(); // a second pause keeps the first moment
        expect(log.view().lines).toEqual(["a", "b"]);
        log.resume();
        expect([log.paused, log.view()]).toEqual([false, { lines: ["c", "d", "e"], dropped: 2, waiting: 0 }]);
        log.buffer.push("f\n");
        expect(log.view()).toEqual({ lines: ["d", "e", "f"], dropped: 3, waiting: 0 });
    });

    it("conditions as table rows: since in the viewer's zone (— when unknown), the ones not fine for their type marked", () => {
        const rows = conditionRows([
            { type: "Deployed", status: "True", reason: "UpdateSucceeded", message: "the last update succeeded", lastTransitionTime: "2026-12-07T06:30:00Z" },
            { type: "PodsReady", status: "False", reason: "PodsNotReady", message: "1 of 2 pods ready" },
            { type: "Interrupted", status: "False", reason: "NoPendingOperations", message: "" },
            { type: "Stalled", status: "True", reason: "TooManyFailures", message: "5 failures", lastTransitionTime: "2026-12-07T06:00:00Z" },
        ], "Europe/Berlin");
        expect(rows).toEqual([
            { type: "Deployed", status: "True", reason: "UpdateSucceeded", message: "the last update succeeded", since: "7 Dec 2026, 07:30", healthy: true },
            { type: "PodsReady", status: "False", reason: "PodsNotReady", message: "1 of 2 pods ready", since: "—", healthy: false },
            { type: "Interrupted", status: "False", reason: "NoPendingOperations", message: "", since: "—", healthy: true },
            { type: "Stalled", status: "True", reason: "TooManyFailures", message: "5 failures", since: "7 Dec 2026, 07:00", healthy: false },
        ]);
        expect(conditionRows(undefined)).toEqual([]);
        // Times inside a message are the viewer's, as the rest of the page.
        expect(conditionRows([{ type: "Expired", status: "False", reason: "TTLRunning", message: "expires at 2026-12-10T07:34:39.296Z; an up with a new ttl moves it" }], "Europe/Berlin")[0].message)
            .toBe("expires at 10 Dec 2026, 08:34; an up with a new ttl moves it");
    });
});
