import { createHash, createHmac, timingSafeEqual } from "crypto";
import { readFileSync } from "fs";
import { z } from "zod";
import { ApiError } from "./errors";

/**
 * Caller authentication and authorization. A token maps to a user through a table read from
 * CATALYST_API_TOKENS (JSON `{ "<token>": "<user>" }`) or from the file CATALYST_API_TOKENS_FILE.
 * Tokens are compared as SHA-256 digests with crypto.timingSafeEqual (equal length always), and
 * never logged. A user may change only previews it owns; production and staging are read-only.
 */

const TOKEN_TABLE = z.record(z.string(), z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, "users are GitHub logins"))
    .refine((table) => Object.keys(table).every((token) => token.length >= 16), "tokens must have at least 16 characters");

/** A token table, held as digests so the raw tokens do not stay in memory longer than needed. */
export class TokenTable {
    private readonly entries: { digest: Buffer; user: string }[];
    /** The entries' keyed digests per key (hex), computed once. */
    private readonly keyed = new Map<string, Buffer[]>();

    constructor(tokens: Record<string, string>) {
        const table = TOKEN_TABLE.parse(tokens);
        this.entries = Object.entries(table).map(([token, user]) => ({ digest: digest(token), user }));
    }

    /** Number of tokens. */
    get size(): number {
        return this.entries.length;
    }

    /** The user of `token`, or undefined. Looks at every entry, whichever matches. */
    lookup(token: string): string | undefined {
        const wanted = digest(token);
        let user: string | undefined;
        for (const entry of this.entries) {
            if (timingSafeEqual(entry.digest, wanted) && user === undefined) user = entry.user;
        }
        return user;
    }

    /**
     * A keyed digest of `token` (HMAC-SHA256 under `key` of its SHA-256): what a dashboard
     * session keeps of the token it was signed in with, to end when the token leaves the table.
     */
    keyedDigest(key: Buffer, token: string): Buffer {
        return createHmac("sha256", key).update(digest(token)).digest();
    }

    /** The user of the token whose keyed digest under `key` is `keyed`, or undefined. Looks at every entry. */
    lookupKeyed(key: Buffer, keyed: Buffer): string | undefined {
        const id = key.toString("hex");
        let digests = this.keyed.get(id);
        if (digests === undefined) {
            digests = this.entries.map((entry) => createHmac("sha256", key).update(entry.digest).digest());
            this.keyed.set(id, digests);
        }
        let user: string | undefined;
        digests.forEach((candidate, i) => {
            if (candidate.length === keyed.length && timingSafeEqual(candidate, keyed) && user === undefined) user = this.entries[i].user;
        });
        return user;
    }
}

function digest(token: string): Buffer {
    return createHash("sha256").update(token, "utf8").digest();
}

/** Reads the token table from the environment; an empty table refuses every caller. */
export function loadTokens(env: NodeJS.ProcessEnv = process.env): TokenTable {
    const inline = env.CATALYST_API_TOKENS;
    const file = env.CATALYST_API_TOKENS_FILE;
    let text: string | undefined = inline;
    if (text === undefined && file !== undefined) text = readFileSync(file, "utf8");
    if (text === undefined || text.trim() === "") return new TokenTable({});
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch {
        throw new Error(`${inline !== undefined ? "CATALYST_API_TOKENS" : "CATALYST_API_TOKENS_FILE"}: must be a JSON object {"<token>": "<user>"}`);
    }
    const parsed = TOKEN_TABLE.safeParse(raw);
    if (!parsed.success) {
        throw new Error(`CATALYST_API_TOKENS: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    }
    return new TokenTable(parsed.data);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
    const match = /^Bearer ([^\s]+)$/i.exec(header?.trim() ?? "");
    return match?.[1];
}

/** Resolves a caller or throws `unauthorized` (same message whatever was wrong). */
export function authenticate(table: TokenTable, token: string | undefined): string {
    const user = token === undefined ? undefined : table.lookup(token);
    if (user === undefined) throw new ApiError("unauthorized", "missing or invalid token");
    return user;
}

/** What authorization needs to know about an environment. */
export interface Ownership {
    stack: string;
    kind: string;
    /** The `catalyst:owner` tag. */
    owner?: string;
    /** Owners from the stack's `catalyst:access` config, when known. */
    owners?: readonly string[];
}

/** True when `user` owns the environment (case-insensitive, as GitHub logins are). */
export function owns(user: string, env: Ownership): boolean {
    const names = [env.owner, ...(env.owners ?? [])].filter((n): n is string => n !== undefined);
    return names.some((name) => name.toLowerCase() === user.toLowerCase());
}

/** Throws `forbidden` unless `user` may change (or exec into, or get credentials of) `env`. */
export function requireOwner(user: string, env: Ownership): void {
    if (env.kind === "production" || env.kind === "staging" || env.kind === "platform") {
        throw new ApiError("forbidden", `${env.stack} is read-only through this API`);
    }
    if (!owns(user, env)) throw new ApiError("forbidden", `${user} does not own ${env.stack}`);
}
