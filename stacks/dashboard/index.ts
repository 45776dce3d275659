import type { IncomingMessage, ServerResponse } from "http";
import type { Bundle } from "./build";
import { securityHeaders } from "./headers";
import { SignInLimiter } from "./limiter";
import { CSRF_HEADER, Session, SessionStore } from "./session";
import { SingleSignOn } from "./sso";
import { SSO_CALLBACK_PATH, SSO_ERROR_PARAM, SSO_START_PATH } from "./web/sso-contract";

/**
 * The web dashboard's routes in `catalyst serve` (docs/dashboard.md): the page at `/` (and
 * `/sign-in`), its two bundled assets, `/session` (sign in with an API token, who am I, sign
 * out) and, when configured, single sign-on (`/auth/sso`, `/auth/callback`). Everything else the
 * page shows comes from the public HTTP API, which accepts the session cookie in place of a
 * bearer token through {@link Dashboard.sessionUser} (with the CSRF header on every
 * state-changing request). A session holds only while what it came from does: its API token is
 * still in the table, or the hosted provider still knows its person. This module does not
 * import the API: `catalyst serve` (stacks/serve) wires the two together.
 */

export { cookieSecret, isLoopback, SessionStore, CSRF_HEADER } from "./session";
export { CONTENT_SECURITY_POLICY, securityHeaders } from "./headers";
export { FileRevocations, MemoryRevocations, revocationsFromEnv } from "./revocations";
export type { Revocations } from "./revocations";
export { SignInLimiter } from "./limiter";
export { SingleSignOn, SSO_CALLBACK_PATH, SSO_START_PATH } from "./sso";
export { hostedClientSecret, ssoSettings } from "./sso-settings";
export type { HostedIssuer, SsoSettings } from "./sso-settings";

/** Largest sign-in body. */
const MAX_SIGN_IN_BYTES = 4096;

/** The API's token table, as far as sessions need it (constant-time lookups, every entry looked at). */
export interface TokenDirectory {
    /** The user of an API token, or undefined. */
    lookup(token: string): string | undefined;
    /** A keyed digest of a token: what a session keeps of it. */
    keyedDigest(key: Buffer, token: string): Buffer;
    /** The user of the token whose keyed digest is `keyed`, or undefined once it left the table. */
    lookupKeyed(key: Buffer, keyed: Buffer): string | undefined;
}

/** Options of the dashboard. */
export interface DashboardOptions {
    tokens: TokenDirectory;
    sessions: SessionStore;
    /** Whether responses are served over TLS or beyond loopback (HSTS, Secure cookies). */
    secure: boolean;
    bundle: Bundle;
    /** Single sign-on, when configured. */
    sso?: SingleSignOn;
    /** Failed token sign-ins per address (default: 10 per 5 minutes). */
    limiter?: SignInLimiter;
    /** Where refused single sign-ons are logged; default stderr. */
    log?: (line: string) => void;
}

/** What authenticating a request by its session gives: the user, no session, or a refusal (403). */
export type SessionResult = string | undefined | { refused: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Refuses a cross-site state-changing request: Origin, when sent, must be this host, and
 * Sec-Fetch-Site, when sent, same-origin. (SameSite=Strict and the CSRF token are the other two
 * layers.)
 */
export function crossSiteReason(req: IncomingMessage): string | undefined {
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") return `cross-site request (Sec-Fetch-Site: ${String(site)})`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== "null") {
        let host: string;
        try {
            host = new URL(origin).host;
        } catch {
            return "malformed Origin header";
        }
        if (host !== req.headers.host) return `cross-origin request from ${origin}`;
    } else if (origin === "null") {
        return "opaque Origin";
    }
    return undefined;
}

/** The dashboard: `handle` answers its own routes, `sessionUser` authenticates API requests. */
export class Dashboard {
    private readonly limiter: SignInLimiter;
    /** The one HTML page: fixed by the bundle's hash and whether single sign-on is offered. */
    private readonly html: string;
    private readonly log: (line: string) => void;

    constructor(private readonly options: DashboardOptions) {
        this.html = this.page();
        this.limiter = options.limiter ?? new SignInLimiter();
        this.log = options.log ?? ((line) => void process.stderr.write(`${line}\n`));
    }

    /** The issuer of single sign-on, when it is offered (for the server's start line). */
    get singleSignOn(): string | undefined {
        return this.options.sso?.issuer;
    }

    /**
     * The request's session while it holds: signed, not expired, not signed out, and its
     * credential still valid (the token's keyed digest still maps to the session's user in the
     * table; the single sign-on still configured and its person still known to a hosted provider).
     */
    private current(req: IncomingMessage): Session | undefined {
        const { sessions, tokens, sso } = this.options;
        const session = sessions.read(req);
        if (session === undefined) return undefined;
        if (session.via === "token" && session.cred !== undefined) {
            return tokens.lookupKeyed(sessions.tokenKey, Buffer.from(session.cred, "base64url")) === session.user ? session : undefined;
        }
        if (session.via === "sso" && session.sub !== undefined && sso !== undefined) return sso.knows(session.sub) ? session : undefined;
        return undefined;
    }

    /**
     * The user of a request's session for the API routes: undefined without a valid session;
     * a refusal when a state-changing request lacks the session's CSRF token or comes cross-site.
     */
    sessionUser(req: IncomingMessage): SessionResult {
        const session = this.current(req);
        if (session === undefined) return undefined;
        const refused = this.refusal(req, session);
        return refused === undefined ? session.user : { refused };
    }

    /** Why a state-changing request of `session` is refused (cross-site, or no CSRF token), or undefined. */
    private refusal(req: IncomingMessage, session: Session): string | undefined {
        if (SAFE_METHODS.has(req.method ?? "GET")) return undefined;
        return crossSiteReason(req) ?? (this.options.sessions.csrfMatches(session, req.headers[CSRF_HEADER]) ? undefined : `missing or wrong CSRF token (${CSRF_HEADER} header)`);
    }

    /** Answers the request when it is one of the dashboard's routes; returns false otherwise. */
    handle(req: IncomingMessage, res: ServerResponse): boolean {
        const url = new URL(req.url ?? "/", "http://localhost");
        const path = url.pathname;
        if (path === "/" || path === "/sign-in") {
            if (!this.only(req, res, ["GET", "HEAD"])) return true;
            if (path === "/" && this.current(req) === undefined) {
                this.send(res, 303, "", "text/plain; charset=utf-8", { location: "/sign-in" });
            } else {
                this.send(res, 200, this.html, "text/html; charset=utf-8");
            }
            return true;
        }
        if (path.startsWith("/assets/")) {
            if (!this.only(req, res, ["GET", "HEAD"])) return true;
            const { bundle } = this.options;
            if (path === "/assets/app.js") this.send(res, 200, bundle.js, "text/javascript; charset=utf-8");
            else if (path === "/assets/app.css") this.send(res, 200, bundle.css, "text/css; charset=utf-8");
            else this.error(res, 404, "not-found", `no asset ${path}`);
            return true;
        }
        if (path === SSO_START_PATH || path === SSO_CALLBACK_PATH) {
            if (!this.only(req, res, ["GET"])) return true;
            void (path === SSO_START_PATH ? this.ssoStart(res) : this.ssoCallback(req, res)).catch(() => this.error(res, 500, "internal", "internal error"));
            return true;
        }
        if (path === "/session") {
            if (!this.only(req, res, ["GET", "POST", "DELETE"])) return true;
            void this.session(req, res).catch(() => this.error(res, 500, "internal", "internal error"));
            return true;
        }
        return false;
    }

    private async session(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const { sessions } = this.options;
        if (req.method === "POST") return this.signIn(req, res);
        const session = this.current(req);
        if (session === undefined) return this.error(res, 401, "unauthorized", "not signed in");
        if (req.method === "GET") return this.json(res, 200, view(session));
        // DELETE: sign out; a state change, so the CSRF rules hold.
        const refused = this.refusal(req, session);
        if (refused !== undefined) return this.error(res, 403, "forbidden", refused);
        try {
            await sessions.revoke(session);
        } catch (err) {
            // Not recorded where other replicas and restarts look (a full or unreachable store): say so, keep the cookie.
            this.log(`catalyst serve: dashboard: sign-out not recorded: ${(err as Error).message.split("\n")[0]}`);
            return this.error(res, 503, "unavailable", "the sign-out could not be recorded; try again");
        }
        this.send(res, 204, "", "text/plain; charset=utf-8", { "set-cookie": sessions.clearCookie() });
    }

    /**
     * Sign-in: `{"token": "<API token>"}` as JSON only (a cross-site HTML form cannot send
     * that without a CORS preflight this server never grants), same-origin only.
     */
    private async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const reason = crossSiteReason(req);
        if (reason !== undefined) return this.error(res, 403, "forbidden", reason);
        // The peer address: a proxy in front makes every client one address (docs/dashboard.md, "Limits").
        const address = req.socket.remoteAddress ?? "unknown";
        const wait = await this.limiter.blockedFor(address);
        if (wait !== undefined) return this.error(res, 429, "too-many-requests", `too many failed sign-ins from this address; try again in ${wait} s`, { "retry-after": String(wait) });
        if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return this.error(res, 415, "unsupported-media-type", "sign in with a JSON body {\"token\": \"...\"}");
        let body: unknown;
        try {
            body = JSON.parse(await readBody(req));
        } catch (err) {
            return (err as Error).message === "too-large" ? this.error(res, 413, "too-large", `body over ${MAX_SIGN_IN_BYTES} bytes`) : this.error(res, 400, "malformed", "body is not valid JSON");
        }
        const token = (body as { token?: unknown } | null)?.token;
        if (typeof token !== "string" || token.trim() === "") return this.error(res, 422, "invalid", "token: required");
        const { tokens, sessions } = this.options;
        const user = tokens.lookup(token.trim());
        if (user === undefined) {
            await this.limiter.failed(address);
            return this.error(res, 401, "unauthorized", "token: not a valid API token");
        }
        const { session, cookie } = sessions.create(user, { via: "token", cred: tokens.keyedDigest(sessions.tokenKey, token.trim()).toString("base64url") });
        this.json(res, 200, view(session), { "set-cookie": cookie });
    }

    /** `GET /auth/sso`: to the issuer, with the flow cookie. */
    private async ssoStart(res: ServerResponse): Promise<void> {
        const { sso } = this.options;
        if (sso === undefined) return this.toSignIn(res, "unavailable");
        let started: { location: string; cookie: string };
        try {
            started = await sso.start();
        } catch (err) {
            this.log(`catalyst serve: dashboard: single sign-on could not start: ${(err as Error).message.split("\n")[0]}`);
            return this.toSignIn(res, "failed");
        }
        this.send(res, 303, "", "text/plain; charset=utf-8", { location: started.location, "set-cookie": started.cookie });
    }

    /** `GET /auth/callback`: the issuer's answer; a session and the list, or the sign-in page with why not. */
    private async ssoCallback(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const { sso, sessions } = this.options;
        if (sso === undefined) return this.toSignIn(res, "unavailable");
        const result = await sso.finish(req);
        if ("error" in result) {
            this.log(`catalyst serve: dashboard: single sign-on refused (${result.error})${result.detail ? `: ${result.detail}` : ""}`);
            return this.toSignIn(res, result.error, sso.clearCookie());
        }
        const { cookie } = sessions.create(result.user, { via: "sso", sub: result.sub });
        this.send(res, 303, "", "text/plain; charset=utf-8", { location: "/", "set-cookie": [sso.clearCookie(), cookie] });
    }

    private toSignIn(res: ServerResponse, code: string, clear?: string): void {
        this.send(res, 303, "", "text/plain; charset=utf-8", { location: `/sign-in?${SSO_ERROR_PARAM}=${encodeURIComponent(code)}`, ...(clear ? { "set-cookie": clear } : {}) });
    }

    private page(): string {
        const v = this.options.bundle.hash;
        return [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
            // No favicon request: the icon is empty, inline as data (img-src allows data:).
            '<title>Catalyst Environments</title><link rel="icon" href="data:,">',
            `<link rel="stylesheet" href="/assets/app.css?v=${v}"><script type="module" src="/assets/app.js?v=${v}"></script>`,
            // The page learns here, without a request, whether to offer single sign-on.
            `</head><body><div id="app" data-sso="${this.options.sso !== undefined}"><noscript>The dashboard needs JavaScript; the HTTP API (docs/api.md) does not.</noscript></div></body></html>`,
        ].join("\n");
    }

    private only(req: IncomingMessage, res: ServerResponse, methods: string[]): boolean {
        if (methods.includes(req.method ?? "GET")) return true;
        this.error(res, 405, "method-not-allowed", `${req.method} not allowed here`, { allow: methods.join(", ") });
        return false;
    }

    private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
        this.send(res, status, `${JSON.stringify(body)}\n`, "application/json; charset=utf-8", headers);
    }

    private error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string | string[]> = {}): void {
        this.json(res, status, { error: { code, message } }, headers);
    }

    private send(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string | string[]> = {}): void {
        if (res.headersSent) return void res.end();
        res.writeHead(status, { ...securityHeaders(this.options.secure), "content-type": type, "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store", ...headers });
        res.end(res.req?.method === "HEAD" ? undefined : body);
    }
}

/** What the page learns of its session: the user, the CSRF token, the expiry. */
function view(session: Session): { user: string; csrf: string; expiresAt: string } {
    return { user: session.user, csrf: session.csrf, expiresAt: new Date(session.exp * 1000).toISOString() };
}

async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_SIGN_IN_BYTES) throw new Error("too-large");
        chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
}
