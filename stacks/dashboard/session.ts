import { createHmac, randomBytes, timingSafeEqual } from "crypto";
import type { IncomingMessage } from "http";

/**
 * The dashboard's sessions: a cookie holding `{user, expiry, session id, CSRF token}` signed with
 * HMAC-SHA256 under COOKIE_SECRET. Nothing is stored server-side except the ids of sessions that
 * signed out before they expired (so a copied cookie dies with sign-out). Signatures and CSRF
 * tokens are compared in constant time.
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
}

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

function equal(a: string, b: string): boolean {
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
    /** Signed-out session ids and their expiry. */
    private readonly revoked = new Map<string, number>();

    constructor(private readonly options: SessionOptions) {
        this.cookieName = options.secure ? "__Host-catalyst-session" : "catalyst-session";
        this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
        this.ttl = options.ttlSeconds ?? SESSION_SECONDS;
    }

    private sign(payload: string): string {
        return createHmac("sha256", this.options.secret).update(payload).digest("base64url");
    }

    /** A new session of `user` and its Set-Cookie value. */
    create(user: string): { session: Session; cookie: string } {
        const session: Session = { user, exp: this.now() + this.ttl, sid: randomBytes(16).toString("base64url"), csrf: randomBytes(32).toString("base64url") };
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
        if (typeof session.exp !== "number" || session.exp <= this.now() || typeof session.user !== "string") return undefined;
        if (this.revoked.has(session.sid)) return undefined;
        return session;
    }

    /** Ends a session before its expiry (sign-out). */
    revoke(session: Session): void {
        const now = this.now();
        for (const [sid, exp] of this.revoked) if (exp <= now) this.revoked.delete(sid);
        this.revoked.set(session.sid, session.exp);
    }

    /** True when `header` is the session's CSRF token (constant time). */
    csrfMatches(session: Session, header: string | string[] | undefined): boolean {
        return typeof header === "string" && equal(header, session.csrf);
    }
}
