import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { namespaceName } from "../../components/naming";
import { oidcKubeconfig } from "../../components/environment/kubeconfig";
import { DEFAULT_CLIENT_ID, localOidcDir, parseIssuer, readLocalIssuer, REPO_ROOT } from "../oidc/settings";
import { cacheFile, CachedTokens, readCache, removeCache, withCacheLock, writeCache } from "./cache";
import { execCredential, isFresh } from "./credential";
import { readCa } from "./http";

/**
 * The client-side commands' handlers (declared in ./command.ts): `catalyst login`, `logout`,
 * `kube-credential`, `kubeconfig <environment>` and `oidc add-user`. Each takes its typed input
 * and returns the exit code: 0 ok, 1 failed, 2 bad input or a refused sign-in. The issuer, client and CA come from flags, else CATALYST_OIDC_ISSUER,
 * CATALYST_OIDC_CLIENT_ID and CATALYST_OIDC_CA_FILE, else the local cluster's issuer.
 */

/** Where the commands write. */
export interface LoginIo {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    stdin: () => Promise<string>;
}

class Usage extends Error {}

interface Target {
    issuer: string;
    clientId: string;
    caFile?: string;
}

/** Which issuer and client (every command has these options). */
export interface TargetInput {
    issuer?: string;
    clientId?: string;
    caFile?: string;
}

/** `catalyst login`. */
export interface LoginInput extends TargetInput {
    device: boolean;
    user?: string;
    passwordStdin: boolean;
}

/** `catalyst kubeconfig <environment>`. */
export interface KubeconfigInput extends TargetInput {
    environment: string;
    server?: string;
    clusterCa?: string;
}

/** `catalyst oidc add-user <name>`. */
export interface AddUserInput {
    name: string;
    passwordStdin: boolean;
    email?: string;
    groups?: string;
    usersFile?: string;
}

function resolveTarget(values: TargetInput, env: NodeJS.ProcessEnv): Target {
    const local = readLocalIssuer();
    const issuerText = values.issuer ?? (env.CATALYST_OIDC_ISSUER || undefined) ?? local?.issuer;
    if (issuerText === undefined) throw new Usage("--issuer: no issuer given, CATALYST_OIDC_ISSUER is unset and the local cluster has none (npm run cluster:up)");
    const issuer = parseIssuer(issuerText, values.issuer !== undefined ? "--issuer" : "CATALYST_OIDC_ISSUER");
    const isLocal = local !== undefined && issuer === local.issuer;
    const clientId = values.clientId ?? (env.CATALYST_OIDC_CLIENT_ID || undefined) ?? (isLocal ? local.clientId : DEFAULT_CLIENT_ID);
    const caFile = values.caFile ?? (env.CATALYST_OIDC_CA_FILE || undefined) ?? (isLocal ? local.caFile : undefined);
    if (caFile !== undefined && !existsSync(caFile)) throw new Usage(`--ca-file: ${caFile} does not exist`);
    return { issuer, clientId, caFile };
}

function issuerTarget(t: Target) {
    return { issuer: t.issuer, clientId: t.clientId, ca: readCa(t.caFile) };
}

/** The first line of an error, with its cause (openid-client wraps network errors in one). */
function oneLine(err: unknown): string {
    const error = err as Error & { cause?: Error & { cause?: Error } };
    const cause = error.cause?.cause?.message ?? error.cause?.message;
    const message = (error.message ?? String(err)).split("\n")[0];
    return cause && !message.includes(cause) ? `${message}: ${cause.split("\n")[0]}` : message;
}

/** Signs in and caches the tokens. */
export async function login(values: LoginInput, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    if ((values.user === undefined) !== (values.passwordStdin !== true)) throw new Usage("--user and --password-stdin: give both (the password is read from stdin, never from the command line)");
    if (values.device && values.user !== undefined) throw new Usage("--device and --user: choose one way to sign in");
    const t = resolveTarget(values, env);
    const flows = await import("./flows");
    const say = (line: string) => io.stderr(`${line}\n`);
    let tokens: CachedTokens;
    try {
        if (values.user !== undefined) {
            const password = (await io.stdin()).replace(/\r?\n$/, "");
            if (password === "") throw new Usage("--password-stdin: stdin was empty");
            tokens = await flows.passwordSignIn(issuerTarget(t), values.user, password);
        } else if (values.device) {
            tokens = await flows.deviceSignIn(issuerTarget(t), say);
        } else {
            tokens = await flows.browserSignIn(issuerTarget(t), say);
        }
    } catch (err) {
        if (err instanceof flows.SignInRefused) {
            io.stderr(`catalyst login: ${oneLine(err)}\n`);
            return 2;
        }
        throw err;
    }
    writeCache(cacheFile(t.issuer, t.clientId, env), tokens);
    io.stdout(`signed in to ${t.issuer} as ${tokens.user}; token valid until ${new Date(tokens.expiresAt).toISOString()}, refreshed by catalyst kube-credential\n`);
    return 0;
}

/** Revokes the cached refresh token and removes the cache. */
export async function logout(values: TargetInput, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const t = resolveTarget(values, env);
    const file = cacheFile(t.issuer, t.clientId, env);
    const tokens = readCache(file);
    if (tokens?.refreshToken) await (await import("./flows")).revoke(issuerTarget(t), tokens.refreshToken);
    removeCache(file);
    io.stdout(tokens ? `signed out of ${t.issuer} (${tokens.user})\n` : `not signed in to ${t.issuer}\n`);
    return 0;
}

/** Prints the ExecCredential, refreshing first when needed. */
export async function kubeCredential(values: TargetInput, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const t = resolveTarget(values, env);
    const file = cacheFile(t.issuer, t.clientId, env);
    const signIn = `sign in with: catalyst login --issuer ${t.issuer}`;
    let tokens = readCache(file);
    if (tokens === undefined) {
        io.stderr(`catalyst kube-credential: not signed in to ${t.issuer}; ${signIn}\n`);
        return 1;
    }
    if (!isFresh(tokens, Date.now())) {
        tokens = await withCacheLock(file, async () => {
            // Another kubectl may have refreshed while this one waited for the lock.
            const current = readCache(file);
            if (current === undefined || isFresh(current, Date.now())) return current;
            if (current.refreshToken === undefined) return undefined;
            const flows = await import("./flows");
            try {
                const next = await flows.refresh(issuerTarget(t), current.refreshToken);
                writeCache(file, next);
                return next;
            } catch (err) {
                if (err instanceof flows.SignInRefused) {
                    removeCache(file);
                    io.stderr(`catalyst kube-credential: ${oneLine(err)} at ${t.issuer}; ${signIn}\n`);
                    return null;
                }
                throw err;
            }
        }) ?? undefined;
        if (tokens === undefined) {
            if (readCache(file) !== undefined) io.stderr(`catalyst kube-credential: the sign-in to ${t.issuer} has expired; ${signIn}\n`);
            return 1;
        }
    }
    io.stdout(`${execCredential(tokens)}\n`);
    return 0;
}

/** Prints the OIDC kubeconfig of an environment. */
export async function kubeconfig(values: KubeconfigInput, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    let namespace: string;
    try {
        namespace = namespaceName(values.environment);
    } catch (err) {
        throw new Usage(`<environment>: ${oneLine(err)}`);
    }
    const t = resolveTarget(values, env);
    const local = readLocalIssuer();
    const server = values.server ?? local?.server;
    if (server === undefined) throw new Usage("--server: the API server URL is required when there is no local cluster");
    const clusterCa = values.clusterCa ?? (values.server === undefined ? local?.caFile : undefined);
    if (clusterCa !== undefined && !existsSync(clusterCa)) throw new Usage(`--cluster-ca: ${clusterCa} does not exist`);
    const certificateAuthorityData = clusterCa ? readFileSync(clusterCa).toString("base64") : undefined;
    io.stdout(`${oidcKubeconfig(namespace, { server, certificateAuthorityData }, {
        issuerUrl: t.issuer,
        clientId: t.clientId,
        caFile: t.caFile && path.resolve(t.caFile),
        // This CLI's own shim, so that the kubeconfig works without `catalyst` on PATH.
        command: path.join(REPO_ROOT, "bin", "catalyst.js"),
    })}\n`);
    return 0;
}

/** Adds a person to the local users file. */
export async function addUser(values: AddUserInput, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    if (values.passwordStdin !== true) throw new Usage("--password-stdin: required (the password is read from stdin, never from the command line)");
    const file = values.usersFile ?? (env.CATALYST_OIDC_USERS_FILE || path.join(localOidcDir(), "users.json"));
    const password = (await io.stdin()).replace(/\r?\n$/, "");
    if (password.length < 8) throw new Usage("--password-stdin: the password must have at least 8 characters");
    const { addUser: add } = await import("../oidc/users");
    try {
        await add(file, { name: values.name, password, email: values.email, groups: values.groups ? values.groups.split(",").map((g) => g.trim()).filter(Boolean) : [] });
    } catch (err) {
        throw new Usage(oneLine(err));
    }
    io.stdout(`${values.name} can sign in (users file ${file})\n`);
    return 0;
}

/** Runs `body`, turning its errors into one line on stderr and the exit code (2 for bad input). */
export async function guarded(name: string, io: LoginIo, body: () => Promise<number>): Promise<number> {
    try {
        return await body();
    } catch (err) {
        io.stderr(`catalyst ${name}: ${oneLine(err)}\n`);
        return err instanceof Usage || (err as Error).name === "SettingsError" ? 2 : 1;
    }
}

/** Reads all of stdin. */
export function readStdin(): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        process.stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
        process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        process.stdin.on("error", reject);
    });
}
