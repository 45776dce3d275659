import { createHmac, randomBytes, timingSafeEqual } from "crypto";
import type { IncomingMessage } from "http";
import { MemoryRevocations, Revocations } from "./revocations";

/**
 * The dashboard's sessions: a cookie holding `{user, expiry, session id, CSRF token, credential}`
 * signed with HMAC-SHA256 under COOKIE_SECRET. The credential says what the session came from, so
 * that it ends with it (the dashboard checks it on every read): a keyed digest of the API token,
 * or the single sign-on subject. Nothing is stored server-side except the ids of sessions that
 * signed out before they expired (./revocations.ts, durable, so a copied cookie dies with
 * sign-out even across restarts). Signatures, digests and CSRF tokens are compared in constant time.
 */

/** How long a session lasts. */
export const SESSION_SECONDS = 8 * 60 * 60;

/** The request header a state-changing request of a session must carry (the session's CSRF token). */
export const CSRF_HEADER = "x-csrf-token";

/** Shortest COOKIE_SECRET accepted. */
export const MIN_SECRET_LENGTH = 32;

/** What a session cookie holds. */
export interface Session {
    /** The user (from the API token table). */
    user: string;
    /** Expiry, seconds since the epoch. */
    exp: number;
    /** Session id (revocation on sign-out). */
    sid: string;
    /** CSRF token: sent back by the page in the x-csrf-token header. */
    csrf: string;
    /** How the user signed in: with an API token, or through single sign-on. */
    via: "token" | "sso";
    /** `via: token`: the keyed digest of the token (base64url, under {@link SessionStore.tokenKey}). */
    cred?: string;
    /** `via: sso`: the person's subject at the issuer. */
    sub?: string;
}

/** What a new session is tied to. */
export type SessionCredential = { via: "token"; cred: string } | { via: "sso"; sub: string };

/** Options of the session store. */
export interface SessionOptions {
    /** HMAC key (COOKIE_SECRET). */
    secret: string;
    /** Whether cookies carry `Secure` (everywhere but a loopback http listener). */
    secure: boolean;
    /** Clock, seconds since the epoch (tests). */
    now?: () => number;
    /** Session lifetime in seconds. */
    ttlSeconds?: number;
    /** Where sign-outs are kept; default: this process's memory. */
    revocations?: Revocations;
}

/**
 * Reads COOKIE_SECRET (at least 32 characters). Unset: a random secret for this process, so
 * sessions end when the server restarts; `note` says so.
 */
export function cookieSecret(env: NodeJS.ProcessEnv = process.env, note: (line: string) => void = () => undefined): string {
    const secret = env.COOKIE_SECRET;
    if (secret === undefined || secret === "") {
        note("catalyst serve: COOKIE_SECRET is not set; dashboard sessions use a random key and end when the server stops");
        return randomBytes(32).toString("base64url");
    }
    if (secret.length < MIN_SECRET_LENGTH) throw new Error(`COOKIE_SECRET: must have at least ${MIN_SECRET_LENGTH} characters, got ${secret.length}`);
    return secret;
}

/** True for a host the loopback default listens on (cookies there may go over plain http). */
export function isLoopback(host: string): boolean {
    return host === "127.0.0.1" || host === "::1" || host === "[::1]" || host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Parses a Cookie header into name/value pairs (first value of a name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
    const cookies = new Map<string, string>();
    for (const part of (header ?? "").split(";")) {
        const eq = part.indexOf("=");
        if (eq <= 0) continue;
        const name = part.slice(0, eq).trim();
        if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
    }
    return cookies;
}

/** Constant-time equality of two strings (false for different lengths, without comparing). */
export function equal(a: string, b: string): boolean {
    const x = Buffer.from(a, "utf8");
    const y = Buffer.from(b, "utf8");
    return x.length === y.length && timingSafeEqual(x, y);
}

/** Signs, reads and revokes sessions. */
export class SessionStore {
    /** The cookie's name: `__Host-` (Secure, path /, no domain: browsers enforce it) outside loopback. */
    readonly cookieName: string;
    private readonly now: () => number;
    private readonly ttl: number;
    private readonly revocations: Revocations;
    /**
     * The key of the token digests sessions keep: derived from COOKIE_SECRET, so that replicas and
     * restarts agree, and keyed, so that the cookie (readable by its holder) never carries the
     * token or a plain hash of it.
     */
    readonly tokenKey: Buffer;

    constructor(private readonly options: SessionOptions) {
        this.cookieName = options.secure ? "__Host-catalyst-session" : "catalyst-session";
        this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
        this.ttl = options.ttlSeconds ?? SESSION_SECONDS;
        this.revocations = options.revocations ?? new MemoryRevocations();
        this.tokenKey = createHmac("sha256", options.secret).update("catalyst-dashboard token digest").digest();
    }

    private sign(payload: string): string {
        return createHmac("sha256", this.options.secret).update(payload).digest("base64url");
    }

    /** A new session of `user`, tied to `credential`, and its Set-Cookie value. */
    create(user: string, credential: SessionCredential): { session: Session; cookie: string } {
        const session: Session = { user, exp: this.now() + this.ttl, sid: randomBytes(16).toString("base64url"), csrf: randomBytes(32).toString("base64url"), ...credential };
        const payload = Buffer.from(JSON.stringify(session), "utf8").toString("base64url");
        return { session, cookie: this.cookie(`${payload}.${this.sign(payload)}`, this.ttl) };
    }

    /** The Set-Cookie value that removes the cookie. */
    clearCookie(): string {
        return this.cookie("", 0);
    }

    private cookie(value: string, maxAge: number): string {
        const expires = new Date((this.now() + maxAge) * 1000).toUTCString();
        return `${this.cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}; Expires=${expires}${this.options.secure ? "; Secure" : ""}`;
    }

    /** The valid session a request's cookie holds, or undefined (bad signature, expired, signed out). */
    read(req: IncomingMessage): Session | undefined {
        const value = parseCookies(req.headers.cookie).get(this.cookieName);
        if (value === undefined) return undefined;
        const dot = value.indexOf(".");
        if (dot <= 0) return undefined;
        const payload = value.slice(0, dot);
        if (!equal(value.slice(dot + 1), this.sign(payload))) return undefined;
        let session: Session;
        try {
            session = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Session;
        } catch {
            return undefined;
        }
        if (typeof session.exp !== "number" || session.exp <= this.now() || typeof session.user !== "string" || typeof session.sid !== "string") return undefined;
        // A cookie from before sessions were tied to a credential has none: it is no session.
        if (!(session.via === "token" && typeof session.cred === "string") && !(session.via === "sso" && typeof session.sub === "string")) return undefined;
        if (this.revocations.has(session.sid)) return undefined;
        return session;
    }

    /** Ends a session before its expiry (sign-out), durably when the revocations are. */
    revoke(session: Session): Promise<void> {
        return this.revocations.add(session.sid, session.exp);
    }

    /** True when `header` is the session's CSRF token (constant time). */
    csrfMatches(session: Session, header: string | string[] | undefined): boolean {
        return typeof header === "string" && equal(header, session.csrf);
    }
}
