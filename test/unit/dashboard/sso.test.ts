import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as client from "openid-client";
import { SingleSignOn, SsoSettings, ssoSettings } from "../../../stacks/dashboard";
import { SSO_ERRORS, ssoErrorMessage } from "../../../stacks/dashboard/web/sso-contract";
import { SECRET, start } from "./fixture";

/*
 * Single sign-on on the dashboard: its settings (messages name the variable), the start (PKCE,
 * state, nonce in a signed HttpOnly flow cookie), and every way a callback is refused before a
 * code is exchanged, each landing on the sign-in page with its code. The full flow against the
 * real provider is in test/integration/dashboard.test.ts.
 */

const ISSUER = "https://issuer.example/oidc";
const settings: SsoSettings = { issuer: ISSUER, clientId: "dash", clientSecret: "secret-secret", redirectUri: "http://127.0.0.1:1/auth/callback" };
const configuration = new client.Configuration(
    { issuer: ISSUER, authorization_endpoint: `${ISSUER}/auth`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks` },
    "dash", { client_secret: "secret-secret" }, client.ClientSecretBasic("secret-secret"),
);

describe("single sign-on settings", () => {
    const HOSTED = { issuer: "https://127.0.0.1:1/oidc", clientId: "catalyst-dashboard", clientSecret: "x", redirectUri: "https://127.0.0.1:1/auth/callback", knows: () => true };
    const external = { CATALYST_DASHBOARD_OIDC_ISSUER: "https://login.example.com/realms/x", CATALYST_DASHBOARD_OIDC_CLIENT_ID: "catalyst", CATALYST_DASHBOARD_OIDC_CLIENT_SECRET: "s3cret", CATALYST_DASHBOARD_URL: "https://catalyst.example.com" };

    it("is off without an issuer; on with the hosted provider", () => {
        expect(ssoSettings({}, "/auth/callback")).toBeUndefined();
        expect(ssoSettings({}, "/auth/callback", HOSTED)).toMatchObject({ issuer: HOSTED.issuer, clientId: "catalyst-dashboard", redirectUri: HOSTED.redirectUri, ca: undefined });
    });

    it("takes another issuer from the CATALYST_DASHBOARD_* variables, over the hosted one", () => {
        expect(ssoSettings(external, "/auth/callback", HOSTED)).toEqual({
            issuer: "https://login.example.com/realms/x", clientId: "catalyst", clientSecret: "s3cret", redirectUri: "https://catalyst.example.com/auth/callback", ca: undefined,
        });
    });

    it("names the variable that is wrong or missing", () => {
        const without = (name: string) => Object.fromEntries(Object.entries(external).filter(([k]) => k !== name));
        expect(() => ssoSettings(without("CATALYST_DASHBOARD_OIDC_CLIENT_SECRET"), "/cb")).toThrow("CATALYST_DASHBOARD_OIDC_CLIENT_SECRET: required with CATALYST_DASHBOARD_OIDC_ISSUER");
        expect(() => ssoSettings(without("CATALYST_DASHBOARD_URL"), "/cb")).toThrow("CATALYST_DASHBOARD_URL: required with CATALYST_DASHBOARD_OIDC_ISSUER");
        expect(() => ssoSettings(without("CATALYST_DASHBOARD_OIDC_ISSUER"), "/cb")).toThrow("CATALYST_DASHBOARD_OIDC_ISSUER: required with CATALYST_DASHBOARD_OIDC_CLIENT_ID");
        expect(() => ssoSettings({ ...external, CATALYST_DASHBOARD_OIDC_ISSUER: "http://login.example.com" }, "/cb")).toThrow('CATALYST_DASHBOARD_OIDC_ISSUER: must be an https URL, got "http://login.example.com"');
        expect(() => ssoSettings({ ...external, CATALYST_DASHBOARD_OIDC_ISSUER: "nope" }, "/cb")).toThrow('CATALYST_DASHBOARD_OIDC_ISSUER: must be an https URL, got "nope"');
        expect(() => ssoSettings({ ...external, CATALYST_DASHBOARD_URL: "https://catalyst.example.com/app" }, "/cb")).toThrow("CATALYST_DASHBOARD_URL: the dashboard's origin only");
        expect(() => ssoSettings({ ...external, CATALYST_DASHBOARD_OIDC_CA_FILE: "/no/such/ca.pem" }, "/cb")).toThrow("CATALYST_DASHBOARD_OIDC_CA_FILE: cannot read /no/such/ca.pem (ENOENT)");
        expect(() => ssoSettings({ CATALYST_DASHBOARD_OIDC_CA_FILE: "/x.pem" }, "/cb")).toThrow("CATALYST_DASHBOARD_OIDC_CA_FILE: single sign-on is off");
    });

    it("reads the CA to trust for the issuer", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "sso-ca-"));
        try {
            writeFileSync(path.join(dir, "ca.pem"), "PEM");
            expect(ssoSettings({ ...external, CATALYST_DASHBOARD_OIDC_CA_FILE: path.join(dir, "ca.pem") }, "/cb")?.ca?.toString()).toBe("PEM");
            expect(ssoSettings({}, "/cb", { ...HOSTED, caFile: path.join(dir, "ca.pem") })?.ca?.toString()).toBe("PEM");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("single sign-on routes", () => {
    let now = 1_000_000;
    let known = true;
    const sso = () => new SingleSignOn({ ...settings, knows: () => known }, { secret: SECRET, secure: false, now: () => now, configuration });

    it("without single sign-on: the page does not offer it and /auth/sso says so on the sign-in page", async () => {
        const s = await start();
        try {
            expect(await (await fetch(`${s.base}/sign-in`)).text()).toContain('<div id="app" data-sso="false">');
            const res = await fetch(`${s.base}/auth/sso`, { redirect: "manual" });
            expect(res.status).toBe(303);
            expect(res.headers.get("location")).toBe("/sign-in?sso-error=unavailable");
        } finally {
            await s.close();
        }
    });

    it("start: to the issuer with PKCE (S256), state and nonce, which a signed HttpOnly SameSite=Lax cookie keeps", async () => {
        const s = await start({ sso: sso() });
        try {
            expect(await (await fetch(`${s.base}/sign-in`)).text()).toContain('<div id="app" data-sso="true">');
            const res = await fetch(`${s.base}/auth/sso`, { redirect: "manual" });
            expect(res.status).toBe(303);
            const to = new URL(res.headers.get("location") ?? "");
            expect(`${to.origin}${to.pathname}`).toBe(`${ISSUER}/auth`);
            expect(Object.fromEntries(to.searchParams)).toMatchObject({
                client_id: "dash", response_type: "code", redirect_uri: settings.redirectUri, scope: "openid profile email groups", code_challenge_method: "S256",
                code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
            });
            const cookie = res.headers.get("set-cookie") ?? "";
            expect(cookie).toMatch(/^catalyst-sso=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; /);
            expect((await fetch(`${s.base}/auth/sso`, { method: "POST" })).status).toBe(405);
        } finally {
            await s.close();
        }
    });

    it("callback: refused, missing, tampered, expired or foreign answers land on the sign-in page with their code, and clear the flow cookie", async () => {
        const s = await start({ sso: sso() });
        try {
            const started = await fetch(`${s.base}/auth/sso`, { redirect: "manual" });
            const flow = (started.headers.get("set-cookie") ?? "").split(";")[0];
            const state = new URL(started.headers.get("location") ?? "").searchParams.get("state");
            const callback = async (query: string, cookie?: string) => {
                const res = await fetch(`${s.base}/auth/callback?${query}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
                expect(res.status).toBe(303);
                expect(res.headers.get("set-cookie") ?? "").toMatch(/^catalyst-sso=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
                return res.headers.get("location");
            };
            expect(await callback("error=access_denied&error_description=no%20thanks", flow)).toBe("/sign-in?sso-error=denied");
            expect(await callback("error=server_error", flow)).toBe("/sign-in?sso-error=failed");
            expect(await callback(`code=abc&state=${state}`)).toBe("/sign-in?sso-error=missing");
            const [name, value] = flow.split("=");
            expect(await callback(`code=abc&state=${state}`, `${name}=${value.split(".")[0]}x.${value.split(".")[1]}`)).toBe("/sign-in?sso-error=missing");
            expect(await callback("code=abc&state=someone-elses-state", flow)).toBe("/sign-in?sso-error=state");
            expect(await callback("code=abc", flow)).toBe("/sign-in?sso-error=state");
            now += 600;
            expect(await callback(`code=abc&state=${state}`, flow)).toBe("/sign-in?sso-error=expired");
            expect(s.logged).toEqual(expect.arrayContaining(["catalyst serve: dashboard: single sign-on refused (denied): access_denied: no thanks", "catalyst serve: dashboard: single sign-on refused (state)"]));
        } finally {
            await s.close();
        }
    });

    it("a single sign-on session holds while the hosted provider knows the person", async () => {
        const s = await start({ sso: sso() });
        try {
            const cookie = s.sessions.create("carol", { via: "sso", sub: "local:carol" }).cookie.split(";")[0];
            known = true;
            expect(((await (await fetch(`${s.base}/session`, { headers: { cookie } })).json()) as { user: string }).user).toBe("carol");
            known = false;
            expect((await fetch(`${s.base}/session`, { headers: { cookie } })).status).toBe(401);
            expect((await fetch(`${s.base}/environments`, { headers: { cookie } })).status).toBe(401);
        } finally {
            await s.close();
        }
        // And ends when the server no longer offers single sign-on.
        const without = await start();
        try {
            const cookie = without.sessions.create("carol", { via: "sso", sub: "local:carol" }).cookie.split(";")[0];
            expect((await fetch(`${without.base}/session`, { headers: { cookie } })).status).toBe(401);
        } finally {
            await without.close();
        }
    });

    it("the page knows every code's message and ignores unknown ones", () => {
        expect(ssoErrorMessage("denied")).toBe(SSO_ERRORS.denied);
        expect(ssoErrorMessage("toString")).toBeUndefined();
        expect(ssoErrorMessage("<b>hi</b>")).toBeUndefined();
        expect(ssoErrorMessage(null)).toBeUndefined();
    });
});
