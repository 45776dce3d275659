import { IncomingMessage, ServerResponse } from "http";
import { PassThrough } from "stream";
import { streamActivity } from "./activity";
import { authenticate, bearerToken, TokenTable } from "./auth";
import { parseResourceOperationId, requestedOperation } from "./environment-progress";
import { streamResourceOperation } from "./environment-watch";
import { ApiError, toApiError } from "./errors";
import { formatSse } from "./operations";
import type { PreviewResourceView } from "./resources";
import { CatalystService } from "./service";

/**
 * The HTTP API (`catalyst serve`): REST + JSON over node:http. Bearer-token auth, bodies
 * validated, typed errors mapped to statuses, long operations answered 202 with an operation
 * id, progress as server-sent events. Logs one line per request: never headers or bodies.
 */

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Options of the HTTP handler. */
export interface HttpOptions {
    service: CatalystService;
    tokens: TokenTable;
    /** Access log; default: stderr. */
    log?: (line: string) => void;
    /** `POST /webhooks/github` (webhook.ts), when configured: signed by GitHub, not by a bearer token. */
    webhook?: { path: string; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> };
    /**
     * Authenticates a request that has no Authorization header by its session (the dashboard's
     * cookie, stacks/dashboard): the user, undefined without a session, or a refusal (403, e.g.
     * a state-changing request without its CSRF token).
     */
    session?: (req: IncomingMessage) => string | undefined | { refused: string };
    /** The sleeping page and wake links (sleeping.ts): answers a preview's host and `/sleeping/wake` before any route. */
    sleeping?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

/** Reads a JSON body (400 when it is not JSON, 413 past the limit). Empty bodies are `{}`. */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw new ApiError("too-large", `request body over ${limit} bytes`);
        chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (text.trim() === "") return {};
    try {
        return JSON.parse(text) as unknown;
    } catch {
        throw new ApiError("malformed", "request body is not valid JSON");
    }
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)), "cache-control": "no-store", ...headers });
    res.end(text);
}

/** The JSON error body and status of any error; internal errors show no detail. */
export function errorResponse(err: unknown): { status: number; body: { error: { code: string; message: string } } } {
    const api = toApiError(err);
    if (api === undefined) return { status: 500, body: { error: { code: "internal", message: "internal error" } } };
    return { status: api.status, body: { error: { code: api.kind, message: api.message } } };
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], user: string, url: URL) => Promise<void>;

interface Route {
    method: string;
    pattern: RegExp;
    handler: Handler;
}

function decodeSegment(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        throw new ApiError("malformed", "bad percent-encoding in the path");
    }
}

/** The request handler (exported for tests, which can call it without a socket). */
export function createHandler(options: HttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
    const { service, tokens } = options;
    const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
    const accepted = (res: ServerResponse, view: { id: string }) =>
        sendJson(res, 202, { operation: view, links: { status: `/operations/${view.id}`, events: `/operations/${view.id}/events` } }, { location: `/operations/${view.id}` });
    // Resource mode: the Environment is the operation; its status is at /previews/:name, its
    // progress at /operations/<environment>.<generation>/events (environment-progress.ts).
    const written = (res: ServerResponse, view: PreviewResourceView, action: "create" | "destroy", user: string) => {
        const operation = requestedOperation(view, action, user);
        sendJson(res, 202, { environment: view, operation, links: { status: `/previews/${view.environment}`, operation: `/operations/${operation.id}`, events: `/operations/${operation.id}/events` } }, { location: `/previews/${view.environment}` });
    };
    const previews = () => {
        if (service.previews === undefined) throw new ApiError("not-found", "no Environment resources: this server runs previews itself (CATALYST_CONTROL_PLANE_NAMESPACE is not set); see /operations/:id");
        return service.previews;
    };

    const routes: Route[] = [
        { method: "GET", pattern: /^\/environments$/, handler: async (_req, res) => sendJson(res, 200, { environments: await service.listEnvironments() }) },
        { method: "GET", pattern: /^\/environments\/([^/]+)$/, handler: async (_req, res, [name]) => sendJson(res, 200, await service.describe(name)) },
        {
            method: "GET",
            pattern: /^\/environments\/([^/]+)\/operations$/,
            handler: async (_req, res, [name], _user, url) => {
                const limit = url.searchParams.get("limit");
                sendJson(res, 200, await service.operations({ environment: name, limit: limit === null ? undefined : Number(limit) }));
            },
        },
        { method: "GET", pattern: /^\/environments\/([^/]+)\/resources$/, handler: async (_req, res, [name]) => sendJson(res, 200, await service.resources(name)) },
        {
            method: "POST",
            pattern: /^\/previews$/,
            handler: async (req, res, _p, user) => {
                const body = await readJson(req);
                return service.previews ? written(res, await service.previews.create(user, body), "create", user) : accepted(res, await service.createPreview(user, body));
            },
        },
        { method: "GET", pattern: /^\/previews\/([^/]+)$/, handler: async (_req, res, [name]) => sendJson(res, 200, await previews().get(name)) },
        {
            method: "DELETE",
            pattern: /^\/environments\/([^/]+)$/,
            handler: async (_req, res, [name], user) => (service.previews ? written(res, await service.previews.destroy(user, name), "destroy", user) : accepted(res, await service.destroyPreview(user, name))),
        },
        { method: "POST", pattern: /^\/previews\/([^/]+)\/sleep$/, handler: async (_req, res, [name], user) => accepted(res, await service.sleepOrWake(user, name, "sleep")) },
        { method: "POST", pattern: /^\/previews\/([^/]+)\/wake$/, handler: async (_req, res, [name], user) => accepted(res, await service.sleepOrWake(user, name, "wake")) },
        {
            method: "GET",
            pattern: /^\/environments\/([^/]+)\/logs$/,
            handler: async (req, res, [name], user, url) => {
                const q = url.searchParams;
                const num = (key: string) => (q.has(key) ? Number(q.get(key)) : undefined);
                const body = { environment: name, pod: q.get("pod") ?? undefined, deployment: q.get("deployment") ?? undefined, container: q.get("container") ?? undefined, lines: num("lines"), maxBytes: num("maxBytes") };
                const follow = q.get("follow");
                if (follow !== null && follow !== "true" && follow !== "false") throw new ApiError("invalid", `follow: must be true or false, got "${follow}"`);
                if (follow !== "true") return sendJson(res, 200, await service.logs(user, body));
                // Followed logs: plain text as the container writes it, until it stops or the caller hangs up.
                const out = new PassThrough();
                const { stop } = await service.followLogs(user, body, out);
                res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
                out.pipe(res);
                req.on("close", stop);
                await new Promise<void>((resolve) => res.once("close", resolve));
            },
        },
        {
            method: "POST",
            pattern: /^\/environments\/([^/]+)\/exec$/,
            handler: async (req, res, [name], user) => {
                const body = await readJson(req);
                if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError("invalid", "body: must be a JSON object");
                sendJson(res, 200, await service.exec(user, { ...body, environment: name }));
            },
        },
        {
            method: "GET",
            pattern: /^\/environments\/([^/]+)\/kubeconfig$/,
            handler: async (_req, res, [name], user) => sendJson(res, 200, { kubeconfig: await service.kubeconfig(user, name) }),
        },
        { method: "GET", pattern: /^\/events$/, handler: (req, res) => streamActivity(service.registry, req, res, service.previews?.activity) },
        { method: "GET", pattern: /^\/operations\/([^/]+)$/, handler: async (_req, res, [id], user) => sendJson(res, 200, await service.operation(user, id)) },
        {
            method: "GET",
            pattern: /^\/operations\/([^/]+)\/events$/,
            handler: async (req, res, [id], user) => {
                const resource = service.previews && parseResourceOperationId(id);
                if (service.previews && resource) return streamResourceOperation(service.previews, resource, user, req, res);
                await service.operation(user, id); // 404 or 403 before the stream starts
                res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
                let seq = 0;
                await new Promise<void>((resolve, reject) => {
                    service.subscribe(user, id, (event) => {
                        if (event === undefined) {
                            res.write(formatSse("end", service.registry.get(id), seq++));
                            res.end();
                            resolve();
                            return;
                        }
                        res.write(formatSse(event.type, event, seq++));
                    }).then((stop) => req.on("close", () => {
                        stop();
                        resolve();
                    }), reject);
                });
            },
        },
    ];

    const authenticateRequest = (req: IncomingMessage): string => {
        const byCookie = req.headers.authorization === undefined ? options.session?.(req) : undefined;
        if (typeof byCookie === "object") throw new ApiError("forbidden", byCookie.refused);
        return byCookie ?? authenticate(tokens, bearerToken(req.headers.authorization));
    };

    return (req, res) => {
        const started = Date.now();
        const url = new URL(req.url ?? "/", "http://localhost");
        let user = "-";
        res.on("finish", () => log(`${new Date().toISOString()} ${req.method} ${url.pathname} ${res.statusCode} ${user} ${Date.now() - started}ms`));
        void (async () => {
            try {
                if (req.method === "GET" && url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
                if (req.method === "GET" && url.pathname === "/readyz") {
                    return tokens.size > 0 ? sendJson(res, 200, { status: "ready" }) : sendJson(res, 503, { status: "no tokens configured" });
                }
                if (options.webhook !== undefined && url.pathname === options.webhook.path) return await options.webhook.handle(req, res);
                if (options.sleeping !== undefined && (await options.sleeping(req, res, url))) return;
                const matches = routes.map((route) => ({ route, m: route.pattern.exec(url.pathname) })).filter((x) => x.m !== null);
                if (matches.length === 0) throw new ApiError("not-found", `no route ${url.pathname}`);
                const match = matches.find((x) => x.route.method === req.method);
                if (match === undefined) {
                    return sendJson(res, 405, { error: { code: "method-not-allowed", message: `${req.method} not allowed here` } }, { allow: matches.map((x) => x.route.method).join(", ") });
                }
                // Authentication before the body is read: a bad token creates nothing.
                user = authenticateRequest(req);
                const params = (match.m as RegExpExecArray).slice(1).map(decodeSegment);
                await match.route.handler(req, res, params, user, url);
            } catch (err) {
                const { status, body } = errorResponse(err);
                if (status === 500) log(`internal error on ${req.method} ${url.pathname}: ${(err as Error).message?.split("\n")[0]}`);
                if (res.headersSent) {
                    res.end();
                } else {
                    sendJson(res, status, body, status === 401 ? { "www-authenticate": "Bearer" } : {});
                }
            }
        })();
    };
}
