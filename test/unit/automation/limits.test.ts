import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { checkPreviewLimits, PREVIEW_LIMIT_ENV, previewLimitsFromEnv } from "../../../stacks/automation/limits";
import { Automation } from "../../../stacks/automation/operations";
import { withoutBackend } from "./no-backend";
import { CatalystEvent, EnvironmentRecord } from "../../../stacks/automation/types";
import { projectSpecSchema } from "../../../stacks/resources/types";

/* Fair limits (issue 17 section 4): caps per owner and per Project, checked before anything is created. */

const record = (pr: number, owner: string, extra: Partial<EnvironmentRecord> = {}): EnvironmentRecord =>
    ({ stack: extra.project ? `pr-${pr}--${extra.project}` : `pr-${pr}`, kind: "preview", pr, owner, createdAt: `2026-01-0${pr}T00:00:00Z`, ...extra });

describe("checkPreviewLimits", () => {
    const now = new Date("2026-06-01T00:00:00Z");
    const previews = [record(3, "alice"), record(1, "alice", { expiresAt: "2026-01-04T00:00:00Z" }), record(2, "bob"), record(4, "alice", { project: "web" })];

    it("refuses the owner's next preview, naming the cap, the owner and its previews oldest first, expired ones too", () => {
        const refusal = checkPreviewLimits(previews, { stack: "pr-9", owner: "alice" }, { previewsPerOwner: 2 }, now);
        expect(refusal).toEqual({
            cap: "previewsPerOwner", limit: 2, previews: ["pr-1", "pr-3"],
            message: "preview cap reached: owner alice already has 2 preview(s) in the default Project (pr-1, pr-3) and previewsPerOwner is 2 " +
                "(CATALYST_PREVIEWS_PER_OWNER or the Project's spec.limits.previewsPerOwner); destroy one with catalyst preview down --pr <n> " +
                "before pr-9 can be created; expired, collected by the next preview gc: pr-1",
        });
    });

    it("allows an update of an existing preview at the cap, another owner, and another Project's count", () => {
        expect(checkPreviewLimits(previews, { stack: "pr-3", owner: "alice" }, { previewsPerOwner: 2 }, now)).toBeUndefined();
        expect(checkPreviewLimits(previews, { stack: "pr-9", owner: "bob" }, { previewsPerOwner: 2 }, now)).toBeUndefined();
        expect(checkPreviewLimits(previews, { stack: "pr-9--web", project: "web", owner: "alice" }, { previewsPerOwner: 2 }, now)).toBeUndefined();
        expect(checkPreviewLimits(previews, { stack: "pr-9", owner: "alice" }, {}, now)).toBeUndefined();
    });

    it("refuses a Project's next preview at its cap, whoever asks", () => {
        const refusal = checkPreviewLimits(previews, { stack: "pr-9", owner: "carol" }, { previewsPerOwner: 5, previewsPerProject: 3 }, now);
        expect(refusal?.cap).toBe("previewsPerProject");
        expect(refusal?.message).toMatch(/^preview cap reached: the default Project already has 3 preview\(s\) \(pr-1, pr-2, pr-3\) and previewsPerProject is 3 /);
        expect(checkPreviewLimits(previews, { stack: "pr-9--web", project: "web", owner: "carol" }, { previewsPerProject: 1 }, now)?.message)
            .toMatch(/^preview cap reached: Project web already has 1 preview\(s\) \(pr-4--web\)/);
    });
});

describe("previewLimitsFromEnv and the Project's spec.limits", () => {
    it("reads both variables; unset or empty is no cap", () => {
        expect(previewLimitsFromEnv({})).toEqual({});
        expect(previewLimitsFromEnv({ [PREVIEW_LIMIT_ENV.previewsPerOwner]: "3", [PREVIEW_LIMIT_ENV.previewsPerProject]: " " })).toEqual({ previewsPerOwner: 3 });
        expect(previewLimitsFromEnv({ CATALYST_PREVIEWS_PER_PROJECT: "20" })).toEqual({ previewsPerProject: 20 });
    });

    it.each(["0", "-1", "2.5", "three", "1001", "1e3"])("refuses %j, naming the variable and what is allowed", (value) => {
        expect(() => previewLimitsFromEnv({ CATALYST_PREVIEWS_PER_OWNER: value }))
            .toThrow(`CATALYST_PREVIEWS_PER_OWNER: must be a whole number from 1 to 1000 (or unset: no cap), got ${JSON.stringify(value)}`);
    });

    it("is the same schema as the Project resource's spec.limits", () => {
        expect(projectSpecSchema.parse({ limits: { previewsPerOwner: 2, previewsPerProject: 10 } }).limits).toEqual({ previewsPerOwner: 2, previewsPerProject: 10 });
        expect(projectSpecSchema.safeParse({ limits: { previewsPerOwner: 0 } }).success).toBe(false);
        expect(projectSpecSchema.safeParse({ limits: { previews: 3 } }).success).toBe(false);
    });
});

describe("Automation.upPreview with a cap (fake worker)", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-limits-"));
        process.env.FAKE_LOG = path.join(dir, "worker.jsonl");
    });
    afterEach(() => {
        delete process.env.FAKE_LOG;
        rmSync(dir, { recursive: true, force: true });
    });
    const make = () => new Automation({
        repoRoot: dir, workRoot: path.join(dir, "work"), auditLog: path.join(dir, "audit.log"), workerPath: path.join(__dirname, "fixtures", "fake-worker.js"),
        actor: "ci-bot", platformStack: "platform", previewLimits: { previewsPerOwner: 2 },
    });

    it("refuses the next preview of an owner at the cap and creates nothing: no worker, no work dir; the refusal is audited", async () => {
        const automation = make();
        jest.spyOn(automation, "listPreviews").mockResolvedValue([record(1, "alice"), record(2, "alice")]);
        const events: CatalystEvent[] = [];
        const result = await automation.upPreview({ pr: 3, branch: "feat/x", owners: ["alice"] }, { onEvent: (e) => events.push(e) }).result;
        expect(result).toMatchObject({ action: "up", stack: "pr-3", pr: 3, status: "failed" });
        expect(result.error).toMatch(/^preview cap reached: owner alice already has 2 preview\(s\) in the default Project \(pr-1, pr-2\) and previewsPerOwner is 2/);
        expect(events.map((e) => e.type)).toEqual(["done"]);
        expect(existsSync(process.env.FAKE_LOG as string)).toBe(false);
        expect(existsSync(path.join(dir, "work"))).toBe(false);
        const audit = readFileSync(path.join(dir, "audit.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
        expect(audit).toEqual([expect.objectContaining({ action: "up", stack: "pr-3", result: "failed", actor: "ci-bot" })]);
    });

    it("still updates an existing preview at the cap, and a call's own limits win over the instance's", async () => {
        const automation = make();
        jest.spyOn(automation, "listPreviews").mockResolvedValue([record(1, "alice"), record(2, "alice")]);
        expect((await automation.upPreview({ pr: 2, branch: "feat/x", owners: ["alice"] }).result).status).toBe("succeeded");
        expect((await automation.upPreview({ pr: 3, branch: "feat/x", owners: ["alice"], limits: { previewsPerOwner: 3 } }).result).status).toBe("succeeded");
    });

    it("refuses, changing nothing, when the previews cannot be counted", async () => {
        const automation = make();
        jest.spyOn(automation, "listPreviews").mockRejectedValue(new Error("list stacks: no answer from the backend within 120 s"));
        const result = await automation.upPreview({ pr: 3, branch: "feat/x", owners: ["alice"] }).result;
        expect([result.status, result.error]).toEqual(["failed", "could not count the previews for the cap, nothing was changed: list stacks: no answer from the backend within 120 s"]);
        expect(existsSync(process.env.FAKE_LOG as string)).toBe(false);
    });

    it("reads the variables at the first upPreview: a bad one refuses that call as bad input, other operations are not affected", () => {
        process.env.CATALYST_PREVIEWS_PER_OWNER = "lots";
        try {
            const automation = new Automation({ repoRoot: dir, workRoot: path.join(dir, "work"), auditLog: path.join(dir, "audit.log"), workerPath: path.join(__dirname, "fixtures", "fake-worker.js"), actor: "a", platformStack: "platform" });
            expect(() => automation.upPreview({ pr: 3, branch: "feat/x" })).toThrow('CATALYST_PREVIEWS_PER_OWNER: must be a whole number from 1 to 1000 (or unset: no cap), got "lots"');
            expect(existsSync(path.join(dir, "work"))).toBe(false);
        } finally {
            delete process.env.CATALYST_PREVIEWS_PER_OWNER;
        }
    });

    it("lists nothing when no cap is set", async () => {
        const automation = withoutBackend(new Automation({ repoRoot: dir, workRoot: path.join(dir, "work"), auditLog: path.join(dir, "audit.log"), workerPath: path.join(__dirname, "fixtures", "fake-worker.js"), actor: "a", platformStack: "platform", previewLimits: {} }));
        const list = jest.spyOn(automation, "listPreviews");
        expect((await automation.upPreview({ pr: 3, branch: "feat/x" }).result).status).toBe("succeeded");
        expect(list).not.toHaveBeenCalled();
    });
});
