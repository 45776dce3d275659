import { generateKeyPairSync, randomBytes } from "crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "fs";
import * as path from "path";

/**
 * The provider's signing keys and their rotation. A key set is a list of ES256 keys, newest
 * first: the first active key signs, every key is published in the JWKS. Rotation retires the
 * signing key after the rotation period and adds a new one; a retired key stays published until
 * every token it signed has expired (the token lifetime plus a minute of clock skew), then it is
 * dropped. Pure functions over a value; the stores below only load and save it.
 *
 * ES256 (P-256): generated in a millisecond, and accepted by every Kubernetes JWT authenticator.
 */

/** One signing key: a private JWK and its life. */
export interface SigningKey {
    kid: string;
    createdAt: string;
    /** When it stopped signing; published until `retiredAt` + the token lifetime. */
    retiredAt?: string;
    /** The private key as a JWK (`kty: EC`, `crv: P-256`, `d`, `x`, `y`). */
    jwk: Record<string, string>;
}

/** What the stores hold. */
export interface KeySet {
    keys: SigningKey[];
}

/** The algorithm every key signs with. */
export const SIGNING_ALG = "ES256";

/** Clock skew the API server tolerates, on top of a token's lifetime. */
export const CLOCK_SKEW_MS = 60_000;

/** A new P-256 signing key created at `now`. */
export function newSigningKey(now: Date): SigningKey {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = privateKey.export({ format: "jwk" }) as Record<string, string>;
    const kid = `${now.toISOString().slice(0, 10).replace(/-/g, "")}-${randomBytes(6).toString("hex")}`;
    return { kid, createdAt: now.toISOString(), jwk };
}

/** Rotation policy: how often to rotate, and how long tokens live. */
export interface RotationPolicy {
    rotateAfterMs: number;
    tokenTtlMs: number;
}

/**
 * The key set after a scheduled check at `now`: a first key when there is none, a new signing key
 * when the current one is older than the rotation period (or `force`), and retired keys dropped
 * once no token they signed can still be valid. Returns the same object when nothing changed.
 */
export function rotate(set: KeySet, now: Date, policy: RotationPolicy, force = false, generate = newSigningKey): KeySet {
    const t = now.getTime();
    let keys = set.keys.filter((key) => key.retiredAt === undefined || Date.parse(key.retiredAt) + policy.tokenTtlMs + CLOCK_SKEW_MS > t);
    const active = keys.find((key) => key.retiredAt === undefined);
    if (active === undefined || force || Date.parse(active.createdAt) + policy.rotateAfterMs <= t) {
        keys = [generate(now), ...keys.map((key) => (key.retiredAt === undefined ? { ...key, retiredAt: now.toISOString() } : key))];
    }
    const changed = keys.length !== set.keys.length || keys.some((key, i) => key !== set.keys[i]);
    return changed ? { keys } : set;
}

/** The key that signs: the newest active one. */
export function signingKey(set: KeySet): SigningKey {
    const key = set.keys.find((k) => k.retiredAt === undefined);
    if (key === undefined) throw new Error("the key set has no active signing key");
    return key;
}

/** The JWKS oidc-provider takes: the signing key first (it signs with the first key of the alg). */
export function providerJwks(set: KeySet): { keys: Array<Record<string, string>> } {
    const first = signingKey(set);
    const ordered = [first, ...set.keys.filter((k) => k !== first)];
    return { keys: ordered.map((k) => ({ ...k.jwk, kid: k.kid, alg: SIGNING_ALG, use: "sig" })) };
}

/** Checks a loaded key set; the message names the source. */
export function parseKeySet(text: string, source: string): KeySet {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        throw new Error(`${source}: not JSON`);
    }
    const keys = (value as KeySet | null)?.keys;
    if (!Array.isArray(keys) || keys.some((k) => typeof k?.kid !== "string" || typeof k?.createdAt !== "string" || k?.jwk?.kty !== "EC" || typeof k?.jwk?.d !== "string")) {
        throw new Error(`${source}: must be {"keys": [{kid, createdAt, retiredAt?, jwk}]} with private EC keys`);
    }
    return { keys };
}

/** Where a key set is kept. `load` returns an empty set when nothing was saved yet. */
export interface KeyStore {
    describe(): string;
    load(): Promise<KeySet>;
    save(set: KeySet): Promise<void>;
}

/** A key set in a file only its owner can read (written whole, then renamed into place). */
export class FileKeyStore implements KeyStore {
    constructor(private readonly file: string) {}

    describe(): string {
        return this.file;
    }

    async load(): Promise<KeySet> {
        if (!existsSync(this.file)) return { keys: [] };
        return parseKeySet(readFileSync(this.file, "utf8"), this.file);
    }

    async save(set: KeySet): Promise<void> {
        mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
        const temporary = `${this.file}.${process.pid}.tmp`;
        writeFileSync(temporary, `${JSON.stringify(set, null, 2)}\n`, { mode: 0o600 });
        chmodSync(temporary, 0o600);
        renameSync(temporary, this.file);
    }
}
