import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { StackExecutor, StackJob } from "../../../stacks/automation/executor";
import { Automation } from "../../../stacks/automation/operations";
import { keepSleeping, previousPreviewConfig, SLEEP_CONFIG_KEY, sleepSettings, sleepStateOf, wakeSettings } from "../../../stacks/automation/sleep";
import { TAGS } from "../../../stacks/automation/tags";
import { withoutBackend } from "./no-backend";

const since = "2026-12-07T04:00:00.000Z";
const sleeping = { [TAGS.sleepingSince]: since, [TAGS.sleepReason]: "idle", [TAGS.branch]: "feat/x" };

describe("sleep state in tags and config (sleep.ts)", () => {
    it("reads the state from the tags: empty or missing is awake, an unknown reason reads as manual", () => {
        expect(sleepStateOf(undefined)).toEqual({});
        expect(sleepStateOf({ [TAGS.sleepingSince]: "" })).toEqual({});
        expect(sleepStateOf(sleeping)).toEqual({ since, reason: "idle" });
        expect(sleepStateOf({ [TAGS.sleepingSince]: since, [TAGS.sleepReason]: "<b>" })).toEqual({ since, reason: "manual" });
    });

    it("an up keeps a sleeping preview asleep with the same value (so it changes nothing), and passes nothing for an awake one", () => {
        expect(keepSleeping(sleeping)).toEqual({ [SLEEP_CONFIG_KEY]: since });
        expect(keepSleeping({ [TAGS.sleepingSince]: "" })).toEqual({});
        expect(keepSleeping(undefined)).toEqual({});
    });

    it("sleep sets the value and the tags; wake empties them and restarts the idle clock", () => {
        const now = new Date(since);
        expect(sleepSettings(now, "schedule")).toEqual({
            config: { [SLEEP_CONFIG_KEY]: since },
            tags: { [TAGS.sleepingSince]: since, [TAGS.sleepReason]: "schedule", [TAGS.updatedAt]: since },
        });
        expect(wakeSettings(now)).toEqual({
            config: { [SLEEP_CONFIG_KEY]: "" },
            tags: { [TAGS.sleepingSince]: "", [TAGS.sleepReason]: "", [TAGS.updatedAt]: since },
        });
    });

    describe("the config of the last up", () => {
        let dir: string;
        beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "catalyst-sleep-"))));
        afterEach(() => rmSync(dir, { recursive: true, force: true }));

        it("comes from the work dir's settings when there are any (plain catalyst values only, secrets stay where they are)", () => {
            mkdirSync(path.join(dir, "pr-7"), { recursive: true });
            writeFileSync(path.join(dir, "pr-7", "Pulumi.pr-7.yaml"), [
                "encryptionsalt: v1:abc",
                "config:",
                "  catalyst:branch: feat/work-dir",
                "  catalyst:redis:",
                "    enabled: false",
                "  catalyst:appSecrets:",
                "    secure: v1:xyz",
                "  other:key: x",
            ].join("\n"));
            expect(previousPreviewConfig(dir, "pr-7", 7, { [TAGS.branch]: "feat/tags" })).toEqual({ "catalyst:branch": "feat/work-dir", "catalyst:redis": { enabled: false } });
        });

        it("comes from the tags on a machine without the work dir (a CI runner): PR, branch, SHA, image and owners", () => {
            expect(previousPreviewConfig(dir, "pr-7", 7, {
                [TAGS.branch]: "feat/x", [TAGS.sha]: "0123456", [TAGS.image]: "ghcr.io/acme/web:1", [TAGS.owners]: "alice,bob", [TAGS.owner]: "alice",
            })).toEqual({
                "catalyst:pr": "7", "catalyst:branch": "feat/x", "catalyst:sha": "0123456", "catalyst:image": "ghcr.io/acme/web:1",
                "catalyst:access": { owners: { users: ["alice", "bob"] } },
            });
            // No owners tag (created without --owners): the template's owners stay, none are invented from the creator.
            expect(previousPreviewConfig(dir, "pr-7", 7, { [TAGS.branch]: "feat/x", [TAGS.owner]: "ci-bot" })).toEqual({ "catalyst:pr": "7", "catalyst:branch": "feat/x" });
        });
    });
});

describe("Automation sleep and wake (fake worker)", () => {
    const workerPath = path.join(__dirname, "fixtures", "fake-worker.js");
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "catalyst-sleepop-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** An Automation whose backend holds `tags` for every stack, and the jobs it ran. */
    const make = (tags: Record<string, string> | undefined) => {
        const automation = new Automation({ repoRoot: dir, workRoot: path.join(dir, "work"), auditLog: path.join(dir, "audit.log"), workerPath, actor: "t", platformStack: "platform", previewLimits: {} });
        jest.spyOn(automation.catalog, "tags").mockResolvedValue(tags);
        const jobs: StackJob[] = [];
        const executor = (automation as unknown as { executor: StackExecutor }).executor;
        const run = executor.run.bind(executor);
        jest.spyOn(executor, "run").mockImplementation((job, call, emit) => {
            jobs.push(job);
            return run(job, call, emit);
        });
        return { automation, jobs };
    };

    it("sleep runs an ordinary up of the preview with catalyst:sleep set and its last config, and tags the state", async () => {
        const { automation, jobs } = make({ [TAGS.branch]: "feat/x", [TAGS.sha]: "0123456", [TAGS.owners]: "alice" });
        const result = await automation.sleepPreview(7, { reason: "idle" });
        expect(result.status).toBe("succeeded");
        expect(jobs).toHaveLength(1);
        expect(jobs[0]).toMatchObject({ action: "up", configTemplate: "pr", allowedKinds: ["preview"], target: { stack: "pr-7" } });
        expect(jobs[0].config).toEqual({
            "catalyst:pr": "7", "catalyst:branch": "feat/x", "catalyst:sha": "0123456", "catalyst:access": { owners: { users: ["alice"] } },
            "catalyst:platformStack": "organization/catalyst/platform", [SLEEP_CONFIG_KEY]: jobs[0].tags[TAGS.sleepingSince],
        });
        expect(jobs[0].tags[TAGS.sleepReason]).toBe("idle");
    });

    it("an up of a sleeping preview passes its sleep on; of an awake one, nothing", async () => {
        const asleep = make(sleeping);
        await asleep.automation.upPreview({ pr: 7, branch: "feat/x" });
        expect(asleep.jobs[0].config[SLEEP_CONFIG_KEY]).toBe(since);
        const awake = make({ [TAGS.branch]: "feat/x" });
        await awake.automation.upPreview({ pr: 8, branch: "feat/x", owners: "alice,bob" });
        expect(awake.jobs[0].config).not.toHaveProperty([SLEEP_CONFIG_KEY]);
        expect(awake.jobs[0].tags[TAGS.owners]).toBe("alice,bob");
    });

    it("an up with sleep: true puts an awake preview to sleep, with false wakes a sleeping one, and otherwise keeps the state (the controller's spec.sleep)", async () => {
        const awake = make({ [TAGS.branch]: "feat/x" });
        await awake.automation.upPreview({ pr: 7, branch: "feat/x", sleep: true });
        expect(awake.jobs[0].config[SLEEP_CONFIG_KEY]).toBe(awake.jobs[0].tags[TAGS.sleepingSince]);
        expect(awake.jobs[0].tags[TAGS.sleepReason]).toBe("manual");
        await awake.automation.upPreview({ pr: 7, branch: "feat/x", sleep: false });
        expect(awake.jobs[1].config).not.toHaveProperty([SLEEP_CONFIG_KEY]);
        const asleep = make(sleeping);
        await asleep.automation.upPreview({ pr: 7, branch: "feat/x", sleep: true });
        expect([asleep.jobs[0].config[SLEEP_CONFIG_KEY], asleep.jobs[0].tags[TAGS.sleepingSince]]).toEqual([since, undefined]);
        await asleep.automation.upPreview({ pr: 7, branch: "feat/x", sleep: false });
        expect([asleep.jobs[1].config[SLEEP_CONFIG_KEY], asleep.jobs[1].tags[TAGS.sleepingSince]]).toEqual(["", ""]);
    });

    it("keeps two ups of one stack in call order although the first's tag read is slower", async () => {
        const { automation, jobs } = make(undefined);
        const reads = [150, 0];
        jest.spyOn(automation.catalog, "tags").mockImplementation(() => new Promise((resolve) => setTimeout(() => resolve(undefined), reads.shift())));
        const results = await Promise.all([automation.upPreview({ pr: 7, branch: "feat/first" }), automation.upPreview({ pr: 7, branch: "feat/second" })]);
        expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
        expect(jobs.map((j) => j.config["catalyst:branch"])).toEqual(["feat/first", "feat/second"]);
        // A caller that will not wait still gets busy at once, not after the first operation.
        const held = automation.upPreview({ pr: 8, branch: "feat/x", config: { "fake:sleepMs": 500 } });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const started = Date.now();
        expect((await automation.upPreview({ pr: 8, branch: "feat/x" }, { lockTimeoutMs: 0 })).status).toBe("busy");
        expect(Date.now() - started).toBeLessThan(400);
        expect((await held).status).toBe("succeeded");
    });

    it("a capped up reads the sleep state from the listing it makes anyway, without another read", async () => {
        const { automation, jobs } = make(undefined);
        jest.spyOn(automation, "listPreviews").mockResolvedValue([{ stack: "pr-7", kind: "preview", pr: 7, sleepingSince: since }]);
        await automation.upPreview({ pr: 7, branch: "feat/x", limits: { previewsPerOwner: 5 } });
        expect(jobs[0].config[SLEEP_CONFIG_KEY]).toBe(since);
        expect(automation.catalog.tags).not.toHaveBeenCalled();
    });

    it("sleeping a sleeping preview and waking an awake one are succeeded no-ops that run nothing", async () => {
        const asleep = make(sleeping);
        expect(await asleep.automation.sleepPreview(7)).toMatchObject({ status: "succeeded", noop: true, changed: false });
        const awake = make({ [TAGS.branch]: "feat/x" });
        expect(await awake.automation.wakePreview(7)).toMatchObject({ status: "succeeded", noop: true, changed: false });
        expect([...asleep.jobs, ...awake.jobs]).toEqual([]);
    });

    it("wake runs the up with catalyst:sleep empty", async () => {
        const { automation, jobs } = make(sleeping);
        expect((await automation.wakePreview({ pr: 7 })).status).toBe("succeeded");
        expect(jobs[0].config[SLEEP_CONFIG_KEY]).toBe("");
        expect(jobs[0].tags[TAGS.sleepingSince]).toBe("");
    });

    it("refuses a preview that does not exist, a backend it cannot read and a bad reason, changing nothing", async () => {
        const missing = make(undefined);
        expect(await missing.automation.sleepPreview(9)).toMatchObject({ status: "failed", error: "no preview pr-9: nothing to sleep" });
        const broken = withoutBackend(new Automation({ repoRoot: dir, workRoot: path.join(dir, "work"), auditLog: path.join(dir, "audit.log"), workerPath, actor: "t", platformStack: "platform" }));
        jest.spyOn(broken.catalog, "tags").mockRejectedValue(new Error("tags of pr-9: no answer from the backend within 120 s"));
        expect(await broken.wakePreview(9)).toMatchObject({ status: "failed", error: "could not read pr-9's tags, nothing was changed: tags of pr-9: no answer from the backend within 120 s" });
        expect(() => missing.automation.sleepPreview(9, { reason: "bored" as never })).toThrow('reason: must be one of manual, idle, schedule, got "bored"');
        expect(missing.jobs).toEqual([]);
    });
});
