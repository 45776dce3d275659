import { ChildProcess, spawn, spawnSync } from "child_process";
import { createServer } from "http";
import { AddressInfo } from "net";
import { randomInt } from "crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import * as path from "path";
import { ACTIVITY_CONFIGMAP } from "../../stacks/automation/activity";
import { Automation } from "../../stacks/automation/operations";
import { descendants } from "../../stacks/automation/runner";
import { fileBackendRoot } from "../../stacks/automation/sidecars";
import { PACK_TAG_PREFIX, readTags } from "../../stacks/automation/tags";
import { OperationResult } from "../../stacks/automation/types";
import { ensurePlatform, kubectl, kubectlJson, PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";

/*
 * The automation layer end to end: real engine, real worker processes, the local cluster. The
 * previews are minimal (app, namespace, access and route; no database, Redis or workspace) so
 * that the whole file stays within a few minutes on two cores.
 */
jest.setTimeout(20 * 60_000);

const run = randomInt(100, 999);
const prs = [1, 2, 3, 4, 5].map((i) => run * 100 + i);
const contended = run * 100 + 6;
const killed = run * 100 + 7;
const workRoot = path.join(repoRoot, ".catalyst", `test-work-${run}`);
const auditLog = path.join(repoRoot, ".catalyst", "test-results", `automation-audit-${run}.log`);
const minimal = { "catalyst:database": { mode: "none" }, "catalyst:redis": { enabled: false } };
const sha = "0123456789abcdef0123456789abcdef01234567";
const catalyst = path.join(repoRoot, "bin", "catalyst.js");
const cliEnv = { ...process.env, CATALYST_WORK_ROOT: workRoot, CATALYST_AUDIT_LOG: auditLog, CATALYST_PLATFORM_STACK: PLATFORM_STACK, CI: "true" };
const KINDS = "deployments,services,secrets,configmaps,serviceaccounts,roles,rolebindings,networkpolicies,resourcequotas,limitranges,ingresses,persistentvolumeclaims";

/** Operations this file ran, to compare with the audit log. */
let operations = 0;
const counted = async (op: PromiseLike<OperationResult>) => {
    operations++;
    return op;
};
const auditLines = () => (existsSync(auditLog) ? readFileSync(auditLog, "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)) : []);

/**
 * The objects the stack made in a preview namespace as `kind/name`, with its PR number replaced,
 * sorted (gc's activity ConfigMap is not the stack's: activity.ts).
 */
function inventory(pr: number): string[] {
    const list = kubectlJson<{ items: { kind: string; metadata: { name: string } }[] }>(["get", KINDS, "-n", `env-pr-${pr}`]);
    return list.items.map((i) => `${i.kind}/${i.metadata.name.split(String(pr)).join("N")}`).filter((o) => o !== `ConfigMap/${ACTIVITY_CONFIGMAP}`).sort();
}

function previewNamespaces(): string[] {
    return kubectlJson<{ items: { metadata: { name: string } }[] }>(["get", "namespaces", "-l", "catalyst.dev/type=preview"]).items.map((i) => i.metadata.name).sort();
}

interface CliRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** Runs `pulumi` in the repository (the project's stacks, the shared backend); its stdout. */
function pulumi(args: string[]): string {
    const result = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: repoRoot, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`pulumi ${args.slice(0, 3).join(" ")} failed: ${result.stderr}`);
    return result.stdout;
}

/** Runs the real CLI as a child process. */
function cli(args: string[]): Promise<CliRun> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [catalyst, ...args], { env: cliEnv, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

/**
 * A separate process that runs one preview up through the library and prints its progress
 * events as JSON lines: the process the test kills halfway.
 */
const killable = `
const { Automation } = require(${JSON.stringify(path.join(repoRoot, "stacks", "automation", "operations.ts"))});
const [pr, workRoot, auditLog, platformStack] = process.argv.slice(1);
const automation = new Automation({ workRoot, auditLog, platformStack });
automation.upPreview({ pr, branch: "feat/killed", owners: "alice", config: ${JSON.stringify(minimal)} }, {
    onEvent: (e) => process.stdout.write(JSON.stringify(e) + "\\n"),
});
`;

describe("automation layer on the local cluster", () => {
    let automation: Automation;
    let orphansBefore: string[];

    beforeAll(async () => {
        requireTestEnvironment();
        mkdirSync(path.dirname(auditLog), { recursive: true });
        await ensurePlatform();
        automation = new Automation({ repoRoot, workRoot, auditLog, platformStack: PLATFORM_STACK, actor: "integration-test" });
        orphansBefore = previewNamespaces();
    });

    afterAll(async () => {
        // Whatever a failed test left behind goes, through Pulumi.
        if (automation) {
            await Promise.all([...prs, contended, killed].map((pr) => automation.destroyPreview(pr).result));
        }
        rmSync(workRoot, { recursive: true, force: true });
    });

    it("creates five previews concurrently, each with its own namespace and URL", async () => {
        const results = await Promise.all(prs.map((pr) =>
            counted(automation.upPreview({ pr, branch: `feat/auto-${pr}`, sha, ttl: "2h", owners: "alice", config: minimal }))));
        for (const result of results) {
            expect(result).toMatchObject({ status: "succeeded", changed: true, kind: "preview" });
            expect(result.updateId).toBe("1");
            // Taken from the engine's events (results.ts): plain outputs as they are, a secret
            // one flagged and never its value.
            expect(result.outputs).toMatchObject({ namespace: result.namespace, url: result.url, kubeconfig: "[secret]", owners: ["alice"] });
        }
        expect(new Set(results.map((r) => r.namespace)).size).toBe(5);
        expect(new Set(results.map((r) => r.url)).size).toBe(5);
        expect(results.map((r) => r.namespace)).toEqual(prs.map((pr) => `env-pr-${pr}`));
        for (const result of results) {
            expect(result.url).toBe(`https://${result.stack}.preview.catalyst.localhost`);
            expect(kubectlJson<{ status: { phase: string } }>(["get", "namespace", result.namespace as string]).status.phase).toBe("Active");
        }
    });

    it("lists them with their tags", async () => {
        const previews = await automation.listPreviews();
        for (const pr of prs) {
            const record = previews.find((p) => p.pr === pr);
            expect(record).toMatchObject({ stack: `pr-${pr}`, branch: `feat/auto-${pr}`, sha, owner: "alice", namespace: `env-pr-${pr}`, url: `https://pr-${pr}.preview.catalyst.localhost` });
            const created = Date.parse(record?.createdAt ?? "");
            expect(Date.parse(record?.expiresAt ?? "") - Date.parse(record?.updatedAt ?? "")).toBe(2 * 3_600_000);
            expect(created).toBeLessThanOrEqual(Date.now());
        }
        const listed = await cli(["preview", "list", "--json"]);
        expect(listed.status).toBe(0);
        expect((JSON.parse(listed.stdout) as { previews: { stack: string }[] }).previews.map((p) => p.stack)).toEqual(expect.arrayContaining(prs.map((pr) => `pr-${pr}`)));
    });

    it("reports no changes for a repeated up, and keeps createdAt", async () => {
        const before = (await automation.listPreviews()).find((p) => p.pr === prs[0]);
        const result = await counted(automation.upPreview({ pr: prs[0], branch: `feat/auto-${prs[0]}`, sha, ttl: "2h", owners: "alice", config: minimal }));
        expect(result).toMatchObject({ status: "succeeded", changed: false, updateId: "2" });
        expect(Object.keys(result.changes ?? {})).toEqual(["same"]);
        // A no-op up reports the outputs too: the root stack's outputs event comes for a `same` step.
        expect(result.outputs).toMatchObject({ namespace: `env-pr-${prs[0]}`, kubeconfig: "[secret]", owners: ["alice"] });
        const after = (await automation.listPreviews()).find((p) => p.pr === prs[0]);
        expect(after?.createdAt).toBe(before?.createdAt);
    });

    it("sleeps a preview through the CLI (zero replicas, state in the tags), keeps it asleep through an up that reports no changes, and wakes it", async () => {
        const pr = prs[3];
        const replicas = () => kubectlJson<{ spec: { replicas: number } }>(["get", "deployment", "app", "-n", `env-pr-${pr}`]).spec.replicas;
        expect(replicas()).toBe(1);
        const slept = await cli(["preview", "sleep", "--pr", String(pr), "--json"]);
        operations++;
        expect([slept.status, JSON.parse(slept.stdout)]).toEqual([0, expect.objectContaining({ status: "succeeded", changed: true })]);
        expect(replicas()).toBe(0);
        const record = (await automation.listPreviews()).find((p) => p.pr === pr);
        expect(record).toMatchObject({ sleepReason: "manual", branch: `feat/auto-${pr}`, sha, owner: "alice", url: `https://pr-${pr}.preview.catalyst.localhost` });
        expect(Date.now() - Date.parse(record?.sleepingSince ?? "")).toBeLessThan(10 * 60_000);
        expect((await cli(["preview", "list"])).stdout).toMatch(new RegExp(`^pr-${pr} +Sleeping since ${record?.sleepingSince} `, "m"));

        // A deploy with the preview's own values: still asleep, and nothing to change.
        const again = await counted(automation.upPreview({ pr, branch: `feat/auto-${pr}`, sha, ttl: "2h", owners: "alice", config: minimal }));
        expect(again).toMatchObject({ status: "succeeded", changed: false });
        expect(replicas()).toBe(0);
        expect(await counted(automation.sleepPreview(pr))).toMatchObject({ status: "succeeded", noop: true, changed: false });

        const woke = await cli(["preview", "wake", "--pr", String(pr), "--json"]);
        operations++;
        expect([woke.status, JSON.parse(woke.stdout)]).toEqual([0, expect.objectContaining({ status: "succeeded", changed: true })]);
        expect(replicas()).toBe(1);
        expect((await automation.listPreviews()).find((p) => p.pr === pr)?.sleepingSince).toBeUndefined();
    });

    it("gc's idle sleep: reads ingress metrics over HTTP, keeps each preview's last count in a ConfigMap, and puts to sleep only the one whose count did not move", async () => {
        // No ingress controller pod runs here: a local server answers in ingress-nginx's metrics format.
        const idle = prs[4];
        let round = 0;
        const server = createServer((_req, res) => {
            round++;
            res.end(prs.map((pr) => `nginx_ingress_controller_requests{ingress="app",namespace="env-pr-${pr}",status="200"} ${pr === idle ? 5 : 5 + round}\n`).join(""));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const metricsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
        try {
            const start = new Date(Date.now() + 10 * 60_000);
            const first = await automation.autoSleep({ idleMs: 5 * 60_000, metricsUrl, now: start });
            expect(first).toEqual({ actions: [], errors: [] });
            const stored = kubectlJson<{ data: Record<string, string> }>(["get", "configmap", ACTIVITY_CONFIGMAP, "-n", `env-pr-${idle}`]).data.requests;
            expect(stored).toBe(`5@${start.toISOString()}`);
            const second = await automation.autoSleep({ idleMs: 5 * 60_000, metricsUrl, now: new Date(start.getTime() + 6 * 60_000) });
            operations++;
            expect(second).toEqual({ actions: [{ stack: `pr-${idle}`, action: "sleep", reason: "idle", detail: "no deploy or request for 6 min (idle time 5 min)", status: "succeeded" }], errors: [] });
        } finally {
            server.close();
        }
        expect(kubectlJson<{ spec: { replicas: number } }>(["get", "deployment", "app", "-n", `env-pr-${idle}`]).spec.replicas).toBe(0);
        expect((await automation.listPreviews()).find((p) => p.pr === idle)).toMatchObject({ sleepReason: "idle" });
    });

    it("writes its tags packed, a few stack tags in all, and reads a stack whose tags were written one per name before", async () => {
        // The tags as the backend stores them: packed (tags.ts), not the twelve tags one by one.
        const pulumiTags = (stack: string) => JSON.parse(pulumi(["stack", "tag", "ls", "--json", "--stack", stack])) as Record<string, string>;
        const stack = `pr-${prs[2]}`;
        const stored = pulumiTags(stack);
        const layers = Object.keys(stored).filter((name) => name.startsWith("catalyst:"));
        expect(layers.length).toBeLessThanOrEqual(3);
        expect(layers.every((name) => name.startsWith(PACK_TAG_PREFIX))).toBe(true);
        // A stack of an older version: its tags one per name, as that version wrote them.
        const before = (await automation.listPreviews()).find((p) => p.pr === prs[2]);
        const tags = readTags(stored);
        for (const name of layers) pulumi(["stack", "tag", "rm", name, "--stack", stack]);
        for (const [name, value] of Object.entries(tags)) pulumi(["stack", "tag", "set", name, value, "--stack", stack]);
        expect(Object.keys(pulumiTags(stack)).some((name) => name.startsWith(PACK_TAG_PREFIX))).toBe(false);
        expect((await automation.listPreviews()).find((p) => p.pr === prs[2])).toEqual(before);
        // The next up reads them (createdAt is kept) and writes the packs, which are read from then on.
        const result = await counted(automation.upPreview({ pr: prs[2], branch: "feat/renamed", sha, ttl: "2h", owners: "alice", config: minimal }));
        expect(result.status).toBe("succeeded");
        const after = (await automation.listPreviews()).find((p) => p.pr === prs[2]);
        expect(after).toMatchObject({ branch: "feat/renamed", createdAt: before?.createdAt, namespace: before?.namespace, url: before?.url });
        expect(Object.keys(pulumiTags(stack)).some((name) => name.startsWith(PACK_TAG_PREFIX))).toBe(true);
    });

    it("reads and updates a stack again after a killed write left an empty metadata file in the backend", async () => {
        // What a pulumi process killed inside a write leaves (sidecars.ts); until it is removed,
        // every read of the object fails with "failed to load checkpoint: EOF".
        const root = fileBackendRoot(process.env.PULUMI_BACKEND_URL) as string;
        const stack = `pr-${prs[1]}`;
        const history = path.join(root, ".pulumi", "history", "catalyst", stack);
        const checkpoint = path.join(root, ".pulumi", "stacks", "catalyst", `${stack}.json.attrs`);
        const entry = path.join(history, readdirSync(history).find((f) => f.endsWith(".attrs")) as string);
        const empty = (files: string[]) => files.forEach((file) => writeFileSync(file, ""));
        empty([checkpoint, entry]);
        const result = await counted(automation.upPreview({ pr: prs[1], branch: `feat/auto-${prs[1]}`, sha, ttl: "2h", owners: "alice", config: minimal }));
        expect({ status: result.status, changed: result.changed, recovered: result.recovered, error: result.error }).toEqual({ status: "succeeded", changed: false, recovered: true, error: undefined });
        // The up wrote the checkpoint anew, sidecar and all; the history entry's empty one is gone.
        expect(statSync(checkpoint).size).toBeGreaterThan(0);
        expect(existsSync(entry)).toBe(false);
        // One unreadable stack would fail the listing of every stack.
        empty([checkpoint]);
        expect((await automation.listPreviews()).map((p) => p.stack)).toContain(stack);
        expect(existsSync(checkpoint)).toBe(false);
    });

    it("serializes two concurrent ups of one PR (the second waits), answers busy to a caller that will not wait, and the stack stays healthy", async () => {
        const args = { pr: contended, branch: "feat/contended", config: minimal };
        const waits: string[] = [];
        let started!: () => void;
        const holding = new Promise<void>((resolve) => (started = resolve));
        const first = counted(automation.upPreview(args, { onEvent: (e) => e.type === "step" && e.step === "preparing" && started() }));
        const second = counted(automation.upPreview(args, { onEvent: (e) => e.type === "step" && e.step === "waiting" && waits.push(e.message) }));
        await holding;
        const other = await cli(["preview", "up", "--pr", String(contended), "--branch", "feat/contended", "--json", "--wait", "0"]);
        operations++;
        const [a, b] = await Promise.all([first, second]);
        expect(a).toMatchObject({ status: "succeeded", changed: true });
        expect(b).toMatchObject({ status: "succeeded", changed: false });
        expect(waits.length).toBeGreaterThan(0);
        expect(other.status).toBe(3);
        expect(JSON.parse(other.stdout)).toMatchObject({ stack: `pr-${contended}`, status: "busy" });
        const status = await automation.getEnvironment(`pr-${contended}`);
        expect(status).toMatchObject({ pendingOperations: 0, lastResult: "succeeded" });
    });

    it("converges after an up killed with SIGKILL halfway: no duplicates, no pending operations", async () => {
        const child: ChildProcess = spawn(process.execPath, ["--require", path.join(repoRoot, "tools", "register.js"), "-e", killable, String(killed), workRoot, auditLog, PLATFORM_STACK], {
            cwd: repoRoot,
            env: cliEnv,
            stdio: ["ignore", "pipe", "inherit"],
        });
        let stdout = "";
        let worker: number | undefined;
        let done = 0;
        let finished = false;
        await new Promise<void>((resolve, reject) => {
            child.stdout?.on("data", (chunk: Buffer) => {
                stdout += chunk.toString();
                const lines = stdout.split("\n");
                stdout = lines.pop() ?? "";
                for (const event of lines.map((l) => JSON.parse(l))) {
                    worker ??= event.pid;
                    if (event.type === "resource" && event.state === "done") done = event.done;
                    if (event.type === "done") finished = true;
                }
                if (worker !== undefined && done >= 12 && !finished) {
                    // The whole tree: the worker, pulumi, the language host and the plugins (which
                    // run in process groups of their own), and the process that started them.
                    for (const pid of [...descendants(worker), worker, child.pid as number]) {
                        try {
                            process.kill(pid, "SIGKILL");
                        } catch {
                            // already gone
                        }
                    }
                    resolve();
                }
            });
            child.on("exit", () => reject(new Error(finished ? "the up finished before it could be killed" : "the up process ended early")));
        });
        expect(finished).toBe(false);
        // The killed up wrote no audit line: its process died before it could.

        const result = await counted(automation.upPreview({ pr: killed, branch: "feat/killed", owners: "alice", config: minimal }));
        // The error, when there is one, is part of what a failure prints.
        expect({ status: result.status, recovered: result.recovered, error: result.error }).toEqual({ status: "succeeded", recovered: true, error: undefined });
        const status = await automation.getEnvironment(`pr-${killed}`);
        expect(status?.pendingOperations).toBe(0);
        const again = await counted(automation.upPreview({ pr: killed, branch: "feat/killed", owners: "alice", config: minimal }));
        expect(again.changed).toBe(false);
        expect(inventory(killed).filter((o) => !o.startsWith("Pod/") && !o.startsWith("ReplicaSet/"))).toEqual(inventory(prs[0]));
    });

    it("refuses bad input from the real CLI with exit code 2 and creates nothing", async () => {
        const stacksBefore = JSON.stringify(spawnSync("pulumi", ["stack", "ls", "--json"], { cwd: path.join(workRoot, ".catalog"), encoding: "utf8" }).stdout);
        const linesBefore = auditLines().length;
        const cases: [string[], string][] = [
            [["preview", "up", "--pr", "-1", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "-1"'],
            [["preview", "up", "--pr", "abc", "--branch", "feat/x"], 'catalyst preview up: --pr: must be a positive whole number, got "abc"'],
            [["preview", "up", "--pr", "4242", "--branch", "feat x"], expect.stringContaining('catalyst preview up: --branch: must be a git branch name') as unknown as string],
            [["preview", "up", "--pr", "4242", "--branch", "fëature"], expect.stringContaining('--branch: must be a git branch name') as unknown as string],
            [["preview", "up", "--pr", "4242", "--branch", "feat/x", "--ttl", "forever"], expect.stringContaining('catalyst preview up: --ttl: must be a duration') as unknown as string],
            [["preview", "down", "production"], "catalyst preview down: required option '--pr <n>' not specified"],
            [["preview", "down", "--pr", "staging"], 'catalyst preview down: --pr: must be a positive whole number, got "staging"'],
        ];
        for (const [args, message] of cases) {
            const result = await cli(args);
            expect(result.status).toBe(2);
            expect(result.stdout).toBe("");
            expect(result.stderr.trim().split("\n")).toEqual([message]);
        }
        expect(existsSync(path.join(workRoot, "pr-4242"))).toBe(false);
        expect(auditLines()).toHaveLength(linesBefore);
        expect(JSON.stringify(spawnSync("pulumi", ["stack", "ls", "--json"], { cwd: path.join(workRoot, ".catalog"), encoding: "utf8" }).stdout)).toBe(stacksBefore);
    });

    it("gc with TTL 0 destroys every preview through Pulumi and removes their stacks; orphan namespaces are only reported", async () => {
        const orphan = `env-pr-${run * 100 + 99}`;
        kubectl(["create", "namespace", orphan]);
        kubectl(["label", "namespace", orphan, "catalyst.dev/type=preview", `catalyst.dev/environment=pr-${run * 100 + 99}`]);
        const dry = await automation.collectGarbage({ ttl: 0, dryRun: true });
        expect(dry.destroyed).toEqual([]);
        expect(dry.candidates.map((c) => c.stack)).toEqual(expect.arrayContaining([...prs, contended, killed].map((pr) => `pr-${pr}`)));

        const report = await automation.collectGarbage({ ttl: 0 });
        operations += report.destroyed.length;
        expect(report.status).toBe("succeeded");
        expect(report.destroyed.every((r) => r.status === "succeeded")).toBe(true);
        expect(report.orphanNamespaces).toEqual([...orphansBefore, orphan].sort());
        expect(report.deletedNamespaces).toEqual([]);
        expect(await automation.listPreviews()).toEqual([]);
        expect(previewNamespaces()).toEqual([...orphansBefore, orphan].sort());

        const cleanup = await automation.collectGarbage({ ttl: 0, deleteOrphanNamespaces: true });
        expect(cleanup.deletedNamespaces).toEqual([...orphansBefore, orphan].sort());
        kubectl(["wait", "--for=delete", `namespace/${orphan}`, "--timeout=120s"]);
        expect(previewNamespaces()).toEqual([]);
    });

    it("wrote one audit line per operation, without secrets", () => {
        const lines = auditLines();
        const stackLines = lines.filter((l) => l.action !== "gc");
        expect(stackLines).toHaveLength(operations);
        expect(lines.filter((l) => l.action === "gc")).toHaveLength(3);
        for (const line of stackLines) {
            expect(Object.keys(line).slice(0, 7)).toEqual(["time", "actor", "action", "stack", "result", "updateId", "durationMs"]);
        }
        const text = readFileSync(auditLog, "utf8");
        expect(text).not.toContain(process.env.PULUMI_CONFIG_PASSPHRASE as string);
        expect(text).not.toContain("kubeconfig");
    });
});
