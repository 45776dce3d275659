import { IncomingMessage, Server, ServerResponse, createServer } from "http";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { authenticate, bearerToken, loadTokens, TokenTable } from "./auth";
import { errorResponse, readJson, sendJson } from "./http";
import { HostAllowList, hostAllowList, refusedHeader } from "./hosts";
import { loadLibrary } from "./library";
import { createMcpServer, LogLevels } from "./mcp";
import { PreviewResources } from "./resources";
import { CatalystService, Library } from "./service";

/**
 * The HTTP API's and the MCP server's entry points: `catalyst mcp` (MCP over stdio, or streamable
 * HTTP with --port), declared in ./command.ts, and what `catalyst serve` composes the HTTP API
 * from (stacks/serve: the API with the dashboard, the OpenID provider and the sleeping page).
 * Both build one CatalystService over the automation library, so they share its locks and the
 * operation registry. Nothing here knows the dashboard.
 */

export { CatalystService } from "./service";
export { createHandler } from "./http";
export { createMcpServer, ENVIRONMENT_URI_TEMPLATE, TOOL_NAMES } from "./mcp";
export { loadTokens, TokenTable } from "./auth";
export { OperationRegistry, formatSse } from "./operations";
export { ActivityRegistry } from "./activity";
export { hostAllowList, LOOPBACK_HOSTS, refusedHeader } from "./hosts";
export type { HostAllowList } from "./hosts";
export { DEFAULT_TOOLCHAIN_TIMEOUT_SECONDS, loadLibrary } from "./library";
export type { LibraryLoader } from "./library";
export { previewOfRequest, sleepingPages } from "./sleeping";
export { createWebhook, WEBHOOK_PATH } from "./webhook";
export type { WebhookLibrary } from "./webhook";
export type { Library } from "./service";
export type { PreviewResources } from "./resources";

/** The parsed arguments of `catalyst mcp` (./command.ts) and the listener part of `catalyst serve`'s (stacks/serve). */
export interface ServerArgs {
    /** Port to listen on; for `mcp`, unset means stdio. */
    port?: number;
    host: string;
}

/** Operator-set config for every preview (CATALYST_API_PREVIEW_CONFIG, a JSON object), or undefined. */
export function previewConfig(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> | undefined {
    const text = env.CATALYST_API_PREVIEW_CONFIG;
    if (text === undefined || text.trim() === "") return undefined;
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("CATALYST_API_PREVIEW_CONFIG: must be a JSON object of config values");
    return value as Record<string, unknown>;
}

/**
 * Resource mode, when CATALYST_CONTROL_PLANE_NAMESPACE names the control-plane namespace:
 * previews become Environment resources of the Project CATALYST_CONTROL_PLANE_PROJECT
 * (default `default`). Throws naming the variable when a value is malformed.
 */
export async function previewResources(config: Record<string, unknown> | undefined, env: NodeJS.ProcessEnv = process.env): Promise<PreviewResources | undefined> {
    const { controlPlaneNamespace, controlPlaneProject, CONTROL_PLANE_PROJECT_ENV } = await import("../resources/client");
    const namespace = controlPlaneNamespace(undefined, env);
    if (namespace === undefined) return undefined;
    // The operator's preview config is a guard rail: in resource mode the Project's template takes its place, so it must not be dropped silently.
    if (config !== undefined) throw new Error("CATALYST_API_PREVIEW_CONFIG: not applied in resource mode (CATALYST_CONTROL_PLANE_NAMESPACE); put it in the Project's spec.preview.config instead");
    const project = controlPlaneProject(undefined, env, CONTROL_PLANE_PROJECT_ENV);
    const { clusterResources } = await import("../resources/kube");
    return new PreviewResources(clusterResources(namespace), project);
}

/** Loads the library for `command`, or writes one line and returns undefined. */
export async function libraryOrNothing(command: "serve" | "mcp"): Promise<Library | undefined> {
    try {
        return await loadLibrary(command);
    } catch (err) {
        stderr(`catalyst ${command}: ${(err as Error).message.split("\n")[0]}`);
        return undefined;
    }
}

export function stderr(line: string): void {
    process.stderr.write(`${line}\n`);
}

/** Resolves when SIGINT or SIGTERM arrives, after closing `server`. */
export function untilSignal(server?: Server): Promise<number> {
    return new Promise((resolve) => {
        const stop = () => {
            if (server === undefined) return resolve(0);
            server.close(() => resolve(0));
            server.closeAllConnections();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
    });
}

export function listen(server: Server, args: ServerArgs): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(args.port, args.host, () => resolve());
    });
}

export function address(server: Server): string {
    const a = server.address();
    return typeof a === "object" && a !== null ? `http://${a.address}:${a.port}` : String(a);
}

/**
 * Streamable HTTP transport at /mcp, stateless: one MCP server per request, bound to its caller.
 * Host and Origin are checked first (403), then the bearer token (401).
 */
export function mcpHttpHandler(service: CatalystService, tokens: TokenTable, allowed: HostAllowList = hostAllowList({}), levels: LogLevels = new LogLevels()): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
        void (async () => {
            try {
                const refused = refusedHeader(allowed, req.headers.host, req.headers.origin);
                if (refused !== undefined) return sendJson(res, 403, { jsonrpc: "2.0", error: { code: -32000, message: `forbidden: ${refused}` }, id: null });
                const url = new URL(req.url ?? "/", "http://localhost");
                if (url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
                if (url.pathname !== "/mcp") return sendJson(res, 404, { error: { code: "not-found", message: "MCP is served at /mcp" } });
                const user = authenticate(tokens, bearerToken(req.headers.authorization));
                if (req.method !== "POST") {
                    return sendJson(res, 405, { jsonrpc: "2.0", error: { code: -32000, message: "method not allowed: this server is stateless, POST only" }, id: null }, { allow: "POST" });
                }
                const body = await readJson(req, 1024 * 1024);
                const server = createMcpServer(service, user, levels);
                const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false });
                res.on("close", () => {
                    void transport.close();
                    void server.close();
                });
                await server.connect(transport);
                await transport.handleRequest(req, res, body);
            } catch (err) {
                const { status, body } = errorResponse(err);
                if (!res.headersSent) sendJson(res, status, body, status === 401 ? { "www-authenticate": "Bearer" } : {});
                else res.end();
            }
        })();
    };
}

/**
 * `catalyst mcp`: MCP over stdio (the caller is the user of CATALYST_MCP_TOKEN in the token
 * table), or streamable HTTP at /mcp with --port. Runs until stdin closes or a signal.
 */
export async function runMcpCommand(args: ServerArgs, library?: Library): Promise<number> {
    let tokens: TokenTable;
    let config: Record<string, unknown> | undefined;
    let previews: PreviewResources | undefined;
    try {
        tokens = loadTokens();
        config = previewConfig();
        previews = await previewResources(config);
    } catch (err) {
        stderr(`catalyst mcp: ${(err as Error).message.split("\n")[0]}`);
        return 2;
    }
    let allowed: HostAllowList;
    try {
        allowed = hostAllowList();
    } catch (err) {
        stderr(`catalyst mcp: ${(err as Error).message}`);
        return 2;
    }
    const loaded = library ?? (await libraryOrNothing("mcp"));
    if (loaded === undefined) return 1;
    const service = new CatalystService(loaded, undefined, undefined, config, previews);
    if (args.port === undefined) {
        let user: string;
        try {
            user = authenticate(tokens, process.env.CATALYST_MCP_TOKEN);
        } catch {
            stderr("catalyst mcp: CATALYST_MCP_TOKEN is missing or not in the token table (CATALYST_API_TOKENS)");
            return 2;
        }
        const server = createMcpServer(service, user);
        const transport = new StdioServerTransport();
        const closed = new Promise<number>((resolve) => {
            transport.onclose = () => resolve(0);
            process.stdin.once("end", () => resolve(0));
        });
        await server.connect(transport);
        stderr(`catalyst mcp: serving on stdio as ${user}`);
        const code = await Promise.race([closed, untilSignal()]);
        await server.close();
        return code;
    }
    const http = createServer(mcpHttpHandler(service, tokens, allowed));
    try {
        await listen(http, args);
    } catch (err) {
        stderr(`catalyst mcp: ${(err as Error).message.split("\n")[0]}`);
        return 1;
    }
    stderr(`catalyst mcp: streamable HTTP on ${address(http)}/mcp`);
    return untilSignal(http);
}
