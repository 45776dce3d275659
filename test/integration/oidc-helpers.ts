import { ChildProcess, spawn } from "child_process";
import { createPrivateKey, generateKeyPairSync, KeyObject, sign } from "crypto";
import { readFileSync } from "fs";
import { request } from "https";
import * as path from "path";
import { CookieSession, Reply } from "../../stacks/login/http";
import { LocalIssuer } from "../../stacks/oidc/settings";
import { repoRoot } from "./harness";
import { CommandResult } from "./security-helpers";

/**
 * Helpers of the OIDC integration test: the real `catalyst serve --local-oidc` as a child
 * process, the real CLI (`catalyst login`, `kubeconfig`, `kube-credential` through kubectl),
 * raw HTTPS requests with a bearer token, and tokens the test signs itself (expired, wrong
 * audience, other issuer, `alg: none`) to prove that the API server refuses them.
 */

export const CATALYST = path.join(repoRoot, "bin", "catalyst.js");

/** Runs the catalyst CLI with `env` added and resolves with its exit code and output. */
export function catalyst(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CommandResult & { code: number | null }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [CATALYST, ...args], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("close", (code) => resolve({ ok: code === 0, code, stdout, stderr }));
        child.stdin.end(input ?? "");
    });
}

/** A running `catalyst serve`, and how to stop it. */
export interface Serve {
    process: ChildProcess;
    /** Everything it printed on stderr (audit lines included). */
    log(): string;
    stop(): Promise<void>;
}

/** Starts `catalyst serve --local-oidc` with `env` and resolves once it listens. */
export function startServe(env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Serve> {
    const child = spawn(process.execPath, [CATALYST, "serve", "--local-oidc"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const serve: Serve = {
        process: child,
        log: () => stderr,
        stop: () => new Promise((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
        }),
    };
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`catalyst serve did not listen within ${timeoutMs / 1000}s: ${stderr}`)), timeoutMs);
        child.stderr!.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
            if (/listening on https:/.test(stderr)) {
                clearTimeout(timer);
                resolve(serve);
            }
        });
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`catalyst serve exited with ${code}: ${stderr}`));
        });
    });
}

/** A GET or POST over HTTPS trusting `ca`; resolves with the status and body. */
export function https(url: string, ca: Buffer, options: { method?: string; token?: string; body?: string; contentType?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
        if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
        const req = request(url, { method: options.method ?? "GET", ca, headers }, (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        });
        req.on("error", reject);
        req.end(options.body);
    });
}

/** Asks the API server who the bearer of `token` is (a SelfSubjectReview): the status and user. */
export async function whoAmI(issuer: LocalIssuer, token: string): Promise<{ status: number; user?: string; groups?: string[] }> {
    const ca = readFileSync(issuer.caFile);
    const reply = await https(`${issuer.server}/apis/authentication.k8s.io/v1/selfsubjectreviews`, ca, {
        method: "POST", token, body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
    });
    if (reply.status !== 201 && reply.status !== 200) return { status: reply.status };
    const info = (JSON.parse(reply.body) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    return { status: reply.status, user: info.username, groups: info.groups };
}

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** The header and claims of a JWT (no verification). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
    const [header, claims] = token.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>);
    return { header, claims };
}

/** An ES256 JWT signed with `key` (for tokens the provider would never issue). */
export function signJwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
    const input = `${b64({ alg: "ES256", kid, typ: "JWT" })}.${b64(claims)}`;
    return `${input}.${sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

/** A token with `alg: none` and no signature. */
export function unsignedJwt(claims: Record<string, unknown>): string {
    return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

/** The private key of a JWK from the provider's key file. */
export function keyFromJwk(jwk: Record<string, string>): KeyObject {
    return createPrivateKey({ key: jwk, format: "jwk" });
}

/** A fresh P-256 key no issuer publishes. */
export function strangerKey(): KeyObject {
    return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 500): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}

/**
 * A person's browser, from `start` until a page matches `done`: follows redirects, submits the
 * provider's forms (their hidden fields) and fills in the sign-in form with `user`'s password,
 * or, `via` github, follows the sign-in page's GitHub link instead (the upstream signs it in).
 */
export async function browse(ca: Buffer, start: string, user: string, password: string, done: RegExp, via: "password" | "github" = "password"): Promise<Reply> {
    const browser = new CookieSession(ca);
    let url = new URL(start);
    let reply = await browser.request(url);
    for (let step = 0; step < 16 && !done.test(reply.body); step++) {
        const location = reply.headers.location;
        if (reply.status >= 300 && reply.status < 400 && location) {
            url = new URL(location, url);
            reply = await browser.request(url);
            continue;
        }
        const github = via === "github" ? /<a href="([^"]+)">Sign in with GitHub<\/a>/.exec(reply.body) : null;
        if (github !== null) {
            url = new URL(github[1].replace(/&amp;/g, "&"), url);
            reply = await browser.request(url);
            continue;
        }
        const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(reply.body);
        if (reply.status !== 200 || form === null) throw new Error(`no form at ${url.pathname} (HTTP ${reply.status}): ${reply.body.slice(0, 300)}`);
        const fields = new URLSearchParams();
        for (const input of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.set(input[1], input[2]);
        if (/name="password"/.test(form[2])) {
            fields.set("user", user);
            fields.set("password", password);
        }
        url = new URL(form[1].replace(/&amp;/g, "&"), url);
        reply = await browser.request(url, "POST", fields);
    }
    return reply;
}

/** Starts `catalyst login` with `args` and resolves with the URL its stderr names (matched by `pattern`), and its end. */
export function startLogin(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<{ url: string; stderr: () => string; kill: () => void; done: Promise<{ code: number | null; stdout: string }> }> {
    const child = spawn(process.execPath, [CATALYST, "login", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    const done = new Promise<{ code: number | null; stdout: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout })));
    return new Promise((resolve, reject) => {
        child.stderr.on("data", (c: Buffer) => {
            stderr += c.toString();
            const match = pattern.exec(stderr);
            if (match) resolve({ url: match[1], stderr: () => stderr, kill: () => void child.kill("SIGKILL"), done });
        });
        void done.then(() => reject(new Error(`catalyst login ${args.join(" ")} ended before printing a URL: ${stderr}`)));
    });
}
