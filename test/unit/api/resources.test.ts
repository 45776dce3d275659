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
import { EnvironmentResources } from "../../../stacks/resources/client";
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
});

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
