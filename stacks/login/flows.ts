import { spawn } from "child_process";
import { createServer } from "http";
import * as client from "openid-client";
import { LOOPBACK_REDIRECT_PATH, SCOPES } from "../oidc/settings";
import { CachedTokens } from "./cache";
import { CookieSession, fetchWithCa } from "./http";

/**
 * The sign-in flows of `catalyst login` and the silent refresh of `catalyst kube-credential`,
 * through openid-client (panva, OpenID Certified relying party): discovery, authorization code
 * with PKCE (S256) on a loopback redirect, the device authorization grant, refresh, revocation.
 * openid-client is an ES module that Node >= 22 loads with require(); the integration tests run
 * these flows through the real CLI.
 */

/** Where to sign in. */
export interface IssuerTarget {
    issuer: string;
    clientId: string;
    /** A CA (PEM) to trust for the issuer instead of the system store. */
    ca?: Buffer;
}

/** Refused by the provider: a wrong password, a refused refresh. The message is one line. */
export class SignInRefused extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SignInRefused";
    }
}

const SCOPE = SCOPES.join(" ");

export async function discover(target: IssuerTarget): Promise<client.Configuration> {
    return client.discovery(new URL(target.issuer), target.clientId, { token_endpoint_auth_method: "none" }, client.None(), {
        [client.customFetch]: fetchWithCa(target.ca),
    } as client.DiscoveryRequestOptions);
}

function cached(target: IssuerTarget, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers, previousRefresh?: string): CachedTokens {
    const claims = tokens.claims();
    if (tokens.id_token === undefined || claims === undefined) throw new Error("the provider returned no ID token");
    return {
        issuer: target.issuer,
        clientId: target.clientId,
        idToken: tokens.id_token,
        expiresAt: Number(claims.exp) * 1000,
        refreshToken: tokens.refresh_token ?? previousRefresh,
        user: String(claims.preferred_username ?? claims.sub),
    };
}

interface AuthorizationRequest {
    url: URL;
    redirectUri: string;
    verifier: string;
    state: string;
}

async function authorizationRequest(config: client.Configuration, redirectUri: string): Promise<AuthorizationRequest> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: SCOPE,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
    });
    return { url, redirectUri, verifier, state };
}

async function exchange(target: IssuerTarget, config: client.Configuration, request: AuthorizationRequest, callback: URL): Promise<CachedTokens> {
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: request.verifier, expectedState: request.state }, { redirect_uri: request.redirectUri });
    return cached(target, tokens);
}

/**
 * Password sign-in against the users file: the authorization code flow with PKCE, the sign-in
 * form filled in as a browser would, the code taken from the redirect (nothing needs to listen
 * on the loopback address for it). Throws {@link SignInRefused} on a wrong password.
 */
export async function passwordSignIn(target: IssuerTarget, user: string, password: string): Promise<CachedTokens> {
    const config = await discover(target);
    // Port 9 (discard): the redirect is read from the Location header, never followed.
    const request = await authorizationRequest(config, `http://127.0.0.1:9${LOOPBACK_REDIRECT_PATH}`);
    const session = new CookieSession(target.ca);
    let url = request.url;
    let reply = await session.request(url);
    let posted = false;
    for (let hop = 0; hop < 10; hop++) {
        const location = reply.headers.location;
        if (reply.status >= 300 && reply.status < 400 && location) {
            url = new URL(location, url);
            if (url.href.startsWith(request.redirectUri)) {
                const error = url.searchParams.get("error");
                if (error) throw new SignInRefused(`the provider refused the sign-in: ${error}${url.searchParams.get("error_description") ? ` (${url.searchParams.get("error_description")})` : ""}`);
                return exchange(target, config, request, url);
            }
            reply = await session.request(url);
        } else if (reply.status === 200 && !posted && /\/interaction\/[^/]+$/.test(url.pathname)) {
            posted = true;
            url = new URL(`${url.pathname}/login`, url);
            reply = await session.request(url, "POST", new URLSearchParams({ user, password }));
        } else if (reply.status === 401) {
            throw new SignInRefused(`wrong user name or password for ${user}`);
        } else {
            throw new Error(`unexpected answer from the provider at ${url.pathname} (HTTP ${reply.status})`);
        }
    }
    throw new Error("the provider redirected more than 10 times");
}

function openBrowser(url: string): void {
    const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
    try {
        const child = spawn(command, [url], { stdio: "ignore", detached: true });
        child.on("error", () => undefined);
        child.unref();
    } catch {
        // No browser here: the URL is printed as well.
    }
}

/** Browser sign-in: PKCE, a one-shot loopback server for the redirect, the URL also printed. */
export async function browserSignIn(target: IssuerTarget, say: (line: string) => void, timeoutMs = 5 * 60_000): Promise<CachedTokens> {
    const config = await discover(target);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    try {
        const port = (server.address() as { port: number }).port;
        const request = await authorizationRequest(config, `http://127.0.0.1:${port}${LOOPBACK_REDIRECT_PATH}`);
        const callback = new Promise<URL>((resolve, reject) => {
            const timer = setTimeout(() => reject(new SignInRefused(`no sign-in within ${timeoutMs / 60_000} minutes`)), timeoutMs);
            server.on("request", (req, res) => {
                const url = new URL(req.url ?? "/", request.redirectUri);
                if (url.pathname !== LOOPBACK_REDIRECT_PATH) {
                    res.writeHead(404).end();
                    return;
                }
                res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("Signed in; you can close this window and return to the terminal.\n");
                clearTimeout(timer);
                resolve(url);
            });
        });
        say(`Opening a browser to sign in; if none opens, visit:\n  ${request.url.href}`);
        openBrowser(request.url.href);
        return await exchange(target, config, request, await callback);
    } finally {
        server.close();
    }
}

/** The device authorization grant: prints where to go and the code, then waits. */
export async function deviceSignIn(target: IssuerTarget, say: (line: string) => void): Promise<CachedTokens> {
    const config = await discover(target);
    const device = await client.initiateDeviceAuthorization(config, { scope: SCOPE });
    say(`To sign in, visit ${device.verification_uri} and enter the code ${device.user_code}` +
        `${device.verification_uri_complete ? `\n  (or open ${device.verification_uri_complete})` : ""}`);
    return cached(target, await client.pollDeviceAuthorizationGrant(config, device));
}

/** True for the provider refusing a grant (a revoked, expired or reused refresh token). */
function isGrantRefusal(err: unknown): boolean {
    return err instanceof client.ResponseBodyError && (err.error === "invalid_grant" || err.error === "unauthorized_client");
}

/** A silent refresh; {@link SignInRefused} when the sign-in has ended. */
export async function refresh(target: IssuerTarget, refreshToken: string): Promise<CachedTokens> {
    const config = await discover(target);
    try {
        return cached(target, await client.refreshTokenGrant(config, refreshToken), refreshToken);
    } catch (err) {
        if (isGrantRefusal(err)) throw new SignInRefused(`the sign-in has ended (${(err as client.ResponseBodyError).error})`);
        throw err;
    }
}

/** Revokes a refresh token (sign-out). */
export async function revoke(target: IssuerTarget, refreshToken: string): Promise<void> {
    await client.tokenRevocation(await discover(target), refreshToken, { token_type_hint: "refresh_token" });
}
