import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as yaml from "js-yaml";
import { tmpdir } from "os";
import * as path from "path";
import { DEFAULT_IGNORED_PATHS, globPattern, previewGate, PullRequestEvent } from "../../../stacks/automation/pr-gate";
import { githubCommands } from "../../../stacks/cli/github-commands";
import { EXIT } from "../../../stacks/command";
import { main } from "../../../stacks/main";

/*
 * The preview workflow's paths (issue 17 section 3): which pull-request events deploy (the gate),
 * how the jobs hang together, and that a comment never reaches a shell. There is no GitHub here:
 * the workflow itself is checked by actionlint (npm test) and read below; the decisions it
 * delegates to `catalyst github gate|command|comment` are run for real.
 */

const REPO = path.resolve(__dirname, "..", "..", "..");
interface Step { name?: string; id?: string; if?: string; run?: string; uses?: string; env?: Record<string, string>; with?: Record<string, string> }
interface Job { if?: string; needs?: string | string[]; concurrency?: { group: string; "cancel-in-progress": boolean }; permissions?: Record<string, string>; outputs?: Record<string, string>; steps: Step[] }
const workflow = yaml.load(readFileSync(path.join(REPO, ".github/workflows/preview.yml"), "utf8")) as { on: Record<string, { types?: string[] }>; concurrency?: unknown; jobs: Record<string, Job> };
const action = yaml.load(readFileSync(path.join(REPO, ".github/actions/preview-comment/action.yml"), "utf8")) as { runs: { steps: Step[] } };
const step = (job: string, name: string) => {
    const found = workflow.jobs[job].steps.find((s) => s.name === name || s.id === name);
    if (found === undefined) throw new Error(`no step ${name} in job ${job}`);
    return found;
};

/** A pull_request payload shaped like GitHub's documented one (the fields the gate reads). */
const event = (action: string, fields: { draft?: boolean; labels?: string[]; label?: string } = {}): PullRequestEvent => ({
    action,
    ...(fields.label === undefined ? {} : { label: { name: fields.label } }),
    pull_request: { number: 12, draft: fields.draft ?? false, labels: (fields.labels ?? []).map((name) => ({ name })) },
});

describe("the gate: which pull_request events deploy a preview", () => {
    const code = ["src/app.ts", "docs/cli.md"];
    it.each([
        ["opened", event("opened"), {}, true, "opened: deploying"],
        ["synchronize", event("synchronize"), {}, true, "synchronize: deploying"],
        ["reopened", event("reopened"), {}, true, "reopened: deploying"],
        ["a draft opened", event("opened", { draft: true }), {}, false, "a draft pull request: it gets a preview once it is marked ready for review"],
        ["a draft pushed", event("synchronize", { draft: true }), {}, false, "a draft pull request: it gets a preview once it is marked ready for review"],
        ["marked ready for review", event("ready_for_review"), {}, true, "marked ready for review"],
        ["closed (destroyed by the down job, never gated)", event("closed"), {}, false, "the action closed does not deploy"],
        ["converted to draft", event("converted_to_draft"), {}, false, "the action converted_to_draft does not deploy"],
        ["labeled without a gate", event("labeled", { label: "bug", labels: ["bug"] }), {}, false, "a label was added and no label gate is configured: nothing changed"],
        ["gate on: the preview label added", event("labeled", { label: "preview", labels: ["preview"] }), { label: "preview" }, true, "labeled: deploying"],
        ["gate on: another label added", event("labeled", { label: "bug", labels: ["bug", "preview"] }), { label: "preview" }, false, "a label other than preview was added: nothing changed"],
        ["gate on: a push to a labelled PR", event("synchronize", { labels: ["preview"] }), { label: "preview" }, true, "synchronize: deploying"],
        ["gate on: a push to an unlabelled PR", event("synchronize", { labels: ["bug"] }), { label: "preview" }, false, "the pull request is not labelled preview (CATALYST_PREVIEW_LABEL)"],
        ["gate on: a labelled draft", event("labeled", { label: "preview", labels: ["preview"], draft: true }), { label: "preview" }, false, "a draft pull request: it gets a preview once it is marked ready for review"],
    ])("%s", (_what, payload, settings, preview, reason) => {
        expect(previewGate(payload, { ...settings, files: code })).toEqual({ preview, reason });
    });

    it("deploys nothing for documentation only, and deploys when one other file changed or the files are unknown", () => {
        const docs = ["docs/cli.md", "README.md", "stacks/cli/NOTES.md", "LICENSE", "docs/img/flow.svg"];
        expect(previewGate(event("synchronize"), { files: docs })).toEqual({ preview: false, reason: `only documentation changed (5 file(s) matching ${DEFAULT_IGNORED_PATHS.join(", ")})` });
        expect(previewGate(event("synchronize"), { files: [...docs, "package.json"] }).preview).toBe(true);
        expect(previewGate(event("synchronize"), { files: [] }).preview).toBe(true);
        expect(previewGate(event("synchronize"), { files: ["app/index.ts"], ignore: ["app/**"] }).preview).toBe(false);
    });

    it("matches globs as documented: ** across directories, * and ? within one", () => {
        expect(globPattern("**/*.md").test("a/b/c.md")).toBe(true);
        expect(globPattern("**/*.md").test("c.md")).toBe(true);
        expect(globPattern("docs/**").test("docs/a/b.png")).toBe(true);
        expect(globPattern("docs/*").test("docs/a/b.png")).toBe(false);
        expect(globPattern("LICENSE.?").test("LICENSE.x")).toBe(true);
        expect(globPattern("a+b(c).md").test("a+b(c).md")).toBe(true);
        expect(globPattern("*.md").test("dir/x.md")).toBe(false);
    });
});

describe("catalyst github gate on event files", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "catalyst-gate-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const gate = async (payload: unknown, files: string[] | undefined, env: NodeJS.ProcessEnv = {}) => {
        writeFileSync(path.join(dir, "event.json"), typeof payload === "string" ? payload : JSON.stringify(payload));
        const argv = ["github", "gate", "--event", path.join(dir, "event.json"), "--json"];
        if (files !== undefined) {
            writeFileSync(path.join(dir, "files.txt"), files.join("\n"));
            argv.push("--files", path.join(dir, "files.txt"));
        }
        let stdout = "";
        let stderr = "";
        const table = githubCommands({ automation: async () => { throw new Error("the gate needs no automation"); }, resources: async () => { throw new Error("no"); }, env });
        const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, undefined, table);
        return { code, decision: stdout === "" ? undefined : JSON.parse(stdout), stderr: stderr.trim() };
    };

    it("reads the label gate and the ignore globs from the environment", async () => {
        expect(await gate(event("opened"), ["src/a.ts"])).toEqual({ code: EXIT.ok, decision: { preview: true, reason: "opened: deploying" }, stderr: "" });
        expect((await gate(event("opened"), ["src/a.ts"], { CATALYST_PREVIEW_LABEL: "preview" })).decision.preview).toBe(false);
        expect((await gate(event("opened", { labels: ["preview"] }), ["src/a.ts"], { CATALYST_PREVIEW_LABEL: "preview" })).decision.preview).toBe(true);
        expect((await gate(event("opened"), ["src/a.ts"], { CATALYST_PREVIEW_IGNORE: "src/**, docs/**" })).decision.preview).toBe(false);
        expect((await gate(event("opened"), ["README.md"])).decision.preview).toBe(false);
        expect((await gate(event("opened"), undefined)).decision.preview).toBe(true);
    });

    it("refuses a file that is no pull_request payload, naming --event", async () => {
        const run = await gate("{\"comment\": {}}", undefined);
        expect(run.code).toBe(EXIT.usage);
        expect(run.stderr).toMatch(/^catalyst github gate: --event: .*event\.json is not a pull_request event payload \(no action or pull_request\.number\)$/);
    });
});

describe("the preview workflow", () => {
    it("listens to the pull request actions the gate knows, comments, the hourly gc", () => {
        expect(workflow.on.pull_request.types).toEqual(["opened", "synchronize", "reopened", "ready_for_review", "labeled", "unlabeled", "closed"]);
        expect((workflow.on.schedule as unknown as { cron: string }[]).map((s) => s.cron)).toEqual(["17 * * * *"]);
        expect(workflow.on.issue_comment.types).toEqual(["created"]);
        expect(Object.keys(workflow.on).sort()).toEqual(["issue_comment", "pull_request", "schedule", "workflow_dispatch"]);
        // Workflow-level concurrency would let a plain comment cancel a pending up.
        expect(workflow.concurrency).toBeUndefined();
    });

    it("gates up on a job (a skipped job passes a required check), and serializes up and down per pull request", () => {
        expect(workflow.jobs.gate.if).toBe("github.event_name == 'pull_request' && github.event.action != 'closed' && github.event.action != 'unlabeled'");
        expect(workflow.jobs.gate.outputs).toEqual({ preview: "${{ steps.gate.outputs.preview }}" });
        expect(step("gate", "gate").run).toContain("npx catalyst github gate --event \"$GITHUB_EVENT_PATH\"");
        expect(step("gate", "gate").env).toEqual({ CATALYST_PREVIEW_LABEL: "${{ vars.CATALYST_PREVIEW_LABEL }}", CATALYST_PREVIEW_IGNORE: "${{ vars.CATALYST_PREVIEW_IGNORE }}" });
        expect([workflow.jobs.up.needs, workflow.jobs.up.if]).toEqual(["gate", "needs.gate.outputs.preview == 'true'"]);
        expect(workflow.jobs.down.if).toBe("github.event_name == 'pull_request' && (github.event.action == 'closed' || (github.event.action == 'unlabeled' && vars.CATALYST_PREVIEW_LABEL != '' && github.event.label.name == vars.CATALYST_PREVIEW_LABEL))");
        for (const job of ["up", "down"]) {
            expect(workflow.jobs[job].concurrency).toEqual({ group: "preview-${{ github.event.pull_request.number }}", "cancel-in-progress": false });
        }
    });

    it("renders every preview comment with catalyst and posts it through the one local action", () => {
        expect(step("up", "render the preview comment").run).toContain("npx catalyst github comment --pr \"$PR\" --result \"$RUNNER_TEMP/preview.json\"");
        expect(step("down", "render the preview comment").run).toContain("npx catalyst github comment --pr \"$PR\" --result \"$RUNNER_TEMP/down.json\"");
        for (const [job, name] of [["up", "comment on the pull request"], ["down", "update the pull request comment"], ["command", "react and update the preview comment"]]) {
            expect(step(job, name).uses).toBe("./.github/actions/preview-comment");
        }
        const script = action.runs.steps[0].with?.script ?? "";
        expect(script).toContain("reactions.createForIssueComment");
        expect(script).toContain("issues.updateComment");
    });

    it("passes the caps to every catalyst call from repository variables", () => {
        const env = (yaml.load(readFileSync(path.join(REPO, ".github/workflows/preview.yml"), "utf8")) as { env: Record<string, string> }).env;
        expect(env.CATALYST_PREVIEWS_PER_OWNER).toBe("${{ vars.CATALYST_PREVIEWS_PER_OWNER }}");
        expect(env.CATALYST_PREVIEWS_PER_PROJECT).toBe("${{ vars.CATALYST_PREVIEWS_PER_PROJECT }}");
    });

    it("destroys the preview when the gate's label is removed, and only then", () => {
        // GitHub evaluates the condition; here it is evaluated over the events that matter, with the gate on and off.
        const destroys = (action: string, label: string | undefined, gate: string) =>
            action === "closed" || (action === "unlabeled" && gate !== "" && label === gate);
        expect(workflow.jobs.down.if).toContain("github.event.label.name == vars.CATALYST_PREVIEW_LABEL");
        expect(destroys("unlabeled", "preview", "preview")).toBe(true);
        expect(destroys("unlabeled", "bug", "preview")).toBe(false);
        expect(destroys("unlabeled", "preview", "")).toBe(false);
        expect(workflow.jobs.gate.if).toContain("github.event.action != 'unlabeled'");
    });

    it("passes the sleep settings to gc and the wake-link key to the command job from repository settings", () => {
        expect(step("gc", "catalyst preview gc").env).toMatchObject({
            CATALYST_SLEEP_IDLE: "${{ vars.CATALYST_SLEEP_IDLE }}",
            CATALYST_SLEEP_SCHEDULE: "${{ vars.CATALYST_SLEEP_SCHEDULE }}",
            CATALYST_INGRESS_METRICS_URL: "${{ vars.CATALYST_INGRESS_METRICS_URL }}",
        });
        expect(step("command", "command").env).toMatchObject({ CATALYST_WAKE_KEY: "${{ secrets.CATALYST_WAKE_KEY }}", CATALYST_API_URL: "${{ vars.CATALYST_API_URL }}" });
    });

    it("runs commands only for /catalyst comments on open pull requests, from the default branch's code", () => {
        const job = workflow.jobs.command;
        expect(job.if).toBe("github.event_name == 'issue_comment' && github.event.issue.pull_request && github.event.issue.state == 'open' && contains(github.event.comment.body, '/catalyst')");
        expect(job.permissions).toEqual({ contents: "read", issues: "write", "pull-requests": "write" });
        const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
        expect(checkout?.with).toBeUndefined();
        expect(job.concurrency?.group).toBe("preview-command-${{ github.event.issue.number }}");
        const command = step("command", "command");
        expect(command.env?.CATALYST_COMMENT_BODY).toBe("${{ github.event.comment.body }}");
        expect(command.run).toContain("npx catalyst \"${args[@]}\"");
        expect(step("command", "context").run).toContain("collaborators/$COMMENTER/permission");
    });

    it("never interpolates an expression into a script: event text reaches scripts through env only", () => {
        const scripts = [...Object.values(workflow.jobs).flatMap((job) => job.steps), ...action.runs.steps]
            .map((s) => s.run ?? s.with?.script ?? "").filter((text) => text !== "");
        expect(scripts.length).toBeGreaterThan(10);
        for (const script of scripts) {
            expect(script).not.toContain("${{");
        }
    });
});
