import { AnyCommand, defineCommand, OptionSpec } from "../command";
import type { ServeArgs, ServerArgs } from "./index";

/**
 * The HTTP API's and the MCP server's commands (`catalyst serve`, `catalyst mcp`), declared with
 * the same kit as the CLI's; their handlers live in ./index.ts and load only when run.
 */

function parsePort(text: string, flag: string): number {
    if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`${flag}: must be a port number 0-65535, got "${text}"`);
    return Number(text);
}

const host: OptionSpec<string> = { value: "<addr>", description: "Address to listen on (default 127.0.0.1)", default: "127.0.0.1" };

/** `catalyst serve` and `catalyst mcp`. */
export function apiCommands(): AnyCommand[] {
    return [
        defineCommand<ServeArgs>({
            name: "serve",
            summary: "HTTP API over the same library for web apps (docs/api.md).",
            options: {
                port: { value: "<n>", description: "Port to listen on; 0: any free port (default 8080, or the issuer URL's port with the OpenID provider)", parse: parsePort },
                host,
                localOidc: { description: "Also host the local cluster's OpenID provider at /oidc, over HTTPS on its issuer's port (docs/security.md)" },
            },
            notes: [
                "Tokens: CATALYST_API_TOKENS ('{\"<token>\":\"<user>\"}') or CATALYST_API_TOKENS_FILE. Runs until SIGINT or SIGTERM.",
                "The web dashboard is at / (docs/dashboard.md): sign in with a token; COOKIE_SECRET (32+ characters) signs its sessions, else a random key per run.",
                "The OpenID provider is on with CATALYST_OIDC_ISSUER (and the other CATALYST_OIDC_* variables) or --local-oidc.",
                "GitHub webhook at POST /webhooks/github with CATALYST_GITHUB_WEBHOOK_SECRET (at least 16 characters); the preview comment is written with CATALYST_GITHUB_TOKEN " +
                    "(CATALYST_GITHUB_API_URL, default https://api.github.com); pushes to branches matching CATALYST_WEBHOOK_PUSH_BRANCHES get a development environment each.",
            ],
            run: async (input) => (await import("./index")).runServeCommand(input),
        }),
        defineCommand<ServerArgs>({
            name: "mcp",
            summary: "MCP server for AI agents, on stdio or streamable HTTP (docs/api.md).",
            options: { port: { value: "<n>", description: "Serve streamable HTTP at /mcp on this port instead of stdio", parse: parsePort }, host },
            notes: ["On stdio the caller is the user of CATALYST_MCP_TOKEN; over HTTP, each request's bearer token."],
            run: async (input) => (await import("./index")).runMcpCommand(input),
        }),
    ];
}
