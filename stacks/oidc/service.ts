import { randomBytes } from "crypto";
import { IncomingMessage, ServerResponse } from "http";
import { AuditSink, auditLine, stderrAudit } from "./audit";
import { githubAuthorizeUrl, githubSignIn } from "./github";
import { Identity } from "./identity";
import { SecretKeyStore } from "./key-secret";
import { FileKeyStore, KeySet, KeyStore, providerJwks, rotate, signingKey } from "./keys";
import { escapeHtml, signInPage } from "./pages";
import { createProvider, Provider } from "./provider";
import { ProviderSettings } from "./settings";
import { ProviderStore } from "./store";
import { findLocalUser, verifyPassword } from "./users";

/**
 * The OpenID provider as a service `catalyst serve` mounts at /oidc: the oidc-provider instance,
 * the sign-in pages (local users file, GitHub), and the signing keys, checked on a schedule:
 * rotated when due, reloaded when another replica rotated them. A new key set means a new
 * provider instance with the new JWKS; sessions, grants and refresh tokens live in one store
 * all instances share (store.ts), so they carry over.
 */

/** What {@link startOidcService} returns. */
export interface OidcService {
    /** The issuer URL. */
    readonly issuer: string;
    /** Handles `req` when its path is under the issuer's; returns false for anything else. */
    handle(req: IncomingMessage, res: ServerResponse): boolean;
    /** True while the provider knows the person behind `sub` (a removed users-file entry is not). */
    knows(sub: string): boolean;
    /** The key id that signs now. */
    signingKid(): string;
    /** Rereads the key store and rotates when due (what the schedule runs). */
    checkKeys(): Promise<void>;
    /** Stops the schedule. */
    close(): void;
}

/** Options besides the settings (tests and the server's log). */
export interface OidcServiceOptions {
    audit?: AuditSink;
    /** Where warnings go (a failed key check); default stderr. */
    warn?: (line: string) => void;
}

const FORM_LIMIT = 8 * 1024;
const PENDING_GITHUB_MS = 10 * 60_000;

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
    return new Promise((resolve, reject) => {
        let size = 0;
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > FORM_LIMIT) {
                reject(new Error("form too large"));
                req.destroy();
            } else {
                chunks.push(chunk);
            }
        });
        req.on("end", () => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
        req.on("error", reject);
    });
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
    res.writeHead(status, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
        "x-frame-options": "DENY",
    });
    res.end(html);
}

function keyStore(settings: ProviderSettings): KeyStore {
    return settings.keys.kind === "file" ? new FileKeyStore(settings.keys.file) : new SecretKeyStore(settings.keys.namespace, settings.keys.name);
}

function kids(set: KeySet): string {
    return set.keys.map((k) => `${k.kid}${k.retiredAt ? "-" : "+"}`).join(",");
}

/** Loads (or creates) the signing keys, builds the provider and starts the key schedule. */
export async function startOidcService(settings: ProviderSettings, options: OidcServiceOptions = {}): Promise<OidcService> {
    const audit = options.audit ?? stderrAudit;
    const warn = options.warn ?? ((line: string) => void process.stderr.write(`${line}\n`));
    const issuerUrl = new URL(settings.issuer);
    const base = issuerUrl.pathname.replace(/\/$/, "");
    const keysStore = keyStore(settings);
    const policy = { rotateAfterMs: settings.keyRotationMs, tokenTtlMs: settings.tokenTtlMs };
    // Sessions and interactions are signed with these; they only need to live as long as the process.
    const cookieKeys = [randomBytes(32).toString("base64url")];
    const github = new Map<string, Identity>();
    const pendingGithub = new Map<string, { uid: string; expires: number }>();

    const findIdentity = (sub: string): Identity | undefined => {
        if (sub.startsWith("local:") && settings.usersFile) return findLocalUser(settings.usersFile, sub);
        if (sub.startsWith("github:")) return github.get(sub);
        return undefined;
    };
    const store = new ProviderStore();
    const hooks = { findIdentity, interactionPath: (uid: string) => `${base}/interaction/${uid}`, audit, adapter: store.adapter() };

    let keys = await keysStore.load();
    const first = rotate(keys, new Date(), policy);
    if (first !== keys) await keysStore.save(first);
    keys = first;
    let provider: Provider = createProvider(settings, providerJwks(keys), cookieKeys, hooks);
    let callback = provider.callback();

    const checkKeys = async () => {
        const loaded = await keysStore.load();
        const next = rotate(loaded, new Date(), policy);
        if (next !== loaded) {
            await keysStore.save(next);
            audit(auditLine("keys-rotated", { kid: signingKey(next).kid }));
        }
        if (kids(next) !== kids(keys)) {
            provider = createProvider(settings, providerJwks(next), cookieKeys, hooks);
            callback = provider.callback();
            keys = next;
        }
    };
    let checking = false;
    const timer = setInterval(() => {
        if (checking) return;
        checking = true;
        checkKeys().catch((err: Error) => warn(`catalyst serve: oidc: key check failed (${keysStore.describe()}): ${err.message.split("\n")[0]}`))
            .finally(() => { checking = false; });
    }, settings.keyReloadMs);
    timer.unref();

    const githubCallback = (uid: string) => `${issuerUrl.origin}${base}/interaction/${uid}/github/callback`;

    const finishLogin = async (req: IncomingMessage, res: ServerResponse, identity: Identity, method: string) => {
        audit(auditLine("sign-in", { user: identity.username, method, client: settings.clientId, ip: req.socket.remoteAddress }));
        await provider.interactionFinished(req, res, { login: { accountId: identity.sub } }, { mergeWithLastSubmission: false });
    };

    const interaction = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
        const match = new RegExp(`^${base}/interaction/([A-Za-z0-9_-]+)(/login|/github|/github/callback)?$`).exec(url.pathname);
        if (match === null) return sendHtml(res, 404, "not found");
        const [, uid, action = ""] = match;
        const details = await provider.interactionDetails(req, res);
        if (details.uid !== uid) return sendHtml(res, 400, "this sign-in page belongs to another request; start again");
        const page = (status: number, error?: string, user?: string) => sendHtml(res, status, signInPage(`${base}/interaction/${uid}/login`, {
            password: settings.usersFile !== undefined,
            githubUrl: settings.github ? `${base}/interaction/${uid}/github` : undefined,
            error,
            user,
        }));
        if (action === "" && req.method === "GET" && details.prompt.name === "consent") {
            // The clients are the project's own CLI and dashboard (first party): what they ask for is
            // granted without a consent page. oidc-provider asks native clients every time; answer here.
            const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session?.accountId, clientId: String(details.params.client_id) });
            if (grant === undefined) return sendHtml(res, 400, "the grant of this sign-in is gone; start again");
            const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
            if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
            if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
            const grantId = await grant.save();
            await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
            return;
        }
        if (action === "" && req.method === "GET") return page(200);
        if (action === "/login" && req.method === "POST" && settings.usersFile) {
            const form = await readForm(req);
            const user = form.get("user") ?? "";
            const identity = await verifyPassword(settings.usersFile, user, form.get("password") ?? "");
            if (identity === undefined) {
                audit(auditLine("sign-in-refused", { user: user.slice(0, 64), method: "password", client: settings.clientId, ip: req.socket.remoteAddress, reason: "wrong user name or password" }));
                return page(401, "Wrong user name or password.", user);
            }
            return finishLogin(req, res, identity, "password");
        }
        if (action === "/github" && req.method === "GET" && settings.github) {
            const state = randomBytes(24).toString("base64url");
            pendingGithub.set(state, { uid, expires: Date.now() + PENDING_GITHUB_MS });
            res.writeHead(303, { location: githubAuthorizeUrl(settings.github, githubCallback(uid), state), "cache-control": "no-store" });
            res.end();
            return;
        }
        if (action === "/github/callback" && req.method === "GET" && settings.github) {
            const state = url.searchParams.get("state") ?? "";
            const pending = pendingGithub.get(state);
            pendingGithub.delete(state);
            if (pending === undefined || pending.uid !== uid || pending.expires < Date.now()) return page(400, "The GitHub sign-in expired or was not started here; try again.");
            try {
                const identity = await githubSignIn(settings.github, url.searchParams.get("code") ?? "", githubCallback(uid));
                github.set(identity.sub, identity);
                return await finishLogin(req, res, identity, "github");
            } catch (err) {
                audit(auditLine("sign-in-refused", { method: "github", client: settings.clientId, ip: req.socket.remoteAddress, reason: (err as Error).message }));
                return page(403, (err as Error).message);
            }
        }
        return sendHtml(res, 405, "method not allowed");
    };

    return {
        issuer: settings.issuer,
        knows: (sub) => findIdentity(sub) !== undefined,
        signingKid: () => signingKey(keys).kid,
        checkKeys,
        close: () => {
            clearInterval(timer);
            store.close();
        },
        handle(req, res) {
            const url = new URL(req.url ?? "/", settings.issuer);
            if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return false;
            if (url.pathname.startsWith(`${base}/interaction/`)) {
                interaction(req, res, url).catch((err: Error & { error?: string }) => {
                    // Expired or unknown interactions (SessionNotFound) are the user's to restart.
                    if (!res.headersSent) sendHtml(res, 400, `<p>${escapeHtml(err.error ?? "error")}: ${escapeHtml(err.message.split("\n")[0])}</p><p>Start the sign-in again.</p>`);
                    else res.end();
                });
                return true;
            }
            // oidc-provider takes the mount path from originalUrl minus url, as under express.
            (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
            const rest = (req.url ?? "/").slice(base.length);
            req.url = rest.startsWith("/") ? rest : `/${rest}`;
            callback(req, res);
            return true;
        },
    };
}
