import { AnyCommand, defineCommand, OptionSpec } from "../command";
import type { ServerArgs } from "./index";

/**
 * The MCP server's command (`catalyst mcp`), declared with the same kit as the CLI's; its handler
 * lives in ./index.ts and loads only when run. `catalyst serve` is composed in stacks/serve.
 */

/** A port argument (0-65535); the message names the flag. */
export function parsePort(text: string, flag: string): number {
    if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`${flag}: must be a port number 0-65535, got "${text}"`);
    return Number(text);
}

/** `--host`, shared with `catalyst serve`. */
export const HOST_OPTION: OptionSpec<string> = { value: "<addr>", description: "Address to listen on (default 127.0.0.1)", default: "127.0.0.1" };

/** `catalyst mcp`. */
export function apiCommands(): AnyCommand[] {
    return [
        defineCommand<ServerArgs>({
            name: "mcp",
            summary: "MCP server for AI agents, on stdio or streamable HTTP (docs/api.md).",
            options: { port: { value: "<n>", description: "Serve streamable HTTP at /mcp on this port instead of stdio", parse: parsePort }, host: HOST_OPTION },
            notes: ["On stdio the caller is the user of CATALYST_MCP_TOKEN; over HTTP, each request's bearer token."],
            run: async (input) => (await import("./index")).runMcpCommand(input),
        }),
    ];
}
