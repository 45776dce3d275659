import { AddressInfo } from "net";
import { Server, createServer } from "http";
import { TokenTable } from "../../../stacks/api/auth";
import { createHandler } from "../../../stacks/api/http";
import { CatalystService } from "../../../stacks/api/service";
import { FakeLibrary, fakeCluster } from "./fakes";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef00";

describe("HTTP API (fake library)", () => {
    let server: Server;
    let base: string;
    let library: FakeLibrary;
    let cluster: ReturnType<typeof fakeCluster>;
    let logged: string[];

    beforeEach(async () => {
        library = new FakeLibrary();
        cluster = fakeCluster();
        logged = [];
        const service = new CatalystService(library, undefined, cluster);
        server = createServer(createHandler({ service, tokens: new TokenTable({ [ALICE]: "alice", [BOB]: "bob" }), log: (l) => logged.push(l) }));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    });

    const call = (method: string, path: string, body?: string, token: string | null = ALICE) =>
        fetch(`${base}${path}`, { method, body, headers: token === null ? {} : { authorization: `Bearer ${token}` } });

    it("health and readiness need no token", async () => {
        expect((await call("GET", "/healthz", undefined, null)).status).toBe(200);
        expect((await call("GET", "/readyz", undefined, null)).status).toBe(200);
    });

    it("create, poll, list, get, delete round trip", async () => {
        const created = await call("POST", "/previews", JSON.stringify({ pr: 7, branch: "feat/x", owners: ["bob"] }));
        expect(created.status).toBe(202);
        const { operation } = (await created.json()) as { operation: { id: string } };
        expect(created.headers.get("location")).toBe(`/operations/${operation.id}`);
        let state = "running";
        while (state === "running") state = ((await (await call("GET", `/operations/${operation.id}`)).json()) as { state: string }).state;
        expect(state).toBe("succeeded");
        expect(library.calls[0]).toMatchObject({ op: "up", args: { pr: 7, branch: "feat/x", owners: ["alice", "bob"] }, call: { lockTimeoutMs: 0 } });
        const list = (await (await call("GET", "/environments")).json()) as { environments: { stack: string }[] };
        expect(list.environments.map((e) => e.stack)).toEqual(["pr-7"]);
        const got = (await (await call("GET", "/environments/pr-7")).json()) as { pods: unknown[]; conditions: { type: string; status: string; reason: string }[] };
        expect(got.pods).toEqual([{ name: "app-1", phase: "Running", ready: true, restarts: 0 }]);
        // The conditions over the same reads (the fake stack has no history: never deployed).
        expect(got.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
            ["Deployed", "False", "NeverDeployed"], ["PodsReady", "True", "AllReady"], ["Interrupted", "False", "NoPendingOperations"], ["Sleeping", "False", "Awake"],
        ]);
        const deleted = await call("DELETE", "/environments/pr-7");
        expect(deleted.status).toBe(202);
        const id = ((await deleted.json()) as { operation: { id: string } }).operation.id;
        const events = await (await call("GET", `/operations/${id}/events`)).text();
        expect(events).toContain("event: end");
        expect((await call("GET", "/environments/pr-7")).status).toBe(404);
    });

    it("two concurrent creates of one PR: 202 then 409", async () => {
        let release!: () => void;
        library.gate = new Promise((r) => (release = r));
        const [a, b] = await Promise.all([
            call("POST", "/previews", JSON.stringify({ pr: 8, branch: "a" })),
            call("POST", "/previews", JSON.stringify({ pr: 8, branch: "a" }), BOB),
        ]);
        expect([a.status, b.status].sort()).toEqual([202, 409]);
        expect(((await (a.status === 409 ? a : b).json()) as { error: { code: string } }).error.code).toBe("busy");
        release();
        expect(library.calls.filter((c) => c.op === "up")).toHaveLength(1);
    });

    it("a bad token gets 401 and creates nothing; malformed JSON 400; bad input 422", async () => {
        const bad = await call("POST", "/previews", JSON.stringify({ pr: 9, branch: "a" }), "wrong-token-wrong-token");
        expect(bad.status).toBe(401);
        expect(bad.headers.get("www-authenticate")).toBe("Bearer");
        expect((await call("POST", "/previews", JSON.stringify({ pr: 9, branch: "a" }), null)).status).toBe(401);
        expect(library.calls).toHaveLength(0);
        expect((await call("POST", "/previews", "{not json")).status).toBe(400);
        const invalid = await call("POST", "/previews", JSON.stringify({ pr: -1, branch: "a" }));
        expect(invalid.status).toBe(422);
        expect(((await invalid.json()) as { error: { message: string } }).error.message).toBe("pr: Too small: expected number to be >0");
        const extra = await call("POST", "/previews", JSON.stringify({ pr: 1, branch: "a", shell: "rm -rf /" }));
        expect(extra.status).toBe(422);
        // The library's own validation (InputError) also maps to 422.
        expect((await call("POST", "/previews", JSON.stringify({ pr: 1, branch: "Bad Branch" }))).status).toBe(422);
        expect(library.calls).toHaveLength(0);
    });

    it("refuses changes by non-owners and to production; reads stay open", async () => {
        library.add("pr-3", "preview", "alice");
        library.add("production", "production", "alice");
        expect((await call("DELETE", "/environments/pr-3", undefined, BOB)).status).toBe(403);
        expect((await call("POST", "/previews", JSON.stringify({ pr: 3, branch: "a" }), BOB)).status).toBe(403);
        expect((await call("POST", "/environments/pr-3/exec", JSON.stringify({ pod: "app-1", argv: ["id"] }), BOB)).status).toBe(403);
        expect((await call("GET", "/environments/pr-3/kubeconfig", undefined, BOB)).status).toBe(403);
        expect((await call("DELETE", "/environments/production")).status).toBe(403);
        expect((await call("GET", "/environments/production/logs?deployment=app")).status).toBe(403);
        expect((await call("GET", "/environments/pr-3", undefined, BOB)).status).toBe(200);
        expect((await call("DELETE", "/environments/pr-404")).status).toBe(404);
        expect(library.calls).toHaveLength(0);
    });

    it("logs and exec for owners, bounded and with an argv", async () => {
        library.add("pr-3", "preview", "alice");
        const logs = await call("GET", "/environments/pr-3/logs?pod=app-1&lines=5");
        expect(await logs.json()).toEqual({ environment: "pr-3", text: "hello\n", truncated: false });
        const exec = await call("POST", "/environments/pr-3/exec", JSON.stringify({ pod: "app-1", argv: ["echo", "a b"] }));
        expect(await exec.json()).toMatchObject({ exitCode: 0, stdout: "echo a b" });
        expect(cluster.asked).toContainEqual(["exec", "env-pr-3", "app-1", ["echo", "a b"], { container: undefined, timeoutMs: 30_000, maxBytes: 65_536 }]);
        expect((await call("POST", "/environments/pr-3/exec", JSON.stringify({ pod: "app-1", argv: "rm -rf /" }))).status).toBe(422);
        expect((await call("GET", "/environments/pr-3/logs?pod=app-1&lines=99999")).status).toBe(422);
    });

    it("follows logs as a text stream until the caller hangs up; follow must be true or false", async () => {
        library.add("pr-3", "preview", "alice");
        const abort = new AbortController();
        const res = await fetch(`${base}/environments/pr-3/logs?deployment=app&follow=true`, { headers: { authorization: `Bearer ${ALICE}` }, signal: abort.signal });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
        const first = await res.body!.getReader().read();
        expect(Buffer.from(first.value!).toString()).toBe("hello\n");
        abort.abort();
        expect(cluster.asked).toContainEqual(["follow", "env-pr-3", { pod: undefined, deployment: "app", container: undefined }, { follow: true, lines: 200, maxBytes: 65_536 }]);
        const bad = await call("GET", "/environments/pr-3/logs?pod=app-1&follow=yes");
        expect(bad.status).toBe(422);
        expect(await bad.json()).toEqual({ error: { code: "invalid", message: 'follow: must be true or false, got "yes"' } });
        expect((await call("GET", "/environments/pr-3/logs?pod=app-1&follow=true", undefined, BOB)).status).toBe(403);
    });

    it("streams progress as server-sent events while the operation runs", async () => {
        let release!: () => void;
        library.gate = new Promise((r) => (release = r));
        const created = await call("POST", "/previews", JSON.stringify({ pr: 10, branch: "a" }));
        const { operation } = (await created.json()) as { operation: { id: string } };
        const stream = await call("GET", `/operations/${operation.id}/events`);
        expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
        const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
        const first = new TextDecoder().decode((await reader.read()).value);
        expect(first).toContain("event: step");
        release();
        let rest = "";
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
        expect(rest).toMatch(/event: resource[\s\S]*event: done[\s\S]*event: end/);
    });

    it("lists an environment's operations and resources for any caller; the limit is checked; 404 for no stack", async () => {
        library.add("pr-3", "preview", "alice");
        const operations = await call("GET", "/environments/pr-3/operations?limit=5", undefined, BOB);
        expect(operations.status).toBe(200);
        expect(await operations.json()).toMatchObject({ environment: "pr-3", operations: [{ kind: "update", result: "succeeded", durationMs: 12_000, changes: { create: 3 } }] });
        expect(library.calls).toEqual([{ op: "operations", args: { name: "pr-3", limit: 5 } }]);
        await call("GET", "/environments/pr-3/operations");
        expect(library.calls[1]).toEqual({ op: "operations", args: { name: "pr-3", limit: 10 } });
        for (const bad of ["0", "101", "1.5", "abc", ""]) {
            const refused = await call("GET", `/environments/pr-3/operations?limit=${bad}`);
            expect([refused.status, await refused.json()]).toEqual([422, { error: { code: "invalid", message: "limit: must be a whole number from 1 to 100" } }]);
        }
        expect((await call("GET", "/environments/pr-404/operations")).status).toBe(404);
        expect((await call("GET", "/environments/Bad_Name/operations")).status).toBe(422);
        const resources = await call("GET", "/environments/pr-3/resources", undefined, BOB);
        expect(await resources.json()).toEqual({ environment: "pr-3", resources: [{ type: "kubernetes:core/v1:Namespace", name: "ns", urn: "urn:pulumi:pr-3::catalyst::kubernetes:core/v1:Namespace::ns", custom: true }] });
        expect((await call("GET", "/environments/pr-404/resources")).status).toBe(404);
        expect((await call("GET", "/environments/pr-3/resources", undefined, null)).status).toBe(401);
        expect((await call("POST", "/environments/pr-3/resources")).status).toBe(405);
    });

    it("never logs tokens", async () => {
        await call("GET", "/environments");
        await call("GET", "/environments", undefined, "some-wrong-token-value");
        expect(logged.join("\n")).not.toContain(ALICE);
        expect(logged.join("\n")).not.toContain("some-wrong-token-value");
        expect(logged.some((l) => l.includes("GET /environments 200 alice"))).toBe(true);
    });
});
