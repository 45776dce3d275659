import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { TokenTable } from "../../../stacks/api/auth";
import { mcpHttpHandler } from "../../../stacks/api/index";
import { CatalystService } from "../../../stacks/api/service";
import { FakeLibrary, fakeCluster } from "./fakes";

const ALICE = "alice-token-0123456789abcdef";

describe("MCP over streamable HTTP (fake library)", () => {
    let server: Server;
    let url: URL;
    let library: FakeLibrary;
    beforeAll(async () => {
        library = new FakeLibrary();
        library.add("pr-4", "preview", "bob");
        server = createServer(mcpHttpHandler(new CatalystService(library, undefined, fakeCluster()), new TokenTable({ [ALICE]: "alice" })));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
    });
    afterAll(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    });

    it("refuses requests without a valid bearer token", async () => {
        const res = await fetch(url, { method: "POST", body: "{}", headers: { authorization: "Bearer wrong-wrong-wrong-wrong" } });
        expect(res.status).toBe(401);
    });

    it("serves the tools to an authenticated caller, acting as that caller", async () => {
        const client = new Client({ name: "t", version: "0" });
        await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${ALICE}` } } }));
        expect((await client.listTools()).tools.length).toBeGreaterThan(0);
        const refused = await client.callTool({ name: "destroy_preview", arguments: { environment: "pr-4" } });
        expect(refused.isError).toBe(true);
        expect((refused.content as { text: string }[])[0].text).toBe("forbidden: alice does not own pr-4");
        await client.close();
    });
});
