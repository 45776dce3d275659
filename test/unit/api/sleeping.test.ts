import { AddressInfo } from "net";
import { Server, createServer, request } from "http";
import { TokenTable } from "../../../stacks/api/auth";
import { createHandler } from "../../../stacks/api/http";
import { CatalystService } from "../../../stacks/api/service";
import { escapeHtml } from "../../../stacks/oidc/pages";
import { sleepingPages } from "../../../stacks/api/sleeping";
import { signWakeToken } from "../../../stacks/automation/wake-link";
import { FakeLibrary, fakeCluster } from "./fakes";

/*
 * The sleeping page and wake links over HTTP (a real server, the fake library). On the local
 * cluster no ingress controller runs, so this is where the page itself is tested; the routing to
 * it is checked on the Ingress objects in test/integration/environment.test.ts.
 */

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef00";
const key = Buffer.from("wake-key-".repeat(4));
const since = "2026-12-07T04:00:00.000Z";

interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

describe("sleeping page and wake (HTTP API)", () => {
    let server: Server;
    let port: number;
    let library: FakeLibrary;
    let now: Date;

    beforeEach(async () => {
        library = new FakeLibrary();
        library.add("pr-7", "preview", "alice");
        library.stacks.set("pr-7", { ...library.stacks.get("pr-7")!, pr: 7, url: "https://pr-7.preview.example.com" });
        now = new Date("2026-12-07T12:00:00.000Z");
        const service = new CatalystService(library, undefined, fakeCluster());
        const sleeping = sleepingPages({ environment: (s) => library.getEnvironment(s), wakeByLink: (s) => service.wakeByLink(s), key, apiUrl: "https://catalyst.example.com", cacheMs: 0, now: () => now });
        server = createServer(createHandler({ service, tokens: new TokenTable({ [ALICE]: "alice", [BOB]: "bob" }), log: () => undefined, sleeping }));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        port = (server.address() as AddressInfo).port;
    });
    afterEach(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    });

    const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) => new Promise<Answer>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        });
        req.on("error", reject);
        req.end(body);
    });
    const asleep = () => library.stacks.set("pr-7", { ...library.stacks.get("pr-7")!, sleepingSince: since, sleepReason: "idle" });
    const settled = async () => {
        for (let i = 0; i < 50 && library.calls.length > 0 && (await library.getEnvironment("pr-7"))?.sleepingSince !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
    };

    it("lets owners put their preview to sleep and wake it, and nobody else", async () => {
        expect((await call("POST", "/previews/pr-7/sleep", { authorization: `Bearer ${BOB}` })).status).toBe(403);
        expect((await call("POST", "/previews/pr-7/sleep")).status).toBe(401);
        expect((await call("POST", "/previews/production/sleep", { authorization: `Bearer ${ALICE}` })).status).toBe(403);
        expect(library.calls).toEqual([]);
        const slept = await call("POST", "/previews/pr-7/sleep", { authorization: `Bearer ${ALICE}` });
        expect(slept.status).toBe(202);
        expect(JSON.parse(slept.body).operation).toMatchObject({ stack: "pr-7", action: "sleep", user: "alice" });
        await new Promise((r) => setTimeout(r, 20));
        expect((await library.getEnvironment("pr-7"))?.sleepingSince).toBeDefined();
        expect((await call("POST", "/previews/pr-7/wake", { authorization: `Bearer ${ALICE}` })).status).toBe(202);
        await settled();
        expect(library.calls.map((c) => [c.op, c.args, c.call?.lockTimeoutMs])).toEqual([["sleep", { pr: 7, project: undefined }, 0], ["wake", { pr: 7, project: undefined }, 0]]);
    });

    it("answers a sleeping preview's host with the page, without a token, and says since when", async () => {
        asleep();
        for (const headers of [{ host: "pr-7.preview.example.com" }, { host: "catalyst.example.com", "x-namespace": "env-pr-7", "x-code": "503" }] as Record<string, string>[]) {
            const page = await call("GET", "/some/page?x=1", headers);
            expect(page.status).toBe(503);
            expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
            expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
            expect(page.body).toContain("<h1>pr-7 is asleep</h1>");
            expect(page.body).toContain(`asleep since <time datetime="${since}">${since}</time> (idle)`);
            expect(page.body).toContain("catalyst preview wake --pr 7");
            expect(page.body).not.toContain("<script");
        }
        // POSTs to the app reach the page too, and wake nothing.
        expect((await call("POST", "/login", { host: "pr-7.preview.example.com" }, "user=x")).status).toBe(503);
        expect(library.calls).toEqual([]);
    });

    it("says 'starting' for an awake preview, 404 for an unknown one, and leaves the API's own host to its routes", async () => {
        expect((await call("GET", "/", { host: "pr-7.preview.example.com" })).body).toContain("pr-7 is starting");
        expect((await call("GET", "/", { host: "pr-9.preview.example.com" })).status).toBe(404);
        expect((await call("GET", "/environments", { host: "catalyst.example.com" })).status).toBe(401);
        expect((await call("GET", "/environments", { host: "app.example.com", authorization: `Bearer ${ALICE}` })).status).toBe(200);
    });

    it("shows a signed wake link's button on GET, wakes only on its POST", async () => {
        asleep();
        const token = signWakeToken(key, "pr-7", new Date(now.getTime() + 3_600_000));
        const form = await call("GET", `/sleeping/wake?token=${encodeURIComponent(token)}`);
        expect(form.status).toBe(200);
        expect(form.body).toContain('<form method="post" action="https://catalyst.example.com/sleeping/wake">');
        expect(form.body).toContain(`name="token" value="${token}"`);
        expect(library.calls).toEqual([]);
        const woke = await call("POST", "/sleeping/wake", { "content-type": "application/x-www-form-urlencoded" }, `token=${encodeURIComponent(token)}`);
        expect(woke.status).toBe(202);
        expect(woke.body).toContain("Waking pr-7");
        await settled();
        expect(library.calls.map((c) => [c.op, c.call?.reason])).toEqual([["wake", "wake-link"]]);
        // Awake now: the same link wakes nothing more.
        expect((await call("POST", "/sleeping/wake", {}, `token=${encodeURIComponent(token)}`)).body).toContain("pr-7 is awake");
        expect(library.calls).toHaveLength(1);
    });

    it("refuses unsigned, expired and forged links and wakes nothing", async () => {
        asleep();
        const expired = signWakeToken(key, "pr-7", new Date(now.getTime() - 1000));
        const forged = signWakeToken(Buffer.from("not-the-key-".repeat(3)), "pr-7", new Date(now.getTime() + 3_600_000));
        const other = signWakeToken(key, "pr-8", new Date(now.getTime() + 3_600_000)).split(".");
        const cases: [string, number, string][] = [
            ["", 400, "not complete"],
            ["token=", 400, "not complete"],
            [`token=${expired}`, 410, "has expired"],
            [`token=${forged}`, 403, "not valid"],
            [`token=pr-7.${other[1]}.${other[2]}`, 403, "not valid"],
        ];
        for (const [body, status, text] of cases) {
            const answer = await call("POST", "/sleeping/wake", {}, body);
            expect([body, answer.status, answer.body.includes(text)]).toEqual([body, status, true]);
            expect((await call("GET", `/sleeping/wake?${body}`)).status).toBe(status);
        }
        expect((await call("PUT", "/sleeping/wake")).status).toBe(405);
        expect(library.calls).toEqual([]);
    });

    it("turns wake links off without a key, and escapes what it shows", async () => {
        const service = new CatalystService(library, undefined, fakeCluster());
        const off = sleepingPages({ environment: (s) => library.getEnvironment(s), wakeByLink: (s) => service.wakeByLink(s) });
        const res = { writeHead: jest.fn(), end: jest.fn() };
        await off({ method: "GET", headers: { host: "catalyst.example.com" } } as never, res as never, new URL("http://x/sleeping/wake?token=a"));
        expect(res.writeHead.mock.calls[0][0]).toBe(404);
        expect(escapeHtml(`<a href="x" onclick='y'>&`)).toBe("&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;");
    });
});
