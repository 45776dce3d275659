import { ChildProcess, spawn } from "child_process";
import { createHash, randomInt, X509Certificate } from "crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { BrowserContext, chromium, Page } from "playwright-core";
import { namespaceName } from "../../components/naming";
import { Automation } from "../../stacks/automation/operations";
import { LogBuffer } from "../../stacks/dashboard/web/view";
import { send } from "../../stacks/oidc/fetch";
import { LocalIssuer, readLocalIssuer } from "../../stacks/oidc/settings";
import { hashPassword } from "../../stacks/oidc/users";
import { PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";
import { appendProbeLines, createLogProbe } from "./log-probe";
import { Serve, startServe as startOidcServe } from "./oidc-helpers";

/*
 * The web dashboard in a real browser (Debian's chromium through playwright-core) against a
 * real `catalyst serve` process over the real engine and the local cluster: sign in, the list,
 * a bad form value, a preview created from the form with live progress, its page with pods and
 * a streamed log line, its conditions, pod ages, the stack's operations and resources, the log
 * view following, pausing and counting dropped lines on a pod whose log the test writes, the TTL extended from the
 * page, a non-owner without the destroy button and with a 403, sign-out, and the destroy. One preview, minimal (no database or Redis), on the shared platform. It takes the
 * screenshots that the README shows (docs/dashboard-*.png with CATALYST_REFRESH_SCREENSHOTS=1).
 * Then, against `catalyst serve --local-oidc` (HTTPS, the local CA's certificate, which the
 * browser trusts by its public key and nothing else): single sign-on as a users-file person,
 * sessions that end with their token or person, a sign-out that outlives a restart, and the
 * sign-in rate limit.
 */
jest.setTimeout(25 * 60_000);

const run = randomInt(100, 999);
const PR = 991000 + run;
const STACK = `pr-${PR}`;
const workRoot = path.join(repoRoot, ".catalyst", `test-work-dashboard-${run}`);
const auditLog = path.join(repoRoot, ".catalyst", "test-results", `dashboard-audit-${run}.log`);
const minimal = { "catalyst:database": { mode: "none" }, "catalyst:redis": { enabled: false } };
const ALICE = `alice-${run}-dashboard-0123456789`;
const BOB = `bob-${run}-dashboard-0123456789ab`;
// Chromium on a machine without network: without these it waits on refused connections.
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const library = new Automation({ repoRoot, workRoot, auditLog, platformStack: PLATFORM_STACK });
let platformWasUp = false;
let server: ChildProcess | undefined;
let base = "";
let context: BrowserContext | undefined;
let profile = "";
let issuer: LocalIssuer;

/** The base64 SHA-256 of a certificate's public key, as chromium's --ignore-certificate-errors-spki-list takes it. */
function spkiHash(certFile: string): string {
    const der = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: "spki", format: "der" });
    return createHash("sha256").update(der).digest("base64");
}

/** Starts `catalyst serve --port 0` and resolves with its URL from the "listening on" line. */
function startServe(): Promise<string> {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin", "catalyst.js"), "serve", "--port", "0"], {
        cwd: repoRoot,
        env: {
            ...process.env,
            CATALYST_API_TOKENS: JSON.stringify({ [ALICE]: "alice", [BOB]: "bob" }),
            CATALYST_API_PREVIEW_CONFIG: JSON.stringify(minimal),
            CATALYST_WORK_ROOT: workRoot,
            CATALYST_AUDIT_LOG: auditLog,
            CATALYST_PLATFORM_STACK: PLATFORM_STACK,
            COOKIE_SECRET: `dashboard-test-secret-${run}-0123456789abcdef`,
        },
        stdio: ["ignore", "ignore", "pipe"],
    });
    server = child;
    return new Promise((resolve, reject) => {
        let err = "";
        child.stderr?.on("data", (chunk: Buffer) => {
            err += chunk.toString();
            const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(err);
            if (m) resolve(m[1]);
        });
        child.once("exit", (code) => reject(new Error(`catalyst serve exited ${code}: ${err.slice(-2000)}`)));
    });
}

beforeAll(async () => {
    requireTestEnvironment();
    platformWasUp = ((await library.platformStatus())?.resourceCount ?? 0) > 0;
    const result = await library.upPlatform();
    if (result.status !== "succeeded") throw new Error(`platform up: ${result.status}: ${result.error ?? ""}`);
    base = await startServe();
    const local = readLocalIssuer();
    if (local === undefined) throw new Error("the local cluster has no issuer (.catalyst/cluster/oidc.json): tools/cluster.sh up writes it");
    issuer = local;
    profile = mkdtempSync(path.join(tmpdir(), "catalyst-chromium-"));
    // The local issuer's certificate is trusted by its key alone (no certificate checks turned off).
    const args = [...CHROMIUM_FLAGS, `--ignore-certificate-errors-spki-list=${spkiHash(issuer.certFile)}`];
    context = await chromium.launchPersistentContext(profile, { executablePath: "/usr/bin/chromium", headless: true, args, viewport: { width: 1280, height: 900 }, timezoneId: "Europe/Berlin" });
});

afterAll(async () => {
    await context?.close();
    if (profile !== "") rmSync(profile, { recursive: true, force: true });
    // The preview goes whatever happened in the test.
    if ((await library.getEnvironment(STACK)) !== undefined) await library.destroyPreview({ pr: PR }).result;
    server?.kill("SIGTERM");
    if (!platformWasUp && process.env.CATALYST_KEEP_PLATFORM === undefined) {
        expect((await library.destroyPlatform()).status).toBe("succeeded");
    }
});

async function signIn(page: Page, token: string, user: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/sign-in`);
    await page.getByLabel("API token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("user").filter({ hasText: user }).waitFor();
}

async function signOut(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/sign-in`);
}

/**
 * Screenshots at 1280 and 390 px wide (dashboard-<name>-<width>.png). Every run takes them, into
 * the test results; with CATALYST_REFRESH_SCREENSHOTS=1 into docs/ for the README, so that an
 * ordinary `npm test` (random PR numbers, times) leaves the checkout clean.
 */
async function screenshots(page: Page, name: string): Promise<void> {
    const folder = process.env.CATALYST_REFRESH_SCREENSHOTS === "1" ? path.join(repoRoot, "docs") : path.join(repoRoot, ".catalyst", "test-results", "screenshots");
    mkdirSync(folder, { recursive: true });
    for (const width of [390, 1280]) {
        await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        const file = path.join(folder, `dashboard-${name}-${width}.png`);
        await page.screenshot({ path: file, fullPage: width === 1280 });
        expect(statSync(file).size).toBeGreaterThan(10_000);
    }
}

/** The session cookie the browser holds, as a Cookie header. */
async function sessionCookie(): Promise<string> {
    const cookie = (await (context as BrowserContext).cookies(base)).find((c) => c.name === "catalyst-session");
    if (cookie === undefined) throw new Error("no session cookie");
    return `${cookie.name}=${cookie.value}`;
}

/** Forces a request outside the page with a session's cookie and its CSRF token; returns the status. */
async function forced(cookie: string, method: string, url: string): Promise<number> {
    const { csrf } = (await (await fetch(`${base}/session`, { headers: { cookie } })).json()) as { csrf: string };
    return (await fetch(`${base}${url}`, { method, headers: { cookie, "x-csrf-token": csrf } })).status;
}

it("signs in, lists, creates with live progress, shows pods and logs, refuses a non-owner, signs out, destroys", async () => {
    const page = await (context as BrowserContext).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // Refused requests (401 before sign-in, the forced 403) are logged by the browser; anything else is a bug.
    page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text()); });

    // A bad token: the error, no session.
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/sign-in`);
    await page.getByLabel("API token").fill("not-a-token-not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "not a valid API token" }).waitFor();
    errors.length = 0; // the 401 of the refused sign-in is logged by the browser

    await signIn(page, ALICE, "alice");
    const table = page.getByTestId("environments");
    await table.locator("tr[data-stack='platform']").waitFor();

    // A bad value: the API's message next to the field, nothing created.
    await page.getByLabel("Pull request number").fill(String(PR));
    await page.getByLabel("Branch").fill("bad branch");
    await page.getByRole("button", { name: "Create preview" }).click();
    await page.getByTestId("error-branch").filter({ hasText: "must be a git branch name" }).waitFor();
    expect(await page.getByTestId("progress").count()).toBe(0);
    expect(await library.getEnvironment(STACK)).toBeUndefined();
    errors.length = 0; // the 422

    // Create: progress runs to success and the list shows the preview, without a reload.
    await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
    await page.getByLabel("Branch").fill("feat/dashboard");
    await page.getByRole("button", { name: "Create preview" }).click();
    const progress = page.getByTestId("progress");
    await progress.waitFor();
    await table.locator(`tr[data-stack='${STACK}']`).waitFor();
    await progress.and(page.locator("[data-state='succeeded']")).waitFor({ timeout: 15 * 60_000 });
    await table.locator(`tr[data-stack='${STACK}'] [data-testid='status']`).filter({ hasText: "ready" }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // The row carries the branch and the preview's URL as a link (from the stack's tags, as the API lists it).
    const row = table.locator(`tr[data-stack='${STACK}']`);
    await row.locator("td[data-label='PR and branch']").filter({ hasText: `#${PR} feat/dashboard` }).waitFor();
    const listed = ((await (await fetch(`${base}/environments`, { headers: { cookie: await sessionCookie() } })).json()) as { environments: { stack: string; url?: string }[] }).environments.find((e) => e.stack === STACK);
    expect(listed?.url).toMatch(/^https?:\/\/pr-\d+\./);
    expect(await row.locator("td[data-label='URL'] a").getAttribute("href")).toBe(listed?.url);
    await screenshots(page, "list");

    // A pod whose log the test writes (log-probe.ts), in the preview's namespace, before its page opens.
    const probe = `log-probe-${run}`;
    createLogProbe(namespaceName(STACK), probe);

    // Its page: pods and a streamed log line (kwok's simulated pods log a fixed text).
    await page.setViewportSize({ width: 1280, height: 900 });
    await table.getByRole("link", { name: STACK, exact: true }).click();
    await page.getByRole("heading", { name: STACK, level: 1 }).waitFor();
    expect(await page.getByTestId("pods").locator("tbody th").count()).toBeGreaterThan(0);
    await page.getByTestId("log").filter({ hasText: "simulated node" }).waitFor();
    await page.getByRole("button", { name: `Destroy ${STACK}…` }).waitFor();
    // Conditions: the create succeeded, every pod (the probe too) is ready, none is marked as not ready.
    const conditions = page.getByTestId("conditions");
    const deployed = conditions.locator("tr[data-type='Deployed']");
    await deployed.waitFor();
    expect([await deployed.getAttribute("data-status"), await deployed.getByTestId("reason").innerText()]).toEqual(["True", "UpdateSucceeded"]);
    const podCount = await page.getByTestId("pods").locator("tbody th").count();
    expect(await conditions.locator("tr[data-type='PodsReady'] [data-testid='message']").innerText()).toBe(`${podCount} of ${podCount} pods ready`);
    expect(await conditions.locator("tr[data-healthy='false']").count()).toBe(0);
    // Pods have an age (from their start time); the history shows the create with its result and
    // changes; the resources are listed by type, a group opens to its names.
    expect(await page.getByTestId("pod-age").first().innerText()).toMatch(/^\d+(s|m \d+s)$/);
    const history = page.getByTestId("history");
    const created = history.locator("tbody tr[data-kind='update'][data-result='succeeded']");
    await created.first().waitFor();
    expect(await created.count()).toBe(1);
    expect(await created.locator("[data-testid='changes']").innerText()).toMatch(/^\d+ created$/);
    const resources = page.getByTestId("resources");
    const namespaces = resources.locator("details[data-type='kubernetes:core/v1:Namespace']");
    await namespaces.waitFor();
    await namespaces.locator("summary").click();
    await namespaces.locator("li").first().waitFor({ state: "visible" });
    expect(await resources.locator("details").count()).toBeGreaterThan(3);
    await screenshots(page, "environment");
    await page.setViewportSize({ width: 1280, height: 900 });

    // The log view on the probe: a new line arrives; paused, new lines wait (counted, not shown)
    // until Resume; one append past the buffer's cap shows how many older lines were dropped.
    const log = page.getByTestId("log");
    const logState = page.getByTestId("log-state");
    await page.getByLabel("Pod", { exact: true }).selectOption(probe);
    await logState.filter({ hasText: "following" }).waitFor();
    appendProbeLines([`p${run} first`]);
    await log.filter({ hasText: `p${run} first` }).waitFor();
    await page.getByRole("button", { name: "Pause", exact: true }).click();
    appendProbeLines([1, 2, 3].map((i) => `p${run} paused ${i}`));
    await logState.filter({ hasText: "paused, 3 new lines waiting" }).waitFor();
    expect(await log.innerText()).not.toContain(`p${run} paused`);
    await page.getByRole("button", { name: "Resume", exact: true }).click();
    await log.filter({ hasText: `p${run} paused 3` }).waitFor();
    expect(await page.getByTestId("dropped").count()).toBe(0);
    const { maxLines } = new LogBuffer();
    const over = 25;
    const burst = Array.from({ length: maxLines - (await log.innerText()).split("\n").length + over }, (_, i) => `p${run} b${i}`);
    appendProbeLines(burst);
    await log.filter({ hasText: burst[burst.length - 1] }).waitFor();
    expect(await page.getByTestId("dropped").innerText()).toBe(`${over} older lines dropped (the view keeps the last ${maxLines})`);

    // Extend the TTL from the page: the update runs with progress, then the page shows the new
    // expiry (240 h from now instead of the default 72 h), the history a second update, and the
    // actions are offered again.
    await page.getByLabel("Extend: time to live from now").fill("240h");
    await page.getByRole("button", { name: "Extend" }).click();
    await page.getByTestId("progress").and(page.locator("[data-state='succeeded']")).waitFor({ timeout: 10 * 60_000 });
    await page.getByTestId("expires").filter({ hasText: /\(in (9d 23h|10d 0h)\)/ }).waitFor();
    await history.locator("tbody tr[data-kind='update']").nth(1).waitFor();
    expect(await page.getByRole("button", { name: `Destroy ${STACK}…` }).isEnabled()).toBe(true);

    // Sign-out ends the session: the page is gone, and the old cookie, replayed, gets 401.
    const aliceCookie = await sessionCookie();
    expect((await fetch(`${base}/environments`, { headers: { cookie: aliceCookie } })).status).toBe(200);
    await signOut(page);
    expect((await fetch(`${base}/environments`, { headers: { cookie: aliceCookie } })).status).toBe(401);
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/sign-in`);
    errors.length = 0;

    // Bob does not own the preview: no destroy button, and 403 when he forces the request.
    await signIn(page, BOB, "bob");
    await page.goto(`${base}/#/environments/${STACK}`);
    await page.getByRole("heading", { name: STACK, level: 1 }).waitFor();
    await page.getByText(`Only the owners of ${STACK} may change it.`).waitFor();
    expect(await page.getByRole("button", { name: /Destroy/ }).count()).toBe(0);
    expect(await forced(await sessionCookie(), "DELETE", `/environments/${STACK}`)).toBe(403);
    expect(await library.getEnvironment(STACK)).toBeDefined();
    await signOut(page);
    errors.length = 0;

    // Alice destroys it, confirming by name; it leaves the list.
    await signIn(page, ALICE, "alice");
    await page.goto(`${base}/#/environments/${STACK}`);
    await page.getByRole("button", { name: `Destroy ${STACK}…` }).click();
    await page.getByRole("dialog", { name: `Destroy ${STACK}?` }).waitFor();
    await page.getByRole("button", { name: `Destroy ${STACK}`, exact: true }).click();
    await page.getByTestId("progress").waitFor();
    await page.getByRole("heading", { name: "Environments", level: 1 }).waitFor({ timeout: 15 * 60_000 });
    await table.locator("tr[data-stack='platform']").waitFor();
    await table.locator(`tr[data-stack='${STACK}']`).waitFor({ state: "detached" });
    expect(await library.getEnvironment(STACK)).toBeUndefined();
    expect(errors).toEqual([]);
});

it("signs in through single sign-on; sessions end with their token or person; a sign-out outlives a restart; bad tokens get 429", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "catalyst-dashboard-sso-"));
    const usersFile = path.join(dir, "users.json");
    const carol = `carol-${run}`;
    const password = `pw-${run}-correct-horse`;
    writeFileSync(usersFile, JSON.stringify({ users: [{ name: carol, passwordHash: await hashPassword(password, 8), groups: [] }] }), { mode: 0o600 });
    const serveEnv = (tokens: Record<string, string>): NodeJS.ProcessEnv => ({
        CATALYST_API_TOKENS: JSON.stringify(tokens),
        CATALYST_API_PREVIEW_CONFIG: JSON.stringify(minimal),
        CATALYST_WORK_ROOT: workRoot,
        CATALYST_AUDIT_LOG: auditLog,
        CATALYST_PLATFORM_STACK: PLATFORM_STACK,
        CATALYST_OIDC_USERS_FILE: usersFile,
        CATALYST_OIDC_KEYS_FILE: path.join(dir, "keys.json"),
        CATALYST_DASHBOARD_SIGNED_OUT_FILE: path.join(dir, "signed-out.jsonl"),
        COOKIE_SECRET: `dashboard-sso-secret-${run}-0123456789abcdef`,
    });
    const origin = new URL(issuer.issuer).origin;
    const ca = readFileSync(issuer.caFile);
    const request = async (method: string, route: string, headers: Record<string, string> = {}, body?: string) => send(new URL(route, origin), { method, headers, body, ca });
    const status = async (cookie: string) => (await request("GET", "/session", { cookie })).status;
    const tokenSession = async (token: string) => {
        const reply = await request("POST", "/session", { "content-type": "application/json" }, JSON.stringify({ token }));
        expect(reply.status).toBe(200);
        return { cookie: String(reply.headers["set-cookie"]?.[0]).split(";")[0], csrf: (JSON.parse(reply.body) as { csrf: string }).csrf };
    };
    let serve: Serve | undefined = await startOidcServe(serveEnv({ [ALICE]: "alice", [BOB]: "bob" }));
    const page = await (context as BrowserContext).newPage();
    try {
        // Single sign-on: the provider's own page, then the list as that person.
        expect(serve.log()).toContain(`dashboard single sign-on with ${issuer.issuer}`);
        // A refused sign-in at the provider lands on the dashboard's sign-in page with the reason.
        await page.goto(`${origin}/auth/callback?error=access_denied&state=x`);
        await page.getByTestId("sso-error").filter({ hasText: "cancelled or refused" }).waitFor();
        await page.goto(`${origin}/sign-in`);
        await page.getByRole("link", { name: "Sign in with single sign-on" }).click();
        await page.waitForURL(new RegExp(`^${origin}/oidc/interaction/`));
        await page.getByLabel("User").fill(carol);
        await page.getByLabel("Password").fill(password);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByTestId("user").filter({ hasText: carol }).waitFor();
        await page.getByTestId("environments").locator("tr[data-stack='platform']").waitFor();
        expect(page.url()).toBe(`${origin}/`);
        const sso = (await (context as BrowserContext).cookies(origin)).find((c) => c.name === "__Host-catalyst-session");
        expect(sso).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });
        const carolCookie = `${sso?.name}=${sso?.value}`;

        // Token sessions; Bob signs out.
        const alice = await tokenSession(ALICE);
        const bob = await tokenSession(BOB);
        expect((await request("DELETE", "/session", { cookie: bob.cookie, "x-csrf-token": bob.csrf })).status).toBe(204);
        expect(await status(bob.cookie)).toBe(401);

        // Restart with a table without Alice's token, the same COOKIE_SECRET and sign-out file.
        await serve.stop();
        serve = await startOidcServe(serveEnv({ [BOB]: "bob" }));
        expect(await status(alice.cookie)).toBe(401);
        expect(await status(bob.cookie)).toBe(401);
        expect(await status((await tokenSession(BOB)).cookie)).toBe(200);
        // Carol's session outlives the restart, and ends when she leaves the users file.
        expect(await status(carolCookie)).toBe(200);
        writeFileSync(usersFile, JSON.stringify({ users: [] }), { mode: 0o600 });
        expect(await status(carolCookie)).toBe(401);
        expect((await request("GET", "/environments", { cookie: carolCookie })).status).toBe(401);

        // Repeated bad tokens in the page: the eleventh is refused with 429 and the API's message.
        await page.goto(`${origin}/sign-in`);
        const responses: number[] = [];
        page.on("response", (r) => { if (r.url() === `${origin}/session` && r.request().method() === "POST") responses.push(r.status()); });
        for (let i = 0; i < 11; i++) {
            await page.getByLabel("API token").fill(`not-a-token-${i}-0123456789`);
            await page.getByRole("button", { name: "Sign in" }).click();
            await page.getByRole("alert").filter({ hasText: i < 10 ? "not a valid API token" : "too many failed sign-ins" }).waitFor();
        }
        expect(responses).toEqual([...Array(10).fill(401), 429]);
        const limited = await request("POST", "/session", { "content-type": "application/json" }, JSON.stringify({ token: BOB }));
        expect(limited.status).toBe(429);
        expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    } finally {
        await page.close();
        await serve?.stop();
        rmSync(dir, { recursive: true, force: true });
    }
});
