import { IncomingMessage, Server, ServerResponse, createServer } from "http";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { authenticate, bearerToken, loadTokens, TokenTable } from "./auth";
import { createHandler, errorResponse, readJson, sendJson } from "./http";
import { createMcpServer } from "./mcp";
import { CatalystService, Library } from "./service";

/**
 * `catalyst serve` (HTTP API) and `catalyst mcp` (MCP over stdio, or streamable HTTP with
 * --port): the handlers of the commands ./command.ts declares. Both build one CatalystService over the
 * automation library, so they share its locks and the operation registry.
 */

export { CatalystService } from "./service";
export { createHandler } from "./http";
export { createMcpServer, TOOL_NAMES } from "./mcp";
export { loadTokens, TokenTable } from "./auth";
export { OperationRegistry, formatSse } from "./operations";

/** The parsed arguments of `catalyst serve` and `catalyst mcp` (declared in ./command.ts). */
export interface ServerArgs {
    /** Port to listen on; for `mcp`, unset means stdio. */
    port?: number;
    host: string;
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
    const { loadEnvironment, needsEnvironment } = await import("../automation/environment");
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
 * `catalyst serve`: runs the HTTP API until SIGINT/SIGTERM. Returns the exit code (2 for a bad
 * token table or preview config, 1 when the port cannot be bound).
 */
export async function runServeCommand(args: ServerArgs, library?: Library): Promise<number> {
    let tokens: TokenTable;
    let config: Record<string, unknown> | undefined;
    try {
        tokens = loadTokens();
        config = previewConfig();
    } catch (err) {
        stderr(`catalyst serve: ${(err as Error).message.split("\n")[0]}`);
        return 2;
    }
    if (tokens.size === 0) stderr("catalyst serve: warning: no tokens configured (CATALYST_API_TOKENS); every request will get 401");
    const service = new CatalystService(library ?? (await loadLibrary()), undefined, undefined, config);
    const server = createServer(createHandler({ service, tokens }));
    try {
        await listen(server, args);
    } catch (err) {
        stderr(`catalyst serve: ${(err as Error).message.split("\n")[0]}`);
        return 1;
    }
    stderr(`catalyst serve: listening on ${address(server)}`);
    return untilSignal(server);
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
export async function runMcpCommand(args: ServerArgs, library?: Library): Promise<number> {
    let tokens: TokenTable;
    let config: Record<string, unknown> | undefined;
    try {
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
