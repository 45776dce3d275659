import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { toApiError } from "./errors";
import { CatalystService, CreatePreviewInput, EnvironmentName, ExecInput, LogsInput } from "./service";

/**
 * The MCP server (`catalyst mcp`): the same operations as the HTTP API, as MCP tools, bound to
 * one caller. Over stdio the caller is the owner of CATALYST_MCP_TOKEN; over streamable HTTP
 * each request's bearer token picks the caller (see runMcpCommand in index.ts).
 */

/** Names of the tools, for clients and tests. */
export const TOOL_NAMES = ["list_environments", "get_environment", "create_preview", "destroy_preview", "get_operation", "get_logs", "exec_in_environment", "get_kubeconfig"] as const;

function ok(value: unknown): CallToolResult {
    return { content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value, null, 2) }] };
}

function failure(err: unknown): CallToolResult {
    const api = toApiError(err);
    const text = api === undefined ? "internal error" : `${api.kind}: ${api.message}`;
    return { isError: true, content: [{ type: "text", text }] };
}

async function guard(run: () => Promise<unknown>): Promise<CallToolResult> {
    try {
        return ok(await run());
    } catch (err) {
        return failure(err);
    }
}

const waitField = z.boolean().default(true).describe("Wait for the operation to finish (progress is sent as MCP progress notifications); false returns the operation id at once, for get_operation.");

interface ProgressExtra {
    _meta?: { progressToken?: string | number };
    sendNotification: (notification: { method: "notifications/progress"; params: { progressToken: string | number; progress: number; total?: number; message?: string } }) => Promise<void>;
}

/** Builds an MCP server whose tools act as `user`. */
export function createMcpServer(service: CatalystService, user: string, version = "0.1.0"): McpServer {
    const server = new McpServer({ name: "catalyst", version });
    const registry = service.registry;

    const follow = async (id: string, wait: boolean, extra: ProgressExtra) => {
        if (!wait) return registry.get(id);
        const token = extra._meta?.progressToken;
        if (token !== undefined) {
            let n = 0;
            const stop = registry.subscribe(id, (event) => {
                if (event === undefined) return;
                const message = event.type === "step" ? event.message : event.type === "resource" ? `${event.state} ${event.resourceType} ${event.name} (${event.done}/${event.total})` : event.type === "log" ? event.message : `done: ${event.status}`;
                void extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: ++n, message: message.slice(0, 300) } }).catch(() => undefined);
            });
            try {
                return await registry.wait(id);
            } finally {
                stop();
            }
        }
        return registry.wait(id);
    };

    server.registerTool("list_environments", {
        title: "List environments",
        description: "Lists every environment stack (production, staging, dev-<user>, pr-<n> previews, platform) with its tags: owner, branch, namespace, URL, expiry, resource count.",
        inputSchema: {},
        annotations: { readOnlyHint: true },
    }, () => guard(() => service.listEnvironments()));

    server.registerTool("get_environment", {
        title: "Get an environment",
        description: "Status of one environment: outputs, URL, namespace, last update, pods with readiness and the 20 most recent Kubernetes events of its namespace.",
        inputSchema: { environment: EnvironmentName },
        annotations: { readOnlyHint: true },
    }, ({ environment }) => guard(() => service.describe(environment)));

    server.registerTool("create_preview", {
        title: "Create or update a preview",
        description: "Creates (or updates) the preview environment of a pull request, stack pr-<n>, owned by the caller. Refused when the preview belongs to someone else or another operation runs on it. Same validation, locking and timeouts as `catalyst preview up`.",
        inputSchema: { ...CreatePreviewInput.shape, wait: waitField },
        annotations: { destructiveHint: false, idempotentHint: true },
    }, ({ wait, ...input }, extra) => guard(async () => follow((await service.createPreview(user, input)).id, wait, extra as unknown as ProgressExtra)));

    server.registerTool("destroy_preview", {
        title: "Destroy a preview",
        description: "Destroys a preview environment (pr-<n>) the caller owns and removes its stack. Production and staging cannot be changed through this server.",
        inputSchema: { environment: EnvironmentName, wait: waitField },
        annotations: { destructiveHint: true },
    }, ({ environment, wait }, extra) => guard(async () => follow((await service.destroyPreview(user, environment)).id, wait, extra as unknown as ProgressExtra)));

    server.registerTool("get_operation", {
        title: "Get an operation",
        description: "State and result of an operation started by create_preview or destroy_preview with wait=false.",
        inputSchema: { id: z.string().uuid().describe("Operation id."), wait: z.boolean().default(false).describe("Wait for it to finish.") },
        annotations: { readOnlyHint: true },
    }, ({ id, wait }, extra) => guard(() => follow(id, wait, extra as unknown as ProgressExtra)));

    server.registerTool("get_logs", {
        title: "Get logs",
        description: "The tail of a pod's or a deployment's logs in an environment the caller owns: at most 2000 lines and 256 KiB.",
        inputSchema: LogsInput.shape,
        annotations: { readOnlyHint: true },
    }, (input) => guard(() => service.logs(user, input)));

    server.registerTool("exec_in_environment", {
        title: "Run a command in a pod",
        description: "Runs a command (an argv array, never a shell string) in a pod of an environment the caller owns. Output is capped (64 KiB per stream by default) and the run is time-limited (30 s by default, 120 s max). Returns exitCode, stdout, stderr, truncated, timedOut.",
        inputSchema: ExecInput.shape,
        annotations: { destructiveHint: true, openWorldHint: false },
    }, (input) => guard(() => service.exec(user, input)));

    server.registerTool("get_kubeconfig", {
        title: "Get a namespace kubeconfig",
        description: "A kubeconfig limited to the namespace of an environment the caller owns, with a one-hour token of its owner service account. Treat it as a secret.",
        inputSchema: { environment: EnvironmentName },
        annotations: { readOnlyHint: true },
    }, ({ environment }) => guard(() => service.kubeconfig(user, environment)));

    return server;
}
