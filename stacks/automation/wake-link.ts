import { createHmac, timingSafeEqual } from "crypto";

/**
 * Signed wake links: whoever holds one may wake one preview until it expires, without signing
 * in (the link goes into the PR comment, which only people with access to the repository see).
 * A token is `<stack>.<expiry in Unix seconds>.<HMAC-SHA256 of both, base64url>`, keyed with
 * CATALYST_WAKE_KEY (at least 32 bytes), and checked in constant time. It wakes nothing by
 * itself: the sleeping page shows a button that posts it (stacks/api/sleeping.ts), so a link
 * previewer that fetches the URL wakes nothing.
 */

/** The environment variable of the key. */
export const WAKE_KEY_ENV = "CATALYST_WAKE_KEY";

/** Shortest key accepted, in bytes. */
export const MIN_WAKE_KEY_BYTES = 32;

/** How long a link lasts unless told otherwise: 7 days. */
export const DEFAULT_WAKE_LINK_TTL_MS = 7 * 24 * 3_600_000;

const STACK = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Why a token was refused. */
export type WakeTokenProblem = "malformed" | "expired" | "forged";

/** The key from the environment (undefined: links are off), refusing a short one with the variable named. */
export function wakeKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
    const text = env[WAKE_KEY_ENV];
    if (text === undefined || text === "") return undefined;
    const key = Buffer.from(text, "utf8");
    if (key.length < MIN_WAKE_KEY_BYTES) throw new Error(`${WAKE_KEY_ENV}: must be at least ${MIN_WAKE_KEY_BYTES} bytes (e.g. \`openssl rand -hex 32\`), got ${key.length}`);
    return key;
}

function signature(key: Buffer, stack: string, expires: number): Buffer {
    return createHmac("sha256", key).update(`catalyst-wake\n${stack}\n${expires}`).digest();
}

/** A token that wakes `stack` until `expiresAt`. */
export function signWakeToken(key: Buffer, stack: string, expiresAt: Date): string {
    if (!STACK.test(stack)) throw new Error(`stack: not a stack name: ${JSON.stringify(stack)}`);
    const expires = Math.floor(expiresAt.getTime() / 1000);
    return `${stack}.${expires}.${signature(key, stack, expires).toString("base64url")}`;
}

/** The stack a token wakes, or why it is refused (the signature is compared in constant time). */
export function verifyWakeToken(key: Buffer, token: string, now: Date = new Date()): { stack: string } | { problem: WakeTokenProblem } {
    const match = /^([a-z0-9][a-z0-9-]{0,62})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (match === null) return { problem: "malformed" };
    const [, stack, expiresText, given] = match;
    const expected = signature(key, stack, Number(expiresText));
    const provided = Buffer.from(given, "base64url");
    // Checked before the expiry, so that an answer never tells a forger whether the time was right.
    if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) return { problem: "forged" };
    if (Number(expiresText) * 1000 <= now.getTime()) return { problem: "expired" };
    return { stack };
}

/** The wake link of a token: the API's sleeping page with it (`<apiUrl>/sleeping/wake?token=...`). */
export function wakeLink(apiUrl: string, token: string): string {
    return `${apiUrl.replace(/\/+$/, "")}/sleeping/wake?token=${encodeURIComponent(token)}`;
}
