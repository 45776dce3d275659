import { ALICE, Running, session as newSession, signIn as postSignIn, start as startWith } from "./fixture";

/*
 * The dashboard's routes and the API's session authentication, composed as `catalyst serve`
 * composes them (stacks/serve), over the fake library: status codes, cookie flags,
 * security headers, CSRF, sign-out.
 */

const start = (secure = false, now?: () => number): Promise<Running> => startWith({ secure, now });

describe("dashboard routes", () => {
    let s: Running;
    beforeEach(async () => {
        s = await start();
    });
    afterEach(() => s.close());

    const go = (path: string, init: RequestInit = {}) => fetch(`${s.base}${path}`, { redirect: "manual", ...init });
    const signIn = (token = ALICE, headers: Record<string, string> = {}) => postSignIn(s.base, token, headers);
    const session = () => newSession(s.base);

    it("every dashboard answer carries the CSP (no inline script), nosniff and frame-ancestors 'none'", async () => {
        for (const path of ["/", "/sign-in", "/assets/app.js", "/session"]) {
            const res = await go(path);
            const csp = res.headers.get("content-security-policy") ?? "";
            const script = csp.split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src"));
            expect(script).toBe("script-src 'self'");
            expect(csp).not.toContain("unsafe-inline");
            expect(csp).not.toContain("unsafe-eval");
            expect(csp).toContain("frame-ancestors 'none'");
            expect(csp).toContain("default-src 'none'");
            expect(res.headers.get("x-content-type-options")).toBe("nosniff");
            expect(res.headers.get("x-frame-options")).toBe("DENY");
        }
    });

    it("without a session: / redirects to sign-in, /session and data routes answer 401", async () => {
        const page = await go("/");
        expect(page.status).toBe(303);
        expect(page.headers.get("location")).toBe("/sign-in");
        const signin = await go("/sign-in");
        expect(signin.status).toBe(200);
        const html = await signin.text();
        // Scripts only by URL: no inline <script> body the CSP would have to allow.
        expect(html).toMatch(/<script type="module" src="\/assets\/app\.js\?v=abc123"><\/script>/);
        expect(html.match(/<script[^>]*>[^<]+<\/script>/)).toBeNull();
        expect((await go("/session")).status).toBe(401);
        for (const path of ["/environments", "/environments/pr-1", "/events"]) expect((await go(path)).status).toBe(401);
        expect((await go("/previews", { method: "POST", body: "{}" })).status).toBe(401);
    });

    it("assets are served with their types; an unknown asset is 404; POST / is 405", async () => {
        const js = await go("/assets/app.js");
        expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
        expect(await js.text()).toBe("console.log('app')");
        expect((await go("/assets/app.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
        expect((await go("/assets/other.js")).status).toBe(404);
        const post = await go("/", { method: "POST" });
        expect(post.status).toBe(405);
        expect(post.headers.get("allow")).toBe("GET, HEAD");
    });

    it("sign-in: a bad token is 401 with no cookie; a form post is 415; a cross-site post is 403", async () => {
        const bad = await signIn("not-the-token-0123456789");
        expect(bad.status).toBe(401);
        expect(bad.headers.get("set-cookie")).toBeNull();
        expect(((await bad.json()) as { error: { message: string } }).error.message).toBe("token: not a valid API token");
        expect((await go("/session", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${ALICE}` })).status).toBe(415);
        expect((await signIn(ALICE, { origin: "https://evil.example" })).status).toBe(403);
        expect((await signIn(ALICE, { "sec-fetch-site": "cross-site" })).status).toBe(403);
        expect((await go("/session", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(422);
    });

    it("sign-in sets a signed HttpOnly SameSite=Strict cookie with an expiry (no Secure on loopback)", async () => {
        const res = await signIn();
        expect(res.status).toBe(200);
        const cookie = res.headers.get("set-cookie") ?? "";
        expect(cookie).toMatch(/^catalyst-session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; /);
        expect(cookie).toContain("; HttpOnly");
        expect(cookie).toContain("; SameSite=Strict");
        expect(cookie).toContain("; Path=/");
        expect(cookie).toContain("; Max-Age=28800");
        expect(cookie).toMatch(/; Expires=\w{3}, /);
        expect(cookie).not.toContain("Secure");
        const body = (await res.json()) as { user: string; csrf: string; expiresAt: string };
        expect(body.user).toBe("alice");
        expect(body.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it("a session reads the API and the page; a tampered or expired cookie does not", async () => {
        const { cookie } = await session();
        expect((await go("/environments", { headers: { cookie } })).status).toBe(200);
        expect((await go("/", { headers: { cookie } })).status).toBe(200);
        expect(((await (await go("/session", { headers: { cookie } })).json()) as { user: string }).user).toBe("alice");
        const [name, value] = cookie.split("=");
        const tampered = `${name}=${Buffer.from(JSON.stringify({ user: "bob", exp: 9e9, sid: "x", csrf: "y" })).toString("base64url")}.${value.split(".")[1]}`;
        expect((await go("/environments", { headers: { cookie: tampered } })).status).toBe(401);
        // A bearer header wins over the cookie: a bad bearer is 401 even with a good session.
        expect((await go("/environments", { headers: { cookie, authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
    });

    it("state-changing API calls of a session need its CSRF token and the same origin; nothing is created otherwise", async () => {
        const { cookie, csrf } = await session();
        const body = JSON.stringify({ pr: 5, branch: "feat/x" });
        const post = (headers: Record<string, string>) => go("/previews", { method: "POST", headers: { cookie, "content-type": "application/json", ...headers }, body });
        const missing = await post({});
        expect(missing.status).toBe(403);
        expect(((await missing.json()) as { error: { message: string } }).error.message).toBe("missing or wrong CSRF token (x-csrf-token header)");
        expect((await post({ "x-csrf-token": "x".repeat(43) })).status).toBe(403);
        expect((await post({ "x-csrf-token": csrf, origin: "https://evil.example" })).status).toBe(403);
        expect(s.library.calls).toHaveLength(0);
        const ok = await post({ "x-csrf-token": csrf, origin: s.base, "sec-fetch-site": "same-origin" });
        expect(ok.status).toBe(202);
        expect(s.library.calls[0]).toMatchObject({ op: "up", args: { pr: 5, owners: ["alice"] } });
    });

    it("GET /events streams the activity of operations (no log lines) to a session", async () => {
        const { cookie, csrf } = await session();
        const abort = new AbortController();
        const events = await go("/events", { headers: { cookie }, signal: abort.signal });
        expect(events.status).toBe(200);
        expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
        const reader = (events.body as ReadableStream<Uint8Array>).getReader();
        await go("/previews", { method: "POST", headers: { cookie, "x-csrf-token": csrf }, body: JSON.stringify({ pr: 6, branch: "feat/y" }) });
        let text = "";
        while (!text.includes('"state":"succeeded"')) text += new TextDecoder().decode((await reader.read()).value);
        abort.abort();
        expect(text).toContain("event: activity");
        expect(text).toMatch(/"stack":"pr-6","operation":"[0-9a-f-]{36}","action":"create","state":"running"/);
        expect(text).toContain('"done":1,"total":1');
        expect(text).not.toContain("message");
    });

    it("sign-out needs the CSRF token, clears the cookie and ends the session for good", async () => {
        const { cookie, csrf } = await session();
        expect((await go("/session", { method: "DELETE", headers: { cookie } })).status).toBe(403);
        const out = await go("/session", { method: "DELETE", headers: { cookie, "x-csrf-token": csrf } });
        expect(out.status).toBe(204);
        expect(out.headers.get("set-cookie")).toMatch(/^catalyst-session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
        // The old cookie, replayed, is dead.
        expect((await go("/session", { headers: { cookie } })).status).toBe(401);
        expect((await go("/environments", { headers: { cookie } })).status).toBe(401);
        expect((await go("/", { headers: { cookie } })).status).toBe(303);
    });
});

describe("dashboard sessions outside loopback and over time", () => {
    it("a Secure __Host- cookie and HSTS when not on loopback", async () => {
        const s = await start(true);
        try {
            const res = await fetch(`${s.base}/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: ALICE }) });
            const cookie = res.headers.get("set-cookie") ?? "";
            expect(cookie).toMatch(/^__Host-catalyst-session=/);
            expect(cookie).toContain("; Secure");
            expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000");
        } finally {
            await s.close();
        }
    });

    it("a session ends at its expiry", async () => {
        let now = 1_000_000;
        const s = await start(false, () => now);
        try {
            const res = await fetch(`${s.base}/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: ALICE }) });
            const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
            now += 8 * 3600 - 1;
            expect((await fetch(`${s.base}/environments`, { headers: { cookie } })).status).toBe(200);
            now += 1;
            expect((await fetch(`${s.base}/environments`, { headers: { cookie } })).status).toBe(401);
        } finally {
            await s.close();
        }
    });
});
