import { AddressInfo } from "net";
import { Server, createServer } from "http";
import { TokenTable } from "../../../stacks/api/auth";
import { createHandler } from "../../../stacks/api/http";
import { CatalystService } from "../../../stacks/api/service";
import { FakeLibrary, fakeCluster } from "./fakes";

/*
 * Issue 12, defect 3.2: an operation's status and events replay the engine's log lines, so only
 * the operation's creator and the environment's owners may read them (logs are owner-only).
 */

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef00";
const CAROL = "carol-token-0123456789abcdef";

describe("operation logs are owner-only (issue 12, 3.2)", () => {
    let server: Server;
    let base: string;
    let library: FakeLibrary;

    beforeEach(async () => {
        library = new FakeLibrary();
        const service = new CatalystService(library, undefined, fakeCluster());
        server = createServer(createHandler({ service, tokens: new TokenTable({ [ALICE]: "alice", [BOB]: "bob", [CAROL]: "carol" }), log: () => undefined }));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    });

    const call = (method: string, path: string, token: string, body?: string) => fetch(`${base}${path}`, { method, body, headers: { authorization: `Bearer ${token}` } });

    it("GET /operations/:id and /events answer 403 to a caller who neither started the operation nor owns the environment", async () => {
        let release!: () => void;
        library.gate = new Promise((r) => (release = r));
        const created = await call("POST", "/previews", ALICE, JSON.stringify({ pr: 7, branch: "feat/x", owners: ["carol"] }));
        const { operation } = (await created.json()) as { operation: { id: string } };
        try {
            const bobView = await call("GET", `/operations/${operation.id}`, BOB);
            expect(bobView.status).toBe(403);
            expect(await bobView.json()).toEqual({ error: { code: "forbidden", message: `bob may not read operation ${operation.id} (only its creator and the owners of pr-7)` } });
            const bobEvents = await call("GET", `/operations/${operation.id}/events`, BOB);
            expect(bobEvents.status).toBe(403);
            expect((await call("GET", `/operations/${operation.id}`, ALICE)).status).toBe(200);
            expect((await call("GET", `/operations/${operation.id}`, CAROL)).status).toBe(200);
        } finally {
            release();
        }
        const events = await (await call("GET", `/operations/${operation.id}/events`, CAROL)).text();
        expect(events).toMatch(/event: done[\s\S]*event: end/);
    });
});
