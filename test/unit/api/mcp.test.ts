import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createMcpServer, TOOL_NAMES } from "../../../stacks/api/mcp";
import { CatalystService } from "../../../stacks/api/service";
import { FakeLibrary, fakeCluster } from "./fakes";

async function connect(service: CatalystService, user: string): Promise<Client> {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer(service, user).connect(serverSide);
    const client = new Client({ name: "test", version: "0.0.0" });
    await client.connect(clientSide);
    return client;
}

const text = (result: unknown) => ((result as { content: { text: string }[] }).content[0] as { text: string }).text;

describe("MCP tools (fake library)", () => {
    it("lists the tools with JSON schemas and descriptions", async () => {
        const client = await connect(new CatalystService(new FakeLibrary(), undefined, fakeCluster()), "alice");
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
        const exec = tools.find((t) => t.name === "exec_in_environment");
        expect(exec?.description).toContain("never a shell string");
        expect(exec?.inputSchema).toMatchObject({ type: "object", required: expect.arrayContaining(["environment", "pod", "argv"]) });
        await client.close();
    });

    it("creates, execs as the owner; refuses another caller", async () => {
        const library = new FakeLibrary();
        const service = new CatalystService(library, undefined, fakeCluster());
        const alice = await connect(service, "alice");
        const created = await alice.callTool({ name: "create_preview", arguments: { pr: 5, branch: "feat/y" } });
        expect(created.isError).toBeFalsy();
        expect(JSON.parse(text(created))).toMatchObject({ state: "succeeded", result: { stack: "pr-5" } });
        const exec = await alice.callTool({ name: "exec_in_environment", arguments: { environment: "pr-5", pod: "app-1", argv: ["uname", "-a"] } });
        expect(JSON.parse(text(exec))).toMatchObject({ exitCode: 0, stdout: "uname -a" });
        const bob = await connect(service, "bob");
        const refused = await bob.callTool({ name: "destroy_preview", arguments: { environment: "pr-5" } });
        expect(refused.isError).toBe(true);
        expect(text(refused)).toBe("forbidden: bob does not own pr-5");
        const bad = await bob.callTool({ name: "exec_in_environment", arguments: { environment: "pr-5", pod: "app-1", argv: "id" } });
        expect(bad.isError).toBe(true);
        expect(library.calls.filter((c) => c.op === "destroy")).toHaveLength(0);
        await alice.close();
        await bob.close();
    });

    it("reads an environment's operations and resources for any caller; a bad limit names the field", async () => {
        const library = new FakeLibrary();
        library.add("pr-5", "preview", "alice");
        const bob = await connect(new CatalystService(library, undefined, fakeCluster()), "bob");
        const history = await bob.callTool({ name: "get_environment_history", arguments: { environment: "pr-5", limit: 3 } });
        expect(JSON.parse(text(history))).toMatchObject({ environment: "pr-5", operations: [{ kind: "update", changes: { create: 3 } }] });
        expect(library.calls).toEqual([{ op: "operations", args: { name: "pr-5", limit: 3 } }]);
        const bad = await bob.callTool({ name: "get_environment_history", arguments: { environment: "pr-5", limit: 0 } });
        expect(bad.isError).toBe(true);
        expect(text(bad)).toContain("limit");
        const resources = await bob.callTool({ name: "get_environment_resources", arguments: { environment: "pr-5" } });
        expect(JSON.parse(text(resources)).resources).toEqual([expect.objectContaining({ type: "kubernetes:core/v1:Namespace", name: "ns" })]);
        const missing = await bob.callTool({ name: "get_environment_resources", arguments: { environment: "pr-6" } });
        expect([missing.isError, text(missing)]).toEqual([true, "not-found: no environment pr-6"]);
        await bob.close();
    });
});
