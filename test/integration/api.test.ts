import { randomInt } from "crypto";
import { createServer, Server } from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { TokenTable } from "../../stacks/api/auth";
import { createHandler } from "../../stacks/api/http";
import { TOOL_NAMES } from "../../stacks/api/mcp";
import { CatalystService } from "../../stacks/api/service";
import { createWebhook, Webhook, WEBHOOK_PATH } from "../../stacks/api/webhook";
import { signBody } from "../../stacks/automation/github-webhook";
import { Automation } from "../../stacks/automation/operations";
import { FakeGitHubApi, startFakeGitHubApi } from "./fake-github-api";
import { kubectlJson, mcpStdioClient, PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";

/*
 * The MCP server (spawned over stdio, as an agent would) and the HTTP API (in process) over the
 * real automation library, engine and local cluster. Previews are minimal (no database, Redis
 * or workspace), set by the operator-side CATALYST_API_PREVIEW_CONFIG.
 */
jest.setTimeout(20 * 60_000);

const run = randomInt(100, 999);
// kwok-exec.yaml scopes exec to env-pr-990001: the MCP preview uses that PR number.
const MCP_PR = 990001;
const HTTP_PR = 990000 + run;
const WEBHOOK_PR = 980000 + run;
const WEBHOOK_SECRET = `webhook-${run}-0123456789abcdef`;
const workRoot = path.join(repoRoot, ".catalyst", `test-work-api-${run}`);
const auditLog = path.join(repoRoot, ".catalyst", "test-results", `api-audit-${run}.log`);
const minimal = { "catalyst:database": { mode: "none" }, "catalyst:redis": { enabled: false } };
const ALICE = `alice-${run}-0123456789abcdef`;
const BOB = `bob-${run}-0123456789abcdef00`;
const tokens = { [ALICE]: "alice", [BOB]: "bob" };

/** The library's own platform operations (Pulumi.<stack>.yaml); kept when it was up before. */
const platformAutomation = new Automation({ repoRoot, workRoot, auditLog, platformStack: PLATFORM_STACK });
let platformWasUp = false;

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] };
const text = (r: unknown) => (r as ToolResult).content[0]?.text ?? "";

function mcpClient(token: string): Promise<Client> {
    return mcpStdioClient("api-integration", {
        CATALYST_API_TOKENS: JSON.stringify(tokens),
        CATALYST_MCP_TOKEN: token,
        CATALYST_API_PREVIEW_CONFIG: JSON.stringify(minimal),
        CATALYST_WORK_ROOT: workRoot,
        CATALYST_AUDIT_LOG: auditLog,
        CATALYST_PLATFORM_STACK: PLATFORM_STACK,
    });
}

beforeAll(async () => {
    requireTestEnvironment();
    platformWasUp = ((await platformAutomation.platformStatus())?.resourceCount ?? 0) > 0;
    const result = await platformAutomation.upPlatform();
    if (result.status !== "succeeded") throw new Error(`platform up: ${result.status}: ${result.error ?? ""}`);
});

afterAll(async () => {
    if (!platformWasUp && process.env.CATALYST_KEEP_PLATFORM === undefined) {
        const result = await platformAutomation.destroyPlatform();
        expect(result.status).toBe("succeeded");
    }
});

describe("MCP server over stdio (real engine)", () => {
    it("lists tools, creates a preview, reads it, logs and exec, refuses a non-owner, destroys it", async () => {
        const alice = await mcpClient(ALICE);
        const bob = await mcpClient(BOB);
        try {
            const { tools } = await alice.listTools();
            expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());

            const created = await alice.callTool({ name: "create_preview", arguments: { pr: MCP_PR, branch: "feat/mcp" } }, undefined, { timeout: 15 * 60_000 });
            expect(created.isError).toBeFalsy();
            expect(JSON.parse(text(created))).toMatchObject({ state: "succeeded", result: { stack: `pr-${MCP_PR}`, status: "succeeded" } });

            const got = JSON.parse(text(await alice.callTool({ name: "get_environment", arguments: { environment: `pr-${MCP_PR}` } }))) as { namespace: string; owner: string; pods: { name: string; ready: boolean }[] };
            expect(got).toMatchObject({ namespace: `env-pr-${MCP_PR}`, owner: "alice" });
            expect(got.pods.length).toBeGreaterThan(0);
            const pod = got.pods[0].name;

            const history = JSON.parse(text(await bob.callTool({ name: "get_environment_history", arguments: { environment: `pr-${MCP_PR}`, limit: 1 } }))) as { operations: { kind: string; result: string }[] };
            expect(history.operations).toEqual([expect.objectContaining({ kind: "update", result: "succeeded" })]);

            const logs = await alice.callTool({ name: "get_logs", arguments: { environment: `pr-${MCP_PR}`, pod, lines: 5 } });
            // kwok serves the logs of simulated pods (tools/cluster/kwok-logs.yaml).
            expect(logs.isError ? text(logs) : "ok").toBe("ok");
            expect(JSON.parse(text(logs)).text.length).toBeGreaterThan(0);

            const exec = await alice.callTool({ name: "exec_in_environment", arguments: { environment: `pr-${MCP_PR}`, pod, argv: ["echo", "hello from", "mcp"], timeoutSeconds: 20 } });
            const execResult = JSON.parse(text(exec)) as { exitCode: number; stdout: string; stderr: string };
            // kwok runs the command for the simulated pod (tools/cluster/kwok-exec.yaml).
            expect(execResult).toMatchObject({ exitCode: 0, stdout: "hello from mcp\n" });

            for (const [name, args] of [
                ["destroy_preview", { environment: `pr-${MCP_PR}` }],
                ["exec_in_environment", { environment: `pr-${MCP_PR}`, pod, argv: ["id"] }],
                ["get_kubeconfig", { environment: `pr-${MCP_PR}` }],
            ] as const) {
                const refused = await bob.callTool({ name, arguments: args });
                expect(refused.isError).toBe(true);
                expect(text(refused)).toBe(`forbidden: bob does not own pr-${MCP_PR}`);
            }

            const kubeconfig = await alice.callTool({ name: "get_kubeconfig", arguments: { environment: `pr-${MCP_PR}` } });
            expect(kubeconfig.isError).toBeFalsy();
            expect(JSON.parse(text(kubeconfig))).toMatchObject({ "current-context": `env-pr-${MCP_PR}` });
        } finally {
            const destroyed = await alice.callTool({ name: "destroy_preview", arguments: { environment: `pr-${MCP_PR}` } }, undefined, { timeout: 15 * 60_000 });
            await alice.close();
            await bob.close();
            expect(JSON.parse(text(destroyed))).toMatchObject({ state: "succeeded" });
        }
        expect(kubectlJson<{ items: { metadata: { name: string } }[] }>(["get", "namespaces"]).items.map((n) => n.metadata.name)).not.toContain(`env-pr-${MCP_PR}`);
    });
});

describe("HTTP API (real engine)", () => {
    let server: Server;
    let base: string;
    let github: FakeGitHubApi;
    let webhook: Webhook;
    beforeAll(async () => {
        const automation = new Automation({ repoRoot, workRoot, auditLog, platformStack: PLATFORM_STACK });
        const service = new CatalystService(automation, undefined, undefined, minimal);
        github = await startFakeGitHubApi("acme/web");
        webhook = createWebhook({
            settings: { secret: WEBHOOK_SECRET, token: github.token, apiUrl: github.url, gate: {}, pushBranches: [] },
            library: automation, previewConfig: minimal, log: () => undefined,
        });
        server = createServer(createHandler({ service, tokens: new TokenTable(tokens), log: () => undefined, webhook: { path: WEBHOOK_PATH, handle: webhook.handle } }));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        await github.close();
    });

    const call = (method: string, url: string, body?: string, token: string | null = ALICE) =>
        fetch(`${base}${url}`, { method, body, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    const finish = async (id: string) => {
        for (;;) {
            const view = (await (await call("GET", `/operations/${id}`)).json()) as { state: string; result?: { status: string } };
            if (view.state !== "running") return view;
            await new Promise((r) => setTimeout(r, 1000));
        }
    };

    it("bad token: 401 and nothing created; malformed JSON: 400", async () => {
        expect((await call("POST", "/previews", JSON.stringify({ pr: HTTP_PR, branch: "feat/http" }), "not-a-token-not-a-token")).status).toBe(401);
        expect((await call("POST", "/previews", "{\"pr\":", ALICE)).status).toBe(400);
        expect((await call("GET", `/environments/pr-${HTTP_PR}`)).status).toBe(404);
    });

    it("create (202 + 409 for a concurrent second), progress events, list, get, delete", async () => {
        const body = JSON.stringify({ pr: HTTP_PR, branch: "feat/http" });
        const [a, b] = await Promise.all([call("POST", "/previews", body), call("POST", "/previews", body)]);
        expect([a.status, b.status].sort()).toEqual([202, 409]);
        const { operation } = (await (a.status === 202 ? a : b).json()) as { operation: { id: string } };

        const stream = await (await call("GET", `/operations/${operation.id}/events`)).text();
        expect(stream).toMatch(/event: step[\s\S]*event: resource[\s\S]*event: done[\s\S]*event: end/);
        expect(await finish(operation.id)).toMatchObject({ state: "succeeded" });

        const list = (await (await call("GET", "/environments")).json()) as { environments: { stack: string; owner?: string }[] };
        expect(list.environments).toContainEqual(expect.objectContaining({ stack: `pr-${HTTP_PR}`, owner: "alice", branch: "feat/http", url: expect.stringMatching(new RegExp(`^https?://pr-${HTTP_PR}\\.`)) }));
        const got = (await (await call("GET", `/environments/pr-${HTTP_PR}`)).json()) as {
            namespace: string; expiresAt: string; pods: { startedAt?: string; createdAt?: string }[];
            conditions: { type: string; status: string; reason: string; message: string; lastTransitionTime?: string }[];
        };
        expect(got.namespace).toBe(`env-pr-${HTTP_PR}`);
        // Pods carry their start time (kwok starts them), so the dashboard can show an age.
        expect(got.pods.length).toBeGreaterThan(0);
        expect(Date.parse(got.pods[0].startedAt ?? "")).toBeGreaterThan(Date.now() - 30 * 60_000);
        // Conditions from the same reads: deployed by the create (since its end), every pod ready, expiring at its TTL.
        const condition = (type: string) => got.conditions.find((c) => c.type === type);
        expect(condition("Deployed")).toMatchObject({ status: "True", reason: "UpdateSucceeded" });
        expect(Date.parse(condition("Deployed")?.lastTransitionTime ?? "")).toBeGreaterThan(Date.now() - 30 * 60_000);
        expect(condition("PodsReady")).toEqual({ type: "PodsReady", status: "True", reason: "AllReady", message: `${got.pods.length} of ${got.pods.length} pods ready` });
        expect(condition("Expired")).toMatchObject({ status: "False", reason: "TTLRunning", message: expect.stringContaining(`expires at ${got.expiresAt}`) });
        expect(got.conditions.map((c) => c.type)).toEqual(["Deployed", "PodsReady", "Interrupted", "Sleeping", "Expired"]);

        // The engine's history: the create, one update with its changes, its times; any caller may read it.
        const history = await call("GET", `/environments/pr-${HTTP_PR}/operations?limit=5`, undefined, BOB);
        expect(history.status).toBe(200);
        const { operations } = (await history.json()) as { operations: { kind: string; result: string; startTime: string; endTime: string; durationMs: number; changes: Record<string, number> }[] };
        expect(operations).toHaveLength(1);
        expect(operations[0]).toMatchObject({ kind: "update", result: "succeeded", changes: { create: expect.any(Number) } });
        expect(operations[0].changes.create).toBeGreaterThan(5);
        expect(operations[0].durationMs).toBe(Date.parse(operations[0].endTime) - Date.parse(operations[0].startTime));
        const badLimit = await call("GET", `/environments/pr-${HTTP_PR}/operations?limit=0`);
        expect([badLimit.status, await badLimit.json()]).toEqual([422, { error: { code: "invalid", message: "limit: must be a whole number from 1 to 100" } }]);
        expect((await call("GET", `/environments/pr-${HTTP_PR + 1}/operations`)).status).toBe(404);

        // The resources the state holds: names and links, never inputs or outputs.
        const { resources } = (await (await call("GET", `/environments/pr-${HTTP_PR}/resources`)).json()) as { resources: Record<string, unknown>[] };
        expect(resources.length).toBeGreaterThan(5);
        expect(resources).toContainEqual(expect.objectContaining({ type: "kubernetes:core/v1:Namespace", custom: true, provider: expect.stringContaining("::pulumi:providers:kubernetes::") }));
        expect(resources).toContainEqual(expect.objectContaining({ type: "pulumi:pulumi:Stack", custom: false }));
        for (const resource of resources) expect(Object.keys(resource).every((key) => ["type", "name", "urn", "parent", "provider", "custom"].includes(key))).toBe(true);

        expect((await call("DELETE", `/environments/pr-${HTTP_PR}`, undefined, BOB)).status).toBe(403);
        const deleted = await call("DELETE", `/environments/pr-${HTTP_PR}`);
        expect(deleted.status).toBe(202);
        const id = ((await deleted.json()) as { operation: { id: string } }).operation.id;
        expect(await finish(id)).toMatchObject({ state: "succeeded" });
        expect((await call("GET", `/environments/pr-${HTTP_PR}`)).status).toBe(404);
        // The stack is removed with its history.
        expect((await call("GET", `/environments/pr-${HTTP_PR}/operations`)).status).toBe(404);
        expect((await call("GET", `/environments/pr-${HTTP_PR}/resources`)).status).toBe(404);
    });

    it("GitHub webhook (signed payloads, a fake GitHub API): opened creates the preview and one comment with its URL; closed destroys it", async () => {
        const post = (event: string, action: string, delivery: string) => {
            const body = JSON.stringify({
                action, repository: { full_name: "acme/web" }, sender: { login: "alice" },
                pull_request: { number: WEBHOOK_PR, draft: false, labels: [], head: { ref: "feat/hook", sha: "a".repeat(40) }, user: { login: "alice" } },
            });
            return fetch(`${base}${WEBHOOK_PATH}`, { method: "POST", body, headers: { "x-github-event": event, "x-github-delivery": delivery, "x-hub-signature-256": signBody(WEBHOOK_SECRET, body) } });
        };
        const namespaces = () => kubectlJson<{ items: { metadata: { name: string } }[] }>(["get", "namespaces"]).items.map((n) => n.metadata.name);
        expect((await post("pull_request", "opened", `open-${run}`)).status).toBe(202);
        await webhook.idle();
        expect(namespaces()).toContain(`env-pr-${WEBHOOK_PR}`);
        const comments = () => github.comments.filter((c) => c.pr === WEBHOOK_PR);
        expect(comments()).toHaveLength(1);
        expect(comments()[0].body).toContain(`**URL:** https://pr-${WEBHOOK_PR}.`);
        expect((await post("pull_request", "opened", `open-${run}`)).status).toBe(409);

        expect((await post("pull_request", "closed", `close-${run}`)).status).toBe(202);
        await webhook.idle();
        expect(namespaces()).not.toContain(`env-pr-${WEBHOOK_PR}`);
        expect(comments()).toHaveLength(1);
        expect(comments()[0]).toMatchObject({ edits: 1, body: expect.stringContaining("### Preview environment: destroyed") });
    });
});
