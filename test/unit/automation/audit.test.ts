import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { appendAudit, auditRecord, defaultActor, redact } from "../../../stacks/automation/audit";
import { OperationResult } from "../../../stacks/automation/types";

const result: OperationResult = {
    action: "up",
    stack: "pr-12",
    kind: "preview",
    pr: 12,
    status: "succeeded",
    updateId: "4",
    changed: true,
    url: "https://pr-12.preview.example.com",
    outputs: { kubeconfig: "[secret]", namespace: "env-pr-12" },
    durations: { totalMs: 1234.6, waitMs: 10, runMs: 1200 },
};

describe("audit log", () => {
    it("records time, actor, action, stack, result, update id and duration, and nothing from outputs", () => {
        const record = auditRecord(result, "alice");
        expect(Object.keys(record)).toEqual(["time", "actor", "action", "stack", "result", "updateId", "durationMs", "pr", "changed"]);
        expect(record).toMatchObject({ actor: "alice", action: "up", stack: "pr-12", result: "succeeded", updateId: "4", durationMs: 1235, pr: 12, changed: true });
        expect(new Date(record.time).toISOString()).toBe(record.time);
        expect(JSON.stringify(record)).not.toContain("kubeconfig");
    });

    it("writes null for the update id of an operation that never ran, and the reason", () => {
        const busy = auditRecord({ ...result, status: "busy", updateId: undefined, changed: undefined, error: "pr-12 is busy" }, "ci", "gc:closed");
        expect(busy).toMatchObject({ result: "busy", updateId: null, reason: "gc:closed", error: "pr-12 is busy" });
    });

    it("redacts secrets from error lines", () => {
        const env = { PULUMI_CONFIG_PASSPHRASE: "hunter2-very-secret", GITHUB_TOKEN: "ghp_abcdefghijklmnop", HOME: "/root" };
        expect(redact("decrypt failed with hunter2-very-secret\nsecond line", env)).toBe("decrypt failed with [redacted]");
        expect(redact("call used ghp_abcdefghijklmnop", env)).toBe("call used [redacted]");
        expect(redact("password=abc123 token: xyz Authorization: Bearer abcdefghijkl", {})).toBe("password=[redacted] token: [redacted] Authorization: Bearer [redacted]");
        expect(redact("x".repeat(400), {})).toHaveLength(300);
    });

    it("appends exactly one JSON line per call, creating the directory", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "catalyst-audit-"));
        try {
            const file = path.join(dir, "nested", "audit.log");
            appendAudit(file, auditRecord(result, "alice"));
            appendAudit(file, auditRecord({ ...result, action: "destroy" }, "bob"));
            const lines = readFileSync(file, "utf8").split("\n");
            expect(lines).toHaveLength(3);
            expect(lines[2]).toBe("");
            expect(lines.slice(0, 2).map((l) => JSON.parse(l).action)).toEqual(["up", "destroy"]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("takes the actor from CATALYST_ACTOR, then GITHUB_ACTOR", () => {
        expect(defaultActor({ CATALYST_ACTOR: "bot", GITHUB_ACTOR: "octocat" })).toBe("bot");
        expect(defaultActor({ GITHUB_ACTOR: "octocat" })).toBe("octocat");
        expect(defaultActor({})).not.toBe("");
    });
});
