import { ChildProcess, spawn } from "child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { randomInt } from "crypto";
import * as path from "path";
import { previewStackName } from "../../components/naming";
import { ensurePlatform, kubectl, kubectlError, mcpStdioClient, PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";
import { apply, environments, isReady, Replica, startReplica, stopReplica, waitFor } from "./controller-helpers";

/*
 * The front ends in resource mode end to end: `catalyst preview up|list|down` with
 * CATALYST_CONTROL_PLANE_NAMESPACE write and read Environment resources on the local API server
 * and wait on their status, and so does `catalyst serve` (restarted in the middle: it keeps
 * nothing), while one `catalyst controller` process (no container runs on the local cluster)
 * runs the stacks. The controller uses the test run's file backend, where the
 * shared platform stack already is: one machine, so no PostgreSQL is needed here
 * (controller.test.ts covers the shared PostgreSQL backend).
 */
jest.setTimeout(10 * 60_000);

const NS = "catalyst-system";
const run = randomInt(100, 999);
const pr = 9_200_000 + run * 10;
const project = `cli-${run}`;
// Another Project than default: its previews' Environments and stacks are pr-<n>--<project>.
const name = previewStackName(pr, project);
const apiName = previewStackName(pr + 2, project);
const label = `catalyst-test-run=${run}`;
let replica: Replica | undefined;

/** `catalyst <args>` as a process (asynchronous: the controller's output must keep flowing meanwhile). */
function catalyst(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(repoRoot, "bin", "catalyst.js"), ...args], {
            cwd: repoRoot, env: { ...process.env, CI: "true", CATALYST_CONTROL_PLANE_NAMESPACE: NS, ...env }, stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("error", reject);
        child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
}

const TOKEN = "0123456789abcdef-alice";
const BOB = "0123456789abcdef-bob";

/** `catalyst serve` in resource mode on any free port; resolves with its base URL once it listens. */
function serve(): Promise<{ child: ChildProcess; base: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(repoRoot, "bin", "catalyst.js"), "serve", "--port", "0"], {
            cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"],
            env: { ...process.env, CI: "true", CATALYST_CONTROL_PLANE_NAMESPACE: NS, CATALYST_CONTROL_PLANE_PROJECT: project, CATALYST_API_TOKENS: JSON.stringify({ [TOKEN]: "alice", [BOB]: "bob" }) },
        });
        let log = "";
        child.stderr?.on("data", (chunk: Buffer) => {
            log += chunk.toString();
            const listening = /listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(log);
            if (listening) resolve({ child, base: listening[1] });
        });
        child.once("exit", (code) => reject(new Error(`catalyst serve exited ${code}: ${log}`)));
    });
}

/** `catalyst mcp` on stdio in resource mode, as `token`'s user. */
function mcpClient(token: string): Promise<Client> {
    return mcpStdioClient("resources-integration", {
        CI: "true", CATALYST_CONTROL_PLANE_NAMESPACE: NS, CATALYST_CONTROL_PLANE_PROJECT: project,
        CATALYST_API_TOKENS: JSON.stringify({ [TOKEN]: "alice", [BOB]: "bob" }), CATALYST_MCP_TOKEN: token,
    });
}

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] };

async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
}

function namespaceExists(namespace: string): boolean {
    return kubectl(["get", "namespace", namespace, "--ignore-not-found", "-o", "name"]).trim() !== "";
}

beforeAll(async () => {
    requireTestEnvironment();
    await ensurePlatform();
    for (const name of [project, `${project}-b`]) {
        apply({
            apiVersion: "catalyst.dev/v1alpha1", kind: "Project",
            metadata: { name, namespace: NS, labels: { "catalyst-test-run": String(run) } },
            // Minimal previews (no database, no Redis) keep the file within its time.
            spec: { services: { postgres: false, redis: false } },
        });
    }
    replica = startReplica(`cli-${run}`, {
        CATALYST_WORK_ROOT: path.join(repoRoot, ".catalyst", `test-resources-${run}`),
        CATALYST_AUDIT_LOG: path.join(repoRoot, ".catalyst", "test-results", `resources-audit-${run}.log`),
        CATALYST_PLATFORM_STACK: PLATFORM_STACK,
    }, ["--namespace", NS, "--concurrency", "1", "--lease-duration", "10s", "--backoff", "2s", "--resync", "30s"]);
});

afterAll(async () => {
    // Whatever happened above, leave no Environment behind (its finalizer would hold catalyst-system).
    try {
        for (const left of [name, apiName].filter((n) => environments(NS).has(n))) {
            kubectl(["delete", "environments.catalyst.dev", "-n", NS, left, "--wait=false"]);
            await waitFor(`${left} to be gone`, () => (environments(NS).has(left) ? undefined : true), 5 * 60_000, 2000);
        }
    } finally {
        if (replica !== undefined) await stopReplica(replica);
        kubectl(["delete", "projects.catalyst.dev", "-n", NS, "-l", label, "--ignore-not-found"]);
    }
});

describe("catalyst preview in resource mode (CATALYST_CONTROL_PLANE_NAMESPACE)", () => {
    const image = "nginxinc/nginx-unprivileged:1.27.4-alpine";
    const url = `https://${name}.preview.catalyst.localhost`;

    it("up writes the Environment and waits until the controller made it Ready, printing progress and the URL", async () => {
        const up = await catalyst(["preview", "up", "--pr", String(pr), "--branch", "feat/resources", "--image", image, "--owners", "alice", "--project", project, "--timeout", "5m"]);
        expect([up.code, up.stdout]).toEqual([0, `${name}: ready at ${url}\n`]);
        expect(up.stderr).toContain(`${name}: Environment ${NS}/${name} at generation 1; waiting for the controller`);
        expect(up.stderr).toMatch(new RegExp(`${name}: progressing: running up on stack ${name}`));
        const env = environments(NS).get(name);
        expect(isReady(env)).toBe(true);
        expect(env?.status).toMatchObject({ url, namespace: `env-${name}`, stack: name });
        expect(env?.status?.observedGeneration).toBe(1);
        expect(kubectl(["get", "deployment", "app", "-n", `env-${name}`, "-o", "jsonpath={.spec.template.spec.containers[0].image}"])).toBe(image);
    });

    it("list shows it with its status and URL", async () => {
        const list = await catalyst(["preview", "list"]);
        expect(list.code).toBe(0);
        expect(list.stdout.split("\n").find((line) => line.startsWith(`${name} `))).toMatch(new RegExp(`^${name} +${pr} +feat/resources +alice +ready +${url.replace(/\./g, "\\.")}$`));
        const json = JSON.parse((await catalyst(["preview", "list", "--json"])).stdout) as { previews: { environment: string; status: string; url?: string }[] };
        expect(json.previews.find((p) => p.environment === name)).toMatchObject({ status: "ready", url });
    });

    it("refusals name the field and change nothing: a missing Project (checked first), an immutable field (the API server's CEL rule)", async () => {
        const missing = await catalyst(["preview", "up", "--pr", String(pr + 1), "--branch", "b", "--project", `nope-${run}`]);
        expect([missing.code, missing.stderr.trim()]).toEqual([2, `catalyst preview up: --project: project "nope-${run}" does not exist in namespace ${NS}; create it first (docs/controller.md)`]);
        expect(environments(NS).has(previewStackName(pr + 1, `nope-${run}`))).toBe(false);
        const moved = kubectlError(["patch", "environments.catalyst.dev", "-n", NS, name, "--type=merge", "-p", JSON.stringify({ spec: { project: `${project}-b` } })]);
        expect(moved).toMatch(/spec\.project: .*is immutable/);
        // The same PR in another Project is another Environment: nothing of this one moves.
        expect(environments(NS).get(name)?.spec?.project).toBe(project);
        expect(environments(NS).get(name)?.metadata.generation).toBe(1);
    });

    it("down deletes it and waits until the controller destroyed the stack: namespace and Environment gone", async () => {
        const down = await catalyst(["preview", "down", "--pr", String(pr), "--project", project, "--timeout", "5m"]);
        expect([down.code, down.stdout]).toEqual([0, `${name}: deleted\n`]);
        expect(down.stderr).toContain(`${name}: deleting Environment ${NS}/${name}; waiting for the controller to destroy its stack`);
        expect(environments(NS).has(name)).toBe(false);
        expect(namespaceExists(`env-${name}`)).toBe(false);
    });
});

/** Server-sent events read from `route` until the stream ends or `stop()`: type and parsed data, in order. */
function readEvents(base: string, route: string, token: string): { events: () => { type: string; data: Record<string, unknown> }[]; ended: Promise<void>; stop: () => void } {
    const hangUp = new AbortController();
    let text = "";
    const ended = (async () => {
        const res = await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${token}` }, signal: hangUp.signal });
        expect([res.status, res.headers.get("content-type")]).toEqual([200, "text/event-stream; charset=utf-8"]);
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    })().catch((err: Error) => {
        if (!hangUp.signal.aborted) throw err;
    });
    const events = () => text.split("\n\n").filter((block) => block.startsWith("event: ")).map((block) => ({
        type: block.split("\n")[0].slice("event: ".length),
        data: JSON.parse(block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n")) as Record<string, unknown>,
    }));
    return { events, ended, stop: () => hangUp.abort() };
}

describe("catalyst serve in resource mode", () => {
    it("POST /previews writes the Environment and names an operation whose events follow the controller's progress to success; a restarted server reports it Ready (nothing was kept in the first); only owners may change it; MCP's destroy_preview removes it", async () => {
        const call = (base: string, method: string, route: string, body?: unknown, token = TOKEN) =>
            fetch(`${base}${route}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { authorization: `Bearer ${token}` } });
        const first = await serve();
        let second: { child: ChildProcess; base: string } | undefined;
        // The live list's stream (the dashboard's): Environment changes as activity, from a watch.
        const activity = readEvents(first.base, "/events", BOB);
        try {
            const created = await call(first.base, "POST", "/previews", { pr: pr + 2, branch: "feat/api", image: "nginxinc/nginx-unprivileged:1.27.4-alpine" });
            expect(created.status).toBe(202);
            expect(created.headers.get("location")).toBe(`/previews/${apiName}`);
            const answer = (await created.json()) as { operation: { id: string; action: string }; links: { events: string } };
            expect(answer).toMatchObject({ operation: { id: `${apiName}.1`, action: "create" }, links: { events: `/operations/${apiName}.1/events` } });
            expect(environments(NS).get(apiName)?.metadata.generation).toBe(1);

            // The dashboard's progress panel: the controller's steps and resource counts, then the result.
            const progress = readEvents(first.base, answer.links.events, TOKEN);
            await progress.ended;
            const events = progress.events();
            const end = events[events.length - 1];
            expect(end).toMatchObject({ type: "end", data: { id: `${apiName}.1`, state: "succeeded" } });
            const steps = events.filter((e) => e.type === "step").map((e) => e.data.step);
            expect(steps.some((step) => !["pending", "queued", "starting", "done", "retrying"].includes(String(step)))).toBe(true);
            const counts = events.filter((e) => e.type === "resource").map((e) => e.data as { done: number; total: number });
            expect(counts.length).toBeGreaterThan(0);
            expect(counts[counts.length - 1].done).toBe(counts[counts.length - 1].total);
            expect(counts[counts.length - 1].total).toBeGreaterThan(0);
            const activities = await waitFor("the activity of the finished up", () => {
                const seen = activity.events().map((e) => e.data).filter((a) => a.operation === `${apiName}.1`);
                return seen.some((a) => a.state === "succeeded") ? seen : undefined;
            }, 30_000, 200);
            expect(activities[0]).toMatchObject({ stack: apiName, action: "create", state: "running" });
            expect(activities.some((a) => a.state === "running" && Number(a.total) > 0)).toBe(true);
            activity.stop();
            await stop(first.child);

            second = await serve();
            const base = second.base;
            const ready = await waitFor(`${apiName} ready through the API`, async () => {
                const view = (await (await call(base, "GET", `/previews/${apiName}`)).json()) as { phase: string; url?: string; owners?: string[] };
                return view.phase === "ready" ? view : undefined;
            }, 5 * 60_000, 1000);
            expect(ready).toMatchObject({ url: `https://${apiName}.preview.catalyst.localhost`, owners: ["alice"] });
            expect(await (await call(base, "GET", `/operations/${apiName}.1`)).json()).toMatchObject({ id: `${apiName}.1`, state: "succeeded" });
            // Reads of the stack the controller ran, from the backend both share, and of its namespace.
            const described = (await (await call(base, "GET", `/environments/${apiName}`)).json()) as { namespace?: string; pods?: { name: string }[] };
            expect(described.namespace).toBe(`env-${apiName}`);
            expect((described.pods ?? []).length).toBeGreaterThan(0);
            const listed = (await (await call(base, "GET", "/environments")).json()) as { environments: { stack: string }[] };
            expect(listed.environments.map((e) => e.stack)).toContain(apiName);
            // Someone else's preview: refused, and the Environment is untouched.
            const generation = environments(NS).get(apiName)?.metadata.generation;
            expect((await call(base, "DELETE", `/environments/${apiName}`, undefined, BOB)).status).toBe(403);
            expect((await call(base, "POST", "/previews", { pr: pr + 2, branch: "feat/bob" }, BOB)).status).toBe(403);
            expect([environments(NS).get(apiName)?.metadata.deletionTimestamp, environments(NS).get(apiName)?.metadata.generation]).toEqual([undefined, generation]);
            // The MCP server in resource mode: bob is refused; alice's destroy waits until it is gone.
            const bob = await mcpClient(BOB);
            try {
                const refused = (await bob.callTool({ name: "destroy_preview", arguments: { environment: apiName } })) as ToolResult;
                expect([refused.isError, refused.content[0].text]).toEqual([true, expect.stringMatching(/^forbidden: /)]);
            } finally {
                await bob.close();
            }
            expect(environments(NS).get(apiName)?.metadata.deletionTimestamp).toBeUndefined();
            const alice = await mcpClient(TOKEN);
            try {
                const destroyed = (await alice.callTool({ name: "destroy_preview", arguments: { environment: apiName } }, undefined, { timeout: 5 * 60_000 })) as ToolResult;
                expect([destroyed.isError ?? false, JSON.parse(destroyed.content[0].text).phase]).toEqual([false, "deleted"]);
            } finally {
                await alice.close();
            }
            expect((await call(base, "GET", `/previews/${apiName}`)).status).toBe(404);
            expect(namespaceExists(`env-${apiName}`)).toBe(false);
        } finally {
            activity.stop();
            await stop(first.child);
            if (second !== undefined) await stop(second.child);
        }
    });
});
