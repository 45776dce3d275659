import { spawn } from "child_process";
import { randomInt } from "crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "fs";
import * as path from "path";
import { Automation } from "../../stacks/automation/operations";
import { ensurePlatform, kubectl, PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";

/*
 * Fair limits end to end (issue 17 section 4): real engine, real CLI, the local cluster. One
 * minimal preview of alice exists; with a cap of one preview per owner the real CLI refuses her
 * next one with exit 1 and a message naming the cap and her preview, and creates nothing: no
 * stack, no work dir, no namespace. Another owner's preview is not refused.
 */
jest.setTimeout(15 * 60_000);

const run = randomInt(100, 999);
const [first, capped, other] = [1, 2, 3].map((i) => run * 100 + 50 + i);
const workRoot = path.join(repoRoot, ".catalyst", `test-work-limits-${run}`);
const auditLog = path.join(repoRoot, ".catalyst", "test-results", `limits-audit-${run}.log`);
const minimal = { "catalyst:database": { mode: "none" }, "catalyst:redis": { enabled: false } };
const catalyst = path.join(repoRoot, "bin", "catalyst.js");

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [catalyst, ...args], {
            env: { ...process.env, CATALYST_WORK_ROOT: workRoot, CATALYST_AUDIT_LOG: auditLog, CATALYST_PLATFORM_STACK: PLATFORM_STACK, CI: "true", ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

const namespaceExists = (pr: number) => kubectl(["get", "namespaces", "-o", "name"]).split("\n").includes(`namespace/env-pr-${pr}`);

describe("preview caps on the local cluster", () => {
    let automation: Automation;

    beforeAll(async () => {
        requireTestEnvironment();
        mkdirSync(path.dirname(auditLog), { recursive: true });
        await ensurePlatform();
        automation = new Automation({ repoRoot, workRoot, auditLog, platformStack: PLATFORM_STACK, actor: "integration-test", previewLimits: {} });
    });

    afterAll(async () => {
        if (automation) await Promise.all([first, capped, other].map((pr) => automation.destroyPreview(pr).result));
        rmSync(workRoot, { recursive: true, force: true });
    });

    it("refuses alice's next preview at a cap of one and creates nothing; bob's is created", async () => {
        const up = await automation.upPreview({ pr: first, branch: "feat/cap-1", owners: "alice", ttl: "2h", config: minimal }).result;
        expect(up.status).toBe("succeeded");

        const cap = { CATALYST_PREVIEWS_PER_OWNER: "1" };
        const refused = await cli(["preview", "up", "--pr", String(capped), "--branch", "feat/cap-2", "--owners", "alice", "--json"], cap);
        expect(refused.status).toBe(1);
        const result = JSON.parse(refused.stdout);
        expect(result).toMatchObject({ action: "up", stack: `pr-${capped}`, status: "failed" });
        expect(result.error).toBe(`preview cap reached: owner alice already has 1 preview(s) in the default Project (pr-${first}) and previewsPerOwner is 1 ` +
            `(CATALYST_PREVIEWS_PER_OWNER or the Project's spec.limits.previewsPerOwner); destroy one with catalyst preview down --pr <n> before pr-${capped} can be created`);
        expect((await automation.listPreviews()).map((p) => p.stack)).not.toContain(`pr-${capped}`);
        expect(existsSync(path.join(workRoot, `pr-${capped}`))).toBe(false);
        expect(namespaceExists(capped)).toBe(false);
        const audit = readFileSync(auditLog, "utf8").trim().split("\n").map((l) => JSON.parse(l));
        expect(audit.at(-1)).toMatchObject({ action: "up", stack: `pr-${capped}`, result: "failed" });

        // An update of alice's existing preview is not refused at the cap; another owner is not
        // capped by hers. (Through the library: the CLI passes no minimal config.)
        const limits = { previewsPerOwner: 1 };
        const again = await automation.upPreview({ pr: first, branch: "feat/cap-1", owners: "alice", ttl: "2h", config: minimal, limits }).result;
        expect([again.status, again.changed]).toEqual(["succeeded", false]);
        const bob = await automation.upPreview({ pr: other, branch: "feat/cap-3", owners: "bob", ttl: "2h", config: minimal, limits }).result;
        expect(bob.status).toBe("succeeded");
        expect(namespaceExists(other)).toBe(true);
    });
});
