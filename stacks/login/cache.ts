import { createHash } from "crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "fs";
import { homedir } from "os";
import * as path from "path";

/**
 * The token cache of `catalyst login` and `catalyst kube-credential`: one file per issuer and
 * client under the user's cache directory, readable by its owner only, written whole and renamed
 * into place. A lock file serializes refreshes: refresh tokens rotate, and a second process
 * presenting the one just used would make the provider revoke the whole sign-in.
 */

/** What is cached for one issuer and client. */
export interface CachedTokens {
    issuer: string;
    clientId: string;
    /** The ID token kubectl sends. */
    idToken: string;
    /** When the ID token expires (ms since the epoch). */
    expiresAt: number;
    refreshToken?: string;
    /** preferred_username, for messages. */
    user: string;
}

/** `$CATALYST_OIDC_CACHE_DIR`, else `$XDG_CACHE_HOME/catalyst/oidc`, else `~/.cache/catalyst/oidc`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
    if (env.CATALYST_OIDC_CACHE_DIR) return path.resolve(env.CATALYST_OIDC_CACHE_DIR);
    const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homedir(), ".cache");
    return path.join(base, "catalyst", "oidc");
}

/** The cache file of `issuer` and `clientId`. */
export function cacheFile(issuer: string, clientId: string, env: NodeJS.ProcessEnv = process.env): string {
    const key = createHash("sha256").update(`${issuer}\n${clientId}`).digest("hex").slice(0, 32);
    return path.join(cacheDir(env), `${key}.json`);
}

/** The cached tokens, or undefined when there are none (or the file is not ours to trust). */
export function readCache(file: string): CachedTokens | undefined {
    if (!existsSync(file)) return undefined;
    try {
        const value = JSON.parse(readFileSync(file, "utf8")) as CachedTokens;
        return typeof value.idToken === "string" && typeof value.expiresAt === "number" ? value : undefined;
    } catch {
        return undefined;
    }
}

/** Writes the cache with mode 0600 in a 0700 directory. */
export function writeCache(file: string, tokens: CachedTokens): void {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(tokens), { mode: 0o600 });
    renameSync(temporary, file);
}

export function removeCache(file: string): void {
    rmSync(file, { force: true });
}

/** A lock older than this belongs to a process that died holding it. */
const STALE_LOCK_MS = 60_000;

/**
 * Runs `body` holding the cache's lock (a file created exclusively), waiting up to `timeoutMs`
 * for another holder.
 */
export async function withCacheLock<T>(file: string, body: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const lock = `${file}.lock`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            closeSync(openSync(lock, "wx", 0o600));
            break;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
            const age = (() => {
                try {
                    return Date.now() - statSync(lock).mtimeMs;
                } catch {
                    return 0;
                }
            })();
            if (age > STALE_LOCK_MS) rmSync(lock, { force: true });
            else if (Date.now() > deadline) throw new Error(`another catalyst process holds ${lock}`);
            else await new Promise((resolve) => setTimeout(resolve, 50));
        }
    }
    try {
        return await body();
    } finally {
        rmSync(lock, { force: true });
    }
}
