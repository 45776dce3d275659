import { createServer, request, Server } from "http";
import { AddressInfo } from "net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { TokenTable } from "../../../stacks/api/auth";
import { hostAllowList, mcpHttpHandler } from "../../../stacks/api/index";
import { CatalystService } from "../../../stacks/api/service";
import { FakeLibrary, fakeCluster } from "./fakes";

/*
 * Issue 12, section 4: MCP as the specification asks, through the real SDK client over
 * streamable HTTP: DNS-rebinding protection (Host and Origin), environments as resources, and
 * the logging capability with logging/setLevel.
 */

const ALICE = "alice-token-0123456789abcdef";

/**
 * A fetch for the SDK client that resolves every host name to 127.0.0.1, as a rebound DNS name
 * would, and sends the URL's host as the Host header (global fetch cannot set Host).
 */
const rebindingFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    return new Promise((resolve, reject) => {
        const req = request({
            host: url.hostname, port: url.port, path: url.pathname, method: init?.method ?? "GET", headers,
            lookup: (_host, options, callback) => {
                const done = callback as (e: null, a: string | { address: string; family: number }[], f?: number) => void;
                if ((options as { all?: boolean }).all) done(null, [{ address: "127.0.0.1", family: 4 }]);
                else done(null, "127.0.0.1", 4);
            },
        }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), {
                status: res.statusCode,
                headers: Object.entries(res.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])),
            })));
        });
        req.on("error", reject);
        req.end(typeof init?.body === "string" ? init.body : undefined);
    });
};

describe("MCP as the specification asks (issue 12, section 4)", () => {
    let server: Server;
    let port: number;
    let library: FakeLibrary;
    beforeAll(async () => {
        library = new FakeLibrary();
        library.add("pr-4", "preview", "bob");
        library.add("pr-7", "preview", "alice");
        library.add("staging", "staging");
        server = createServer(mcpHttpHandler(new CatalystService(library, undefined, fakeCluster()), new TokenTable({ [ALICE]: "alice" }), hostAllowList({})));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    });

    const connect = async (host: string, headers: Record<string, string> = {}) => {
        const client = new Client({ name: "t", version: "0" });
        await client.connect(new StreamableHTTPClientTransport(new URL(`http://${host}:${port}/mcp`), {
            fetch: rebindingFetch,
            requestInit: { headers: { authorization: `Bearer ${ALICE}`, ...headers } },
        }));
        return client;
    };

    it("a request with Host: evil.example gets 403 (DNS-rebinding protection), before any token check", async () => {
        await expect(connect("evil.example")).rejects.toMatchObject({ code: 403 });
        const raw = await rebindingFetch(`http://evil.example:${port}/mcp`, { method: "POST", body: "{}" });
        expect(raw.status).toBe(403);
        expect(((await raw.json()) as { error: { message: string } }).error.message).toMatch(/^forbidden: Host "evil\.example:[0-9]+" is not allowed/);
    });

    it("a browser Origin of another site gets 403; loopback hosts and origins pass", async () => {
        await expect(connect("localhost", { origin: "https://evil.example" })).rejects.toMatchObject({ code: 403, message: expect.stringContaining('forbidden: Origin \\"https://evil.example\\" is not allowed') });
        const client = await connect("localhost", { origin: `http://localhost:${port}` });
        await client.close();
    });

    it("the allow-list is configurable, and bad entries are refused naming the key", () => {
        expect(hostAllowList({ CATALYST_MCP_ALLOWED_HOSTS: "mcp.example.com", CATALYST_MCP_ALLOWED_ORIGINS: "https://app.example.com" })).toEqual({ hosts: ["mcp.example.com"], origins: ["https://app.example.com"] });
        expect(() => hostAllowList({ CATALYST_MCP_ALLOWED_HOSTS: "http://x" })).toThrow('CATALYST_MCP_ALLOWED_HOSTS: "http://x" is not a host name');
        expect(() => hostAllowList({ CATALYST_MCP_ALLOWED_ORIGINS: "example.com" })).toThrow('CATALYST_MCP_ALLOWED_ORIGINS: "example.com" is not an origin');
    });

    it("resources/list lists every environment the caller may read; the template and reads work", async () => {
        const client = await connect("127.0.0.1");
        try {
            const { resources } = await client.listResources();
            expect(resources.map((r) => r.uri).sort()).toEqual(["catalyst://environments/pr-4", "catalyst://environments/pr-7", "catalyst://environments/staging"]);
            const { resourceTemplates } = await client.listResourceTemplates();
            expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["catalyst://environments/{name}"]);
            const read = await client.readResource({ uri: "catalyst://environments/pr-4" });
            expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ stack: "pr-4", owner: "bob" });
            await expect(client.readResource({ uri: "catalyst://environments/pr-99" })).rejects.toThrow("no environment pr-99");
        } finally {
            await client.close();
        }
    });

    it("declares logging, answers logging/setLevel and sends operation progress at the level asked", async () => {
        const client = await connect("127.0.0.1");
        const messages: { level: string; data: unknown }[] = [];
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push({ level: n.params.level, data: n.params.data }));
        try {
            expect(client.getServerCapabilities()?.logging).toEqual({});
            expect(await client.setLoggingLevel("debug")).toEqual({});
            await client.callTool({ name: "create_preview", arguments: { pr: 21, branch: "feat/log" } });
            expect(messages.map((m) => m.level)).toEqual(["info", "debug", "notice"]);
            expect(messages[0].data).toBe("updating: updating");

            messages.length = 0;
            await client.setLoggingLevel("notice");
            await client.callTool({ name: "create_preview", arguments: { pr: 22, branch: "feat/log" } });
            expect(messages).toEqual([{ level: "notice", data: "done: succeeded" }]);
        } finally {
            await client.close();
        }
    });
});
