import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { parseDuration } from "../automation/duration";

/**
 * The OpenID provider's settings: constants shared by the provider (`stacks/oidc`), the client
 * side (`stacks/login`) and the local cluster (tools/cluster.sh writes the local issuer's file),
 * and the run-time configuration of `catalyst serve`, read from the environment and validated
 * with messages that name the variable.
 */

/** Where `catalyst serve` mounts the provider; part of the issuer URL. */
export const ISSUER_PATH = "/oidc";

/** The OAuth client the cluster trusts: ID tokens carry it as their audience. */
export const DEFAULT_CLIENT_ID = "catalyst-cluster";

/** The dashboard's client at the hosted provider (single sign-on on its sign-in page). */
export const DASHBOARD_CLIENT_ID = "catalyst-dashboard";

/** The ID token lifetime when CATALYST_OIDC_TOKEN_TTL is unset. */
export const DEFAULT_TOKEN_TTL_MS = 15 * 60_000;

/** How long a sign-in lasts (the refresh token's lifetime) when CATALYST_OIDC_SESSION_TTL is unset. */
export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;

/** How often the signing key is replaced when CATALYST_OIDC_KEY_ROTATION is unset. */
export const DEFAULT_KEY_ROTATION_MS = 24 * 3_600_000;

/** How often the provider rereads the key store (other replicas may have rotated). */
export const DEFAULT_KEY_RELOAD_MS = 30_000;

/** Scopes the client asks for; each but `openid` names the claims it releases. */
export const SCOPES = ["openid", "profile", "email", "groups"] as const;

/** The loopback redirect path of `catalyst login` (any port: RFC 8252, section 7.3). */
export const LOOPBACK_REDIRECT_PATH = "/callback";

/** The local cluster's issuer, as tools/cluster.sh describes it in `.catalyst/cluster/oidc.json`. */
export interface LocalIssuer {
    /** `https://127.0.0.1:<CATALYST_OIDC_PORT>/oidc`. */
    issuer: string;
    clientId: string;
    /** The port `catalyst serve --local-oidc` listens on. */
    port: number;
    /** The local API server (`https://127.0.0.1:<CATALYST_APISERVER_PORT>`). */
    server: string;
    /** The local CA, which signed the issuer's certificate. */
    caFile: string;
    certFile: string;
    keyFile: string;
}

/** The repository root (this file is stacks/oidc/settings.ts). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The file tools/cluster.sh writes for the local cluster's issuer. */
export function localIssuerFile(repoRoot = REPO_ROOT): string {
    return path.join(repoRoot, ".catalyst", "cluster", "oidc.json");
}

/** Where the embedded default keeps its users file and signing keys (they outlive the cluster). */
export function localOidcDir(repoRoot = REPO_ROOT): string {
    return path.join(repoRoot, ".catalyst", "oidc");
}

/** The local cluster's issuer, or undefined when the local cluster was never started. */
export function readLocalIssuer(repoRoot = REPO_ROOT): LocalIssuer | undefined {
    const file = localIssuerFile(repoRoot);
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, "utf8")) as LocalIssuer;
}

/** Where the signing keys live: a 0600 file, or a Kubernetes Secret (`namespace/name`). */
export type KeyStoreLocation = { kind: "file"; file: string } | { kind: "secret"; namespace: string; name: string };

/** The GitHub OAuth app that signs people in, in production. */
export interface GitHubSettings {
    clientId: string;
    clientSecret: string;
    /** Only members of this organization may sign in; its teams become groups. */
    organization: string;
    /** https://github.com, or a GitHub Enterprise server (and the tests' fake). */
    webUrl: string;
    /** https://api.github.com, or an Enterprise server's `/api/v3`. */
    apiUrl: string;
}

/** Everything the provider needs. */
export interface ProviderSettings {
    issuer: string;
    clientId: string;
    tokenTtlMs: number;
    sessionTtlMs: number;
    keyRotationMs: number;
    keyReloadMs: number;
    keys: KeyStoreLocation;
    /** The local users file (bcrypt hashes), when people sign in with a password. */
    usersFile?: string;
    github?: GitHubSettings;
    /** The dashboard of the same `catalyst serve`, a second (confidential, web) client. */
    dashboard?: DashboardClient;
}

/** The dashboard as a client of the hosted provider. */
export interface DashboardClient {
    clientId: string;
    /** Shared by the provider and the dashboard of the same process (derived from COOKIE_SECRET, so replicas agree). */
    clientSecret: string;
    /** Its callback, on the dashboard's own origin. */
    redirectUri: string;
}

/** A setting that is wrong; the message names the variable and what is allowed. */
export class SettingsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SettingsError";
    }
}

function duration(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
    const text = env[name];
    if (text === undefined || text === "") return fallback;
    const value = parseDuration(text);
    if (value === undefined || value < min) {
        throw new SettingsError(`${name}: must be a duration of at least ${min / 1000}s such as 15m or 24h, got "${text}"`);
    }
    return value;
}

/** The issuer URL: https (the API server accepts nothing else), without a trailing slash. */
export function parseIssuer(text: string | undefined, name = "CATALYST_OIDC_ISSUER"): string {
    let url: URL;
    try {
        url = new URL(text ?? "");
    } catch {
        throw new SettingsError(`${name}: must be an https URL ending in ${ISSUER_PATH}, got "${text ?? ""}"`);
    }
    if (url.protocol !== "https:" || url.search !== "" || url.hash !== "" || !url.pathname.replace(/\/$/, "").endsWith(ISSUER_PATH)) {
        throw new SettingsError(`${name}: must be an https URL ending in ${ISSUER_PATH} (where catalyst serve mounts the provider), got "${text}"`);
    }
    return url.toString().replace(/\/$/, "");
}

/**
 * The provider's settings from the environment of `catalyst serve`:
 * CATALYST_OIDC_ISSUER (required), CATALYST_OIDC_CLIENT_ID, CATALYST_OIDC_TOKEN_TTL,
 * CATALYST_OIDC_SESSION_TTL, CATALYST_OIDC_KEY_ROTATION, CATALYST_OIDC_KEY_RELOAD,
 * CATALYST_OIDC_KEYS_FILE or CATALYST_OIDC_KEYS_SECRET_REF, CATALYST_OIDC_USERS_FILE, and
 * CATALYST_OIDC_GITHUB_{CLIENT_ID,CLIENT_SECRET,ORG,URL,API_URL}. `defaults` fill unset ones
 * (the embedded default's files).
 */
export function providerSettings(env: NodeJS.ProcessEnv, defaults: Partial<Record<string, string>> = {}): ProviderSettings {
    const get = (name: string) => (env[name] !== undefined && env[name] !== "" ? env[name] : defaults[name]);
    const issuer = parseIssuer(get("CATALYST_OIDC_ISSUER"));
    const clientId = get("CATALYST_OIDC_CLIENT_ID") ?? DEFAULT_CLIENT_ID;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(clientId)) throw new SettingsError(`CATALYST_OIDC_CLIENT_ID: letters, digits, '.', '_' or '-' (1-64), got "${clientId}"`);
    const tokenTtlMs = duration(env, "CATALYST_OIDC_TOKEN_TTL", DEFAULT_TOKEN_TTL_MS, 60_000);
    const sessionTtlMs = duration(env, "CATALYST_OIDC_SESSION_TTL", DEFAULT_SESSION_TTL_MS, 60_000);
    const keyRotationMs = duration(env, "CATALYST_OIDC_KEY_ROTATION", DEFAULT_KEY_ROTATION_MS, 60_000);
    const keyReloadMs = duration(env, "CATALYST_OIDC_KEY_RELOAD", DEFAULT_KEY_RELOAD_MS, 1_000);
    const keysFile = get("CATALYST_OIDC_KEYS_FILE");
    const keysSecret = get("CATALYST_OIDC_KEYS_SECRET_REF");
    let keys: KeyStoreLocation;
    if (keysFile !== undefined && keysSecret !== undefined) {
        throw new SettingsError("CATALYST_OIDC_KEYS_FILE and CATALYST_OIDC_KEYS_SECRET_REF: set one, not both");
    } else if (keysSecret !== undefined) {
        const match = /^([a-z0-9-]{1,63})\/([a-z0-9.-]{1,253})$/.exec(keysSecret);
        if (!match) throw new SettingsError(`CATALYST_OIDC_KEYS_SECRET_REF: must be <namespace>/<secret name>, got "${keysSecret}"`);
        keys = { kind: "secret", namespace: match[1], name: match[2] };
    } else if (keysFile !== undefined) {
        keys = { kind: "file", file: path.resolve(keysFile) };
    } else {
        throw new SettingsError("CATALYST_OIDC_KEYS_FILE or CATALYST_OIDC_KEYS_SECRET_REF: one is required (where the signing keys live)");
    }
    const usersFile = get("CATALYST_OIDC_USERS_FILE");
    const github = githubSettings(get);
    if (usersFile === undefined && github === undefined) {
        throw new SettingsError("CATALYST_OIDC_USERS_FILE or CATALYST_OIDC_GITHUB_CLIENT_ID: nobody could sign in; configure a users file or GitHub");
    }
    return { issuer, clientId, tokenTtlMs, sessionTtlMs, keyRotationMs, keyReloadMs, keys, usersFile: usersFile && path.resolve(usersFile), github };
}

function githubSettings(get: (name: string) => string | undefined): GitHubSettings | undefined {
    const clientId = get("CATALYST_OIDC_GITHUB_CLIENT_ID");
    if (clientId === undefined) return undefined;
    const clientSecret = get("CATALYST_OIDC_GITHUB_CLIENT_SECRET");
    const organization = get("CATALYST_OIDC_GITHUB_ORG");
    if (clientSecret === undefined) throw new SettingsError("CATALYST_OIDC_GITHUB_CLIENT_SECRET: required with CATALYST_OIDC_GITHUB_CLIENT_ID");
    if (organization === undefined || !/^[A-Za-z0-9-]{1,39}$/.test(organization)) {
        throw new SettingsError(`CATALYST_OIDC_GITHUB_ORG: the GitHub organization whose members may sign in, got "${organization ?? ""}"`);
    }
    const url = (name: string, fallback: string) => {
        const text = get(name) ?? fallback;
        try {
            return new URL(text).toString().replace(/\/$/, "");
        } catch {
            throw new SettingsError(`${name}: must be a URL, got "${text}"`);
        }
    };
    return { clientId, clientSecret, organization, webUrl: url("CATALYST_OIDC_GITHUB_URL", "https://github.com"), apiUrl: url("CATALYST_OIDC_GITHUB_API_URL", "https://api.github.com") };
}
