import { IncomingMessage, Server, ServerResponse, createServer } from "http";
import { createServer as createHttpsServer } from "https";
import { parseArgs } from "util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { authenticate, bearerToken, loadTokens, TokenTable } from "./auth";
import { createHandler, errorResponse, readJson, sendJson } from "./http";
import { createMcpServer } from "./mcp";
import { CatalystService, Library } from "./service";
import type { ServeOidc } from "../oidc/serve";

/**
 * `catalyst serve` (HTTP API) and `catalyst mcp` (MCP over stdio, or streamable HTTP with
 * --port): entry points the CLI dispatches to. Both build one CatalystService over the
 * automation library, so they share its locks and the operation registry.
 */

export { CatalystService } from "./service";
export { createHandler, startHttpServer } from "./http";
export { createMcpServer, TOOL_NAMES } from "./mcp";
export { loadTokens, TokenTable } from "./auth";
export { OperationRegistry, formatSse } from "./operations";

const USAGE = {
    serve: "usage: catalyst serve [--port <n>] [--host <addr>] [--local-oidc]\n  HTTP API (docs/api.md). Tokens: CATALYST_API_TOKENS ('{\"<token>\":\"<user>\"}') or CATALYST_API_TOKENS_FILE.\n" +
        "  OpenID provider at /oidc with CATALYST_OIDC_ISSUER, or --local-oidc for the local cluster's issuer (docs/security.md).",
    mcp: "usage: catalyst mcp [--port <n>] [--host <addr>]\n  MCP server over stdio (caller: the user of CATALYST_MCP_TOKEN), or streamable HTTP at /mcp with --port (caller: each request's bearer token).",
};

interface ServerArgs {
    port?: number;
    host: string;
    localOidc?: boolean;
}

function parseServerArgs(command: "serve" | "mcp", argv: readonly string[]): ServerArgs | "help" {
    const { values } = parseArgs({ args: [...argv], options: { port: { type: "string" }, host: { type: "string" }, help: { type: "boolean", short: "h" }, ...(command === "serve" ? { "local-oidc": { type: "boolean" as const } } : {}) }, strict: true });
    if (values.help === true) return "help";
    let port: number | undefined;
    if (values.port !== undefined) {
        if (!/^[0-9]{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new Error(`--port: must be a port number 0-65535, got "${values.port}"`);
        port = Number(values.port);
    }
    return { port, host: values.host ?? "127.0.0.1", localOidc: values["local-oidc"] === true };
}

/** Operator-set config for every preview (CATALYST_API_PREVIEW_CONFIG, a JSON object), or undefined. */
function previewConfig(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> | undefined {
    const text = env.CATALYST_API_PREVIEW_CONFIG;
    if (text === undefined || text.trim() === "") return undefined;
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("CATALYST_API_PREVIEW_CONFIG: must be a JSON object of config values");
    return value as Record<string, unknown>;
}

/** The toolchain environment (tools/env.sh) and the automation library, loaded lazily. */
async function loadLibrary(): Promise<Library> {
    const { loadEnvironment, needsEnvironment } = await import("../automation/cli/environment");
    const { REPO_ROOT } = await import("../automation/workspace");
    if (needsEnvironment(process.env)) loadEnvironment(REPO_ROOT);
    const { Automation } = await import("../automation");
    return new Automation({ repoRoot: REPO_ROOT });
}

function stderr(line: string): void {
    process.stderr.write(`${line}\n`);
}

/** Resolves when SIGINT or SIGTERM arrives, after closing `server`. */
function untilSignal(server?: Server): Promise<number> {
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

function listen(server: Server, args: ServerArgs): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(args.port, args.host, () => resolve());
    });
}

function address(server: Server): string {
    const a = server.address();
    return typeof a === "object" && a !== null ? `http://${a.address}:${a.port}` : String(a);
}

/**
 * `catalyst serve`: runs the HTTP API until SIGINT/SIGTERM. Returns the exit code (2 for bad
 * arguments or token table, 1 when the port cannot be bound).
 */
export async function runServeCommand(argv: readonly string[], library?: Library): Promise<number> {
    let args: ServerArgs | "help";
    let tokens: TokenTable;
    let config: Record<string, unknown> | undefined;
    let oidc: ServeOidc | undefined;
    try {
        args = parseServerArgs("serve", argv);
        if (args === "help") {
            process.stdout.write(`${USAGE.serve}\n`);
            return 0;
        }
        tokens = loadTokens();
        config = previewConfig();
        // Loaded only when configured: the provider is an ES module graph of its own.
        oidc = args.localOidc || process.env.CATALYST_OIDC_ISSUER ? await (await import("../oidc/serve")).serveOidc(process.env, args.localOidc === true) : undefined;
        // With the provider, the issuer URL says where to listen.
        args.port ??= oidc?.port ?? 8080;
    } catch (err) {
        stderr(`catalyst serve: ${(err as Error).message.split("\n")[0]}`);
        return 2;
    }
    if (tokens.size === 0) stderr("catalyst serve: warning: no tokens configured (CATALYST_API_TOKENS); every request will get 401");
    const service = new CatalystService(library ?? (await loadLibrary()), undefined, undefined, config);
    const api = createHandler({ service, tokens });
    const handler = oidc ? (req: IncomingMessage, res: ServerResponse) => void (oidc.service.handle(req, res) || api(req, res)) : api;
    const server = oidc?.tls ? createHttpsServer(oidc.tls, handler) : createServer(handler);
    try {
        await listen(server, args);
    } catch (err) {
        oidc?.service.close();
        stderr(`catalyst serve: ${(err as Error).message.split("\n")[0]}`);
        return 1;
    }
    stderr(`catalyst serve: listening on ${address(server).replace(/^http:/, oidc?.tls ? "https:" : "http:")}${oidc ? `; OpenID provider ${oidc.service.issuer}` : ""}`);
    const code = await untilSignal(server);
    oidc?.service.close();
    return code;
}

/** Streamable HTTP transport at /mcp, stateless: one MCP server per request, bound to its caller. */
export function mcpHttpHandler(service: CatalystService, tokens: TokenTable): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
        void (async () => {
            try {
                const url = new URL(req.url ?? "/", "http://localhost");
                if (url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
                if (url.pathname !== "/mcp") return sendJson(res, 404, { error: { code: "not-found", message: "MCP is served at /mcp" } });
                const user = authenticate(tokens, bearerToken(req.headers.authorization));
                if (req.method !== "POST") {
                    return sendJson(res, 405, { jsonrpc: "2.0", error: { code: -32000, message: "method not allowed: this server is stateless, POST only" }, id: null }, { allow: "POST" });
                }
                const body = await readJson(req, 1024 * 1024);
                const server = createMcpServer(service, user);
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
export async function runMcpCommand(argv: readonly string[], library?: Library): Promise<number> {
    let args: ServerArgs | "help";
    let tokens: TokenTable;
    let config: Record<string, unknown> | undefined;
    try {
        args = parseServerArgs("mcp", argv);
        if (args === "help") {
            process.stdout.write(`${USAGE.mcp}\n`);
            return 0;
        }
        tokens = loadTokens();
        config = previewConfig();
    } catch (err) {
        stderr(`catalyst mcp: ${(err as Error).message.split("\n")[0]}`);
        return 2;
    }
    const service = new CatalystService(library ?? (await loadLibrary()), undefined, undefined, config);
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
    const http = createServer(mcpHttpHandler(service, tokens));
    try {
        await listen(http, args);
    } catch (err) {
        stderr(`catalyst mcp: ${(err as Error).message.split("\n")[0]}`);
        return 1;
    }
    stderr(`catalyst mcp: streamable HTTP on ${address(http)}/mcp`);
    return untilSignal(http);
}
