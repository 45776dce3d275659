import { Server, createServer } from "http";
import { AddressInfo } from "net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { TokenTable } from "../../../stacks/api/auth";
import { createHandler } from "../../../stacks/api/http";
import { runMcpCommand } from "../../../stacks/api/index";
import { runServeCommand } from "../../../stacks/serve/index";
import { createMcpServer } from "../../../stacks/api/mcp";
import { PreviewResources } from "../../../stacks/api/resources";
import { CatalystService } from "../../../stacks/api/service";
import { EnvironmentHandlers, EnvironmentResources, ResourceError } from "../../../stacks/resources/client";
import type { OperationProgress } from "../../../stacks/resources/types";
import { FakeStore } from "../resources/fake-store";
import { FakeLibrary, fakeCluster } from "./fakes";

/*
 * The HTTP API and the MCP server in resource mode: previews are Environment resources (a fake
 * API server here), the library runs no stack, and the status comes from the resource.
 */

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef00";

let store: FakeStore;
let library: FakeLibrary;
let service: CatalystService;

beforeEach(() => {
    store = new FakeStore();
    library = new FakeLibrary();
    service = new CatalystService(library, undefined, fakeCluster(), undefined, new PreviewResources(new EnvironmentResources(store, "catalyst-system", { intervalMs: 0 }), "default"));
});

describe("HTTP API in resource mode", () => {
    let server: Server;
    let base: string;
    beforeEach(async () => {
        server = createServer(createHandler({ service, tokens: new TokenTable({ [ALICE]: "alice", [BOB]: "bob" }), log: () => undefined }));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    });
    const call = (method: string, path: string, body?: unknown, token = ALICE) =>
        fetch(`${base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { authorization: `Bearer ${token}` } });

    it("POST /previews writes the Environment (caller first owner) and answers 202 with its status link; no stack runs here", async () => {
        const created = await call("POST", "/previews", { pr: 7, branch: "feat/x", owners: ["bob"], ttl: "72h" });
        expect(created.status).toBe(202);
        expect(created.headers.get("location")).toBe("/previews/pr-7");
        expect(await created.json()).toMatchObject({ environment: { environment: "pr-7", namespace: "catalyst-system", phase: "pending", generation: 1 }, links: { status: "/previews/pr-7" } });
        expect(store.objects.get("catalyst-system/pr-7")?.spec).toEqual({ project: "default", type: "preview", pullRequest: 7, branch: "feat/x", owners: ["alice", "bob"], ttl: "3d" });
        expect(library.calls).toEqual([]);

        store.setStatus("pr-7", { conditions: [{ type: "Ready", message: "stack pr-7 is up" }], url: "https://pr-7.example" });
        expect(await (await call("GET", "/previews/pr-7")).json()).toMatchObject({ phase: "ready", url: "https://pr-7.example", observedGeneration: 1 });
    });

    it("refuses another owner's preview (403) and bad input naming the field (422); DELETE starts the delete (202), then 404", async () => {
        await call("POST", "/previews", { pr: 8, branch: "b" });
        const bob = await call("POST", "/previews", { pr: 8, branch: "c" }, BOB);
        expect([bob.status, ((await bob.json()) as { error: { message: string } }).error.message]).toEqual([403, "bob does not own pr-8"]);
        expect((await call("DELETE", "/environments/pr-8", undefined, BOB)).status).toBe(403);
        const bad = await call("POST", "/previews", { pr: -1, branch: "b" });
        expect(bad.status).toBe(422);
        const deleted = await call("DELETE", "/environments/pr-8");
        expect(deleted.status).toBe(202);
        expect(await deleted.json()).toMatchObject({ environment: { environment: "pr-8", phase: "deleting" } });
        store.remove("pr-8");
        expect((await call("GET", "/previews/pr-8")).status).toBe(404);
        expect((await call("DELETE", "/environments/pr-8")).status).toBe(404);
    });

    it("GET /environments/:name carries the Environment's conditions as the controller wrote them, before the stack's own", async () => {
        await call("POST", "/previews", { pr: 7, branch: "feat/x" });
        library.add("pr-7", "preview", "alice");
        const object = store.objects.get("catalyst-system/pr-7")!;
        const ready = { type: "Ready" as const, status: "False" as const, reason: "UpFailed", message: "quota exceeded", lastTransitionTime: "2026-12-07T06:00:00Z", observedGeneration: 1 };
        object.status = { ...object.status, stack: "pr-7", conditions: [ready] };
        const got = (await (await call("GET", "/environments/pr-7", undefined, BOB)).json()) as { conditions: { type: string }[] };
        expect(got.conditions[0]).toEqual(ready);
        expect(got.conditions.map((c) => c.type)).toEqual(["Ready", "Deployed", "PodsReady", "Interrupted", "Sleeping"]);
    });

    // Live progress from the Environment's status.
    /** Plays the controller: `status.operation` of pr-7 at its generation. */
    const operation = (patch: Partial<OperationProgress>) => {
        const object = store.objects.get("catalyst-system/pr-7")!;
        object.status = { ...object.status, operation: { id: "op-1", action: "up", generation: object.metadata.generation ?? 1, step: "starting", startedAt: "2026-01-01T00:00:00Z", ...patch } };
    };
    /** Server-sent events of a response as `type data` pairs, until the stream ends. */
    async function events(res: Response): Promise<{ type: string; data: Record<string, unknown> }[]> {
        const text = await res.text();
        return text.split("\n\n").filter((block) => block.startsWith("event: ")).map((block) => ({
            type: block.split("\n")[0].slice("event: ".length),
            data: JSON.parse(block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n")) as Record<string, unknown>,
        }));
    }

    it("POST /previews names an operation to follow; its events show the controller's step and resources, then end with the result (any server can follow: nothing is kept)", async () => {
        const created = await call("POST", "/previews", { pr: 7, branch: "feat/x" });
        expect(await created.json()).toMatchObject({
            operation: { id: "pr-7.1", stack: "pr-7", action: "create", user: "alice", state: "running" },
            links: { status: "/previews/pr-7", operation: "/operations/pr-7.1", events: "/operations/pr-7.1/events" },
        });
        expect(await (await call("GET", "/operations/pr-7.1")).json()).toMatchObject({ id: "pr-7.1", state: "running" });
        store.onGet = (_object, n) => {
            // Get 1 is the check before the stream starts, get 2 its first read.
            if (n === 3) {
                store.setStatus("pr-7", { conditions: [{ type: "Progressing", message: "running up on stack pr-7 (generation 1)" }], observed: false });
                operation({ step: "updating", resourcesDone: 2, resourcesTotal: 5 });
            }
            if (n === 5) operation({ step: "updating", resourcesDone: 5, resourcesTotal: 5 });
            if (n === 7) {
                store.setStatus("pr-7", { conditions: [{ type: "Ready", message: "stack pr-7 is up" }], url: "https://pr-7.example" });
                operation({ step: "done", resourcesDone: 5, resourcesTotal: 5, finishedAt: "2026-01-01T00:01:00Z", result: "succeeded" });
            }
        };
        const stream = await call("GET", "/operations/pr-7.1/events", undefined, BOB);
        expect([stream.status, stream.headers.get("content-type")]).toEqual([200, "text/event-stream; charset=utf-8"]);
        const seen = await events(stream);
        expect(seen.map((e) => `${e.type} ${e.data.step ?? ""}${e.data.done ?? ""}${e.data.state ?? ""}`)).toEqual([
            "step pending", "step updating", "resource 2", "resource 5", "step done", "end succeeded",
        ]);
        expect(seen[2].data).toMatchObject({ type: "resource", stack: "pr-7", done: 2, total: 5 });
        expect(seen.at(-1)?.data).toMatchObject({ id: "pr-7.1", action: "create", state: "succeeded", finishedAt: "2026-01-01T00:01:00Z" });
        expect((await call("GET", "/operations/pr-9.1")).status).toBe(404);
        expect((await call("GET", "/operations/pr-9.1/events")).status).toBe(404);
    });

    it("DELETE names the delete operation: it ends succeeded once the Environment is gone, failed when the destroy failed", async () => {
        await call("POST", "/previews", { pr: 7, branch: "feat/x" });
        const deleted = await call("DELETE", "/environments/pr-7");
        expect(await deleted.json()).toMatchObject({ operation: { id: "pr-7.destroy", action: "destroy" }, links: { events: "/operations/pr-7.destroy/events" } });
        store.onGet = (_object, n) => {
            if (n === 3) operation({ action: "destroy", step: "destroying", resourcesDone: 1, resourcesTotal: 3 });
            if (n === 4) store.remove("pr-7");
        };
        const seen = await events(await call("GET", "/operations/pr-7.destroy/events"));
        expect(seen.map((e) => e.type)).toEqual(["step", "step", "resource", "end"]);
        expect(seen.at(-1)?.data).toMatchObject({ id: "pr-7.destroy", state: "succeeded" });

        await call("POST", "/previews", { pr: 7, branch: "feat/x" });
        await call("DELETE", "/environments/pr-7");
        store.onGet = (_object, n) => {
            if (n === 3) store.setStatus("pr-7", { conditions: [{ type: "Ready", status: "False", reason: "DestroyFailed", message: "boom" }], failures: 1 });
        };
        const failed = await events(await call("GET", "/operations/pr-7.destroy/events"));
        expect(failed.at(-1)?.data).toMatchObject({ state: "failed", error: expect.stringContaining("destroy failed: boom") });
    });

    it("GET /events streams an activity per Environment change from one shared watch, stopped after the last listener", async () => {
        await call("POST", "/previews", { pr: 7, branch: "feat/x" });
        let handlers: EnvironmentHandlers | undefined;
        let watches = 0;
        let stops = 0;
        store.watchAll = async (_namespace, given) => {
            watches++;
            handlers = given;
            for (const object of store.objects.values()) given.changed(structuredClone(object));
            return () => void stops++;
        };
        const listen = new AbortController();
        const res = await fetch(`${base}/events`, { headers: { authorization: `Bearer ${BOB}` }, signal: listen.signal });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        let text = "";
        const until = async (pattern: RegExp) => {
            while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value);
        };
        await until(/"operation":"pr-7\.1"/);
        expect(text).toContain('"state":"running","startedAt"');
        expect(text).toContain('"step":"pending"');
        store.setStatus("pr-7", { conditions: [{ type: "Progressing", message: "running up" }], observed: false });
        operation({ step: "updating", resourcesDone: 1, resourcesTotal: 4 });
        handlers?.changed(structuredClone(store.objects.get("catalyst-system/pr-7")!));
        handlers?.changed(structuredClone(store.objects.get("catalyst-system/pr-7")!)); // the same again: no event
        await until(/"done":1,"total":4/);
        const object = structuredClone(store.objects.get("catalyst-system/pr-7")!);
        store.remove("pr-7");
        handlers?.deleted(object);
        await until(/"operation":"pr-7\.destroy","action":"destroy","state":"succeeded"/);
        expect(text.match(/"done":1,"total":4/g)).toHaveLength(1);
        listen.abort();
        await waitUntil(() => stops === 1);
        expect(watches).toBe(1);
    });
});

it("GET /events without permission to watch Environments still streams (the list falls back on its poll)", async () => {
    const server = createServer(createHandler({ service, tokens: new TokenTable({ [ALICE]: "alice" }), log: () => undefined }));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    let tries = 0;
    store.watchAll = async () => {
        tries++;
        throw new ResourceError(403, "environments.catalyst.dev is forbidden: cannot watch");
    };
    try {
        const listen = new AbortController();
        const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, { headers: { authorization: `Bearer ${ALICE}` }, signal: listen.signal });
        expect(res.status).toBe(200);
        expect(new TextDecoder().decode((await (res.body as ReadableStream<Uint8Array>).getReader().read()).value)).toBe(": activity\n\n");
        expect(tries).toBe(1);
        listen.abort();
    } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    }
});

async function waitUntil(check: () => boolean): Promise<void> {
    while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("MCP in resource mode", () => {
    async function connect(user: string): Promise<Client> {
        const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
        await createMcpServer(service, user).connect(serverSide);
        const client = new Client({ name: "test", version: "0.0.0" });
        await client.connect(clientSide);
        return client;
    }
    const text = (result: unknown) => (result as { content: { text: string }[] }).content[0].text;

    it("create_preview waits until the Environment is Ready and returns its URL; destroy_preview until it is gone", async () => {
        store.onGet = (_o, n) => {
            if (n === 3) store.setStatus("pr-5", { conditions: [{ type: "Ready", message: "up" }], url: "https://pr-5.example" });
        };
        const alice = await connect("alice");
        const created = await alice.callTool({ name: "create_preview", arguments: { pr: 5, branch: "feat/y" } });
        expect(created.isError).toBeFalsy();
        expect(JSON.parse(text(created))).toMatchObject({ environment: "pr-5", phase: "ready", url: "https://pr-5.example" });
        store.onGet = (_o, n) => {
            if (n === 3) store.remove("pr-5");
        };
        const destroyed = await alice.callTool({ name: "destroy_preview", arguments: { environment: "pr-5" } });
        expect(JSON.parse(text(destroyed))).toMatchObject({ environment: "pr-5", phase: "deleted" });
        expect(library.calls).toEqual([]);
        await alice.close();
    });

    it("a Stalled Environment is a tool error with the status message; wait=false returns at once", async () => {
        const alice = await connect("alice");
        const started = await alice.callTool({ name: "create_preview", arguments: { pr: 6, branch: "b", wait: false } });
        expect(JSON.parse(text(started))).toMatchObject({ environment: "pr-6", phase: "pending" });
        store.setStatus("pr-6", { conditions: [{ type: "Stalled", message: "3 failures in a row: boom" }, { type: "Ready", status: "False", reason: "UpFailed", message: "boom" }] });
        const again = await alice.callTool({ name: "create_preview", arguments: { pr: 6, branch: "b" } });
        expect([again.isError, text(again)]).toEqual([true, "failed: Stalled: 3 failures in a row: boom"]);
        await alice.close();
    });
});

describe("serve and mcp check the resource-mode settings at start, naming the variable (exit 2)", () => {
    const saved = { ...process.env };
    afterEach(() => {
        process.env = { ...saved };
        jest.restoreAllMocks();
    });

    it.each([
        [{ CATALYST_CONTROL_PLANE_NAMESPACE: "Bad_NS" }, "CATALYST_CONTROL_PLANE_NAMESPACE: must be a namespace name (a DNS-1123 label: lower case letters, digits and '-', at most 63 characters), got \"Bad_NS\""],
        [{ CATALYST_CONTROL_PLANE_NAMESPACE: "catalyst-system", CATALYST_CONTROL_PLANE_PROJECT: "-web" }, "CATALYST_CONTROL_PLANE_PROJECT: must be a project name"],
        [{ CATALYST_CONTROL_PLANE_NAMESPACE: "catalyst-system", CATALYST_API_PREVIEW_CONFIG: '{"database":{"mode":"none"}}' },
            "CATALYST_API_PREVIEW_CONFIG: not applied in resource mode (CATALYST_CONTROL_PLANE_NAMESPACE); put it in the Project's spec.preview.config instead"],
    ])("%j", async (settings, message) => {
        process.env = { ...saved, CATALYST_API_TOKENS: JSON.stringify({ [ALICE]: "alice" }), ...settings };
        const lines: string[] = [];
        jest.spyOn(process.stderr, "write").mockImplementation((text) => (lines.push(String(text)), true));
        expect(await runServeCommand({ host: "127.0.0.1", port: 0, localOidc: false }, new FakeLibrary())).toBe(2);
        expect(await runMcpCommand({ host: "127.0.0.1" }, new FakeLibrary())).toBe(2);
        expect(lines).toEqual([expect.stringContaining(`catalyst serve: ${message}`), expect.stringContaining(`catalyst mcp: ${message}`)]);
    });
});
