import { createHmac } from "crypto";
import type { IncomingMessage } from "http";
import * as client from "openid-client";
import { fetchWithCa } from "../oidc/fetch";
import { SCOPES } from "../oidc/settings";
import { equal, parseCookies } from "./session";
import type { SsoSettings } from "./sso-settings";
import { SsoError } from "./web/sso-contract";

/**
 * The dashboard's single sign-on, an OpenID Connect relying party through openid-client (panva,
 * OpenID Certified; already the relying party of `catalyst login`): the authorization code flow
 * with PKCE (S256), state and nonce. openid-client does discovery, the code exchange and every
 * check of the ID token (signature against the issuer's JWKS, issuer, audience, nonce, expiry).
 *
 * The flow's transient state (state, nonce, PKCE verifier, expiry) is kept in a short-lived
 * signed HttpOnly cookie, not in server memory, so any replica can finish a sign-in another one
 * started. SameSite=Lax, not Strict: the provider's redirect back is a top-level navigation that
 * may come from another site, and must carry it.
 */

export { SSO_CALLBACK_PATH, SSO_START_PATH } from "./web/sso-contract";

/** How long a started sign-in may take. */
export const FLOW_SECONDS = 600;

/** The flow cookie's content. */
interface Flow {
    state: string;
    nonce: string;
    verifier: string;
    /** Expiry, seconds since the epoch. */
    exp: number;
}

/** A finished callback: the person, or why not (an {@link SsoError} code and a detail for the log). */
export type SsoResult = { user: string; sub: string } | { error: SsoError; detail?: string };

/** User names a session may carry (the shape of the users file's and GitHub's names). */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Starts and finishes single sign-ons. */
export class SingleSignOn {
    /** `__Host-` (Secure, path /, no domain) outside loopback, as the session cookie. */
    readonly cookieName: string;
    private readonly key: Buffer;
    private readonly now: () => number;
    private readonly secure: boolean;
    private config: Promise<client.Configuration> | undefined;

    /**
     * `options.configuration`: the issuer's metadata without discovery (tests); `now`: the clock
     * of the flow cookie, seconds since the epoch (tests).
     */
    constructor(private readonly settings: SsoSettings, options: { secret: string; secure: boolean; now?: () => number; configuration?: client.Configuration }) {
        this.cookieName = options.secure ? "__Host-catalyst-sso" : "catalyst-sso";
        this.key = createHmac("sha256", options.secret).update("catalyst-dashboard sso flow").digest();
        this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
        this.secure = options.secure;
        if (options.configuration !== undefined) this.config = Promise.resolve(options.configuration);
    }

    /** The issuer's URL. */
    get issuer(): string {
        return this.settings.issuer;
    }

    /** True unless the issuer is the provider this server hosts and it no longer knows `sub`. */
    knows(sub: string): boolean {
        return this.settings.knows?.(sub) ?? true;
    }

    /**
     * The issuer's configuration, discovered on first use (not at start: a provider hosted by the
     * same server is not listening yet then) and kept; a failed discovery is retried next time.
     */
    private discover(): Promise<client.Configuration> {
        const { issuer, clientId, clientSecret, ca } = this.settings;
        this.config ??= client.discovery(new URL(issuer), clientId, { client_secret: clientSecret }, client.ClientSecretBasic(clientSecret), {
            [client.customFetch]: fetchWithCa(ca),
        } as client.DiscoveryRequestOptions).catch((err: unknown) => {
            this.config = undefined;
            throw err;
        });
        return this.config;
    }

    /** Where to send the browser to sign in, and the flow cookie to set. */
    async start(): Promise<{ location: string; cookie: string }> {
        const config = await this.discover();
        const flow: Flow = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(), exp: this.now() + FLOW_SECONDS };
        const url = client.buildAuthorizationUrl(config, {
            redirect_uri: this.settings.redirectUri,
            scope: SCOPES.join(" "),
            code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
            code_challenge_method: "S256",
            state: flow.state,
            nonce: flow.nonce,
        });
        const payload = Buffer.from(JSON.stringify(flow), "utf8").toString("base64url");
        return { location: url.href, cookie: this.cookie(`${payload}.${this.sign(payload)}`, FLOW_SECONDS) };
    }

    /** The Set-Cookie value that removes the flow cookie (every callback answer sends it: one use). */
    clearCookie(): string {
        return this.cookie("", 0);
    }

    /** Checks the provider's redirect back (`req` at the callback path) and exchanges its code. */
    async finish(req: IncomingMessage): Promise<SsoResult> {
        const url = new URL(req.url ?? "/", this.settings.redirectUri);
        const error = url.searchParams.get("error");
        if (error !== null) {
            const detail = [error, url.searchParams.get("error_description")].filter(Boolean).join(": ");
            return { error: error === "access_denied" ? "denied" : "failed", detail };
        }
        const flow = this.readFlow(req);
        if (flow === undefined) return { error: "missing" };
        if (flow.exp <= this.now()) return { error: "expired" };
        const state = url.searchParams.get("state");
        if (state === null || !equal(state, flow.state)) return { error: "state" };
        let claims: client.IDToken | undefined;
        try {
            const tokens = await client.authorizationCodeGrant(await this.discover(), url, {
                pkceCodeVerifier: flow.verifier,
                expectedState: flow.state,
                expectedNonce: flow.nonce,
                idTokenExpected: true,
            });
            claims = tokens.claims();
        } catch (err) {
            return { error: "failed", detail: (err as Error).message.split("\n")[0] };
        }
        if (claims === undefined) return { error: "failed", detail: "no ID token" };
        const user = claims.preferred_username;
        if (typeof user !== "string" || !USER_NAME.test(user)) return { error: "no-user", detail: `preferred_username ${JSON.stringify(user ?? null)}` };
        if (!this.knows(claims.sub)) return { error: "unknown", detail: claims.sub };
        return { user, sub: claims.sub };
    }

    private readFlow(req: IncomingMessage): Flow | undefined {
        const value = parseCookies(req.headers.cookie).get(this.cookieName);
        const dot = value?.indexOf(".") ?? -1;
        if (value === undefined || dot <= 0) return undefined;
        const payload = value.slice(0, dot);
        if (!equal(value.slice(dot + 1), this.sign(payload))) return undefined;
        try {
            const flow = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Partial<Flow>;
            if (typeof flow.state !== "string" || typeof flow.nonce !== "string" || typeof flow.verifier !== "string" || typeof flow.exp !== "number") return undefined;
            return flow as Flow;
        } catch {
            return undefined;
        }
    }

    private sign(payload: string): string {
        return createHmac("sha256", this.key).update(payload).digest("base64url");
    }

    private cookie(value: string, maxAge: number): string {
        const expires = new Date((this.now() + maxAge) * 1000).toUTCString();
        return `${this.cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}; Expires=${expires}${this.secure ? "; Secure" : ""}`;
    }
}
