import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolResult, ErrorCode, LoggingLevel, LoggingLevelSchema, McpError, SetLevelRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { CatalystEvent } from "../automation";
import { toApiError } from "./errors";
import type { PreviewResourceView } from "./resources";
import { CatalystService, CreatePreviewInput, EnvironmentName, ExecInput, LogsInput, OperationsInput } from "./service";

/**
 * The MCP server (`catalyst mcp`): the same operations as the HTTP API, as MCP tools, bound to
 * one caller. Over stdio the caller is the owner of CATALYST_MCP_TOKEN; over streamable HTTP
 * each request's bearer token picks the caller (see runMcpCommand in index.ts). Environments
 * are also resources (`catalyst://environments/{name}`), and the server has the logging
 * capability: operation progress goes out as log messages at the level the client set.
 */

/** URI template of the environment resources. */
export const ENVIRONMENT_URI_TEMPLATE = "catalyst://environments/{name}";

/** The resource URI of environment `stack`. */
export function environmentUri(stack: string): string {
    return ENVIRONMENT_URI_TEMPLATE.replace("{name}", encodeURIComponent(stack));
}

/** Level of log messages until the client sets one with `logging/setLevel`. */
export const DEFAULT_LOG_LEVEL: LoggingLevel = "info";

const SEVERITY = new Map(LoggingLevelSchema.options.map((level, index) => [level, index]));

/**
 * Log levels the clients set, by caller. Over streamable HTTP this server is stateless (a new
 * MCP server per request), so the level a caller set lives here rather than in a session.
 */
export class LogLevels {
    private readonly levels = new Map<string, LoggingLevel>();

    set(user: string, level: LoggingLevel): void {
        this.levels.set(user.toLowerCase(), level);
    }

    get(user: string): LoggingLevel {
        return this.levels.get(user.toLowerCase()) ?? DEFAULT_LOG_LEVEL;
    }

    /** True when a message of `level` reaches `user`. */
    sends(user: string, level: LoggingLevel): boolean {
        return (SEVERITY.get(level) ?? 0) >= (SEVERITY.get(this.get(user)) ?? 0);
    }
}

/** The MCP log level and one-line text of a progress event. */
export function logMessageOf(event: CatalystEvent): { level: LoggingLevel; text: string } {
    switch (event.type) {
        case "step":
            return { level: "info", text: `${event.step}: ${event.message}` };
        case "resource":
            return { level: event.state === "failed" ? "error" : "debug", text: `${event.state} ${event.resourceType} ${event.name} (${event.done}/${event.total})` };
        case "log":
            return { level: event.level, text: event.message };
        case "done":
            return { level: event.status === "succeeded" ? "notice" : "error", text: `done: ${event.status}${event.result.error ? `: ${event.result.error}` : ""}` };
    }
}

/** Names of the tools, for clients and tests. */
export const TOOL_NAMES = ["list_environments", "get_environment", "get_environment_history", "get_environment_resources", "create_preview", "destroy_preview", "sleep_preview", "wake_preview", "get_operation", "get_logs", "exec_in_environment", "get_kubeconfig"] as const;

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

/** How long a tool waits on an Environment in resource mode. */
export const RESOURCE_WAIT_MS = 30 * 60_000;

/** A view of an Environment as a tool result: an error when it failed. */
function resourceResult(view: PreviewResourceView): CallToolResult {
    return view.phase === "failed" ? { isError: true, content: [{ type: "text", text: `failed: ${view.message}` }, { type: "text", text: JSON.stringify(view, null, 2) }] } : ok(view);
}

const waitField = z.boolean().default(true).describe("Wait for the operation to finish (progress is sent as MCP progress notifications); false returns the operation id at once, for get_operation.");

type Notification =
    | { method: "notifications/progress"; params: { progressToken: string | number; progress: number; total?: number; message?: string } }
    | { method: "notifications/message"; params: { level: LoggingLevel; logger?: string; data: unknown } };

interface ProgressExtra {
    _meta?: { progressToken?: string | number };
    sendNotification: (notification: Notification) => Promise<void>;
}

/** Builds an MCP server whose tools act as `user`; `levels` keeps the log level each caller set. */
export function createMcpServer(service: CatalystService, user: string, levels: LogLevels = new LogLevels(), version = "0.1.0"): McpServer {
    const server = new McpServer({ name: "catalyst", version }, { capabilities: { logging: {} } });
    // The SDK keeps levels by session; a stateless HTTP server has none, so the caller's is used.
    server.server.setRequestHandler(SetLevelRequestSchema, (request) => {
        levels.set(user, request.params.level);
        return {};
    });

    /** Waits for an operation, sending its progress as progress notifications and log messages. */
    const follow = async (id: string, wait: boolean, extra: ProgressExtra) => {
        if (!wait) return service.operation(user, id);
        const token = extra._meta?.progressToken;
        let n = 0;
        const stop = await service.subscribe(user, id, (event) => {
            if (event === undefined) return;
            const { level, text } = logMessageOf(event);
            const message = text.slice(0, 300);
            if (token !== undefined) {
                void extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: ++n, message } }).catch(() => undefined);
            }
            if (levels.sends(user, level)) {
                void extra.sendNotification({ method: "notifications/message", params: { level, logger: `catalyst/${event.stack}`, data: message } }).catch(() => undefined);
            }
        });
        try {
            return await service.waitForOperation(user, id);
        } finally {
            stop();
        }
    };

    /** Resource mode: sends each new state of the Environment as progress, until it settles. */
    const settle = async (view: PreviewResourceView, wait: boolean, extra: ProgressExtra, until: "ready" | "gone"): Promise<CallToolResult> => {
        const previews = service.previews;
        if (!wait || previews === undefined) return resourceResult(view);
        const token = extra._meta?.progressToken;
        let n = 0;
        const progress = (state: PreviewResourceView) => {
            const message = `${state.phase}: ${state.message}`.slice(0, 300);
            if (token !== undefined) void extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: ++n, message } }).catch(() => undefined);
            if (levels.sends(user, "info")) void extra.sendNotification({ method: "notifications/message", params: { level: "info", logger: `catalyst/${state.environment}`, data: message } }).catch(() => undefined);
        };
        try {
            const final = until === "ready" ? await previews.waitReady(view.environment, RESOURCE_WAIT_MS, progress) : await previews.waitGone(view.environment, RESOURCE_WAIT_MS, progress);
            return resourceResult(final);
        } catch (err) {
            return failure(err);
        }
    };

    server.registerResource("environment", new ResourceTemplate(ENVIRONMENT_URI_TEMPLATE, {
        list: async () => ({
            resources: (await service.listEnvironments()).map((env) => ({
                uri: environmentUri(env.stack),
                name: env.stack,
                title: `${env.kind} environment ${env.stack}`,
                description: [env.owner && `owner ${env.owner}`, env.branch && `branch ${env.branch}`, env.url].filter(Boolean).join(", ") || undefined,
                mimeType: "application/json",
            })),
        }),
    }), {
        title: "Environment",
        description: "An environment stack: tags (owner, branch, namespace, URL, expiry), outputs with secrets masked, last update. The same as get_environment without the cluster reads.",
        mimeType: "application/json",
    }, async (uri, { name }) => {
        try {
            const status = await service.environment(decodeURIComponent(String(name)));
            return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(status, null, 2) }] };
        } catch (err) {
            const api = toApiError(err);
            // -32002: the "resource not found" code of the MCP specification.
            throw new McpError(api?.kind === "not-found" ? -32002 : api?.kind === "invalid" ? ErrorCode.InvalidParams : ErrorCode.InternalError, api === undefined ? "internal error" : api.message);
        }
    });

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

    server.registerTool("get_environment_history", {
        title: "Get an environment's operations",
        description: "The last operations of an environment's stack from the engine's own history (whoever ran them), newest first: kind (update, destroy, refresh, ...), result, start, end, duration, resource changes (create, update, delete, same), message and what started it.",
        inputSchema: OperationsInput.shape,
        annotations: { readOnlyHint: true },
    }, (input) => guard(() => service.operations(input)));

    server.registerTool("get_environment_resources", {
        title: "Get an environment's resources",
        description: "The resources an environment's stack holds: type, name, URN, parent and provider (never inputs or outputs).",
        inputSchema: { environment: EnvironmentName },
        annotations: { readOnlyHint: true },
    }, ({ environment }) => guard(() => service.resources(environment)));

    server.registerTool("create_preview", {
        title: "Create or update a preview",
        description: "Creates (or updates) the preview environment of a pull request, stack pr-<n>, owned by the caller. Refused when the preview belongs to someone else or another operation runs on it. Same validation, locking and timeouts as `catalyst preview up`.",
        inputSchema: { ...CreatePreviewInput.shape, wait: waitField },
        annotations: { destructiveHint: false, idempotentHint: true },
    }, async ({ wait, ...input }, extra) => {
        if (service.previews === undefined) return guard(async () => follow((await service.createPreview(user, input)).id, wait, extra as unknown as ProgressExtra));
        try {
            return await settle(await service.previews.create(user, input), wait, extra as unknown as ProgressExtra, "ready");
        } catch (err) {
            return failure(err);
        }
    });

    server.registerTool("destroy_preview", {
        title: "Destroy a preview",
        description: "Destroys a preview environment (pr-<n>) the caller owns and removes its stack. Production and staging cannot be changed through this server.",
        inputSchema: { environment: EnvironmentName, wait: waitField },
        annotations: { destructiveHint: true },
    }, async ({ environment, wait }, extra) => {
        if (service.previews === undefined) return guard(async () => follow((await service.destroyPreview(user, environment)).id, wait, extra as unknown as ProgressExtra));
        try {
            return await settle(await service.previews.destroy(user, environment), wait, extra as unknown as ProgressExtra, "gone");
        } catch (err) {
            return failure(err);
        }
    });

    for (const what of ["sleep", "wake"] as const) {
        server.registerTool(`${what}_preview`, {
            title: what === "sleep" ? "Put a preview to sleep" : "Wake a preview",
            description: what === "sleep"
                ? "Scales every workload of a preview the caller owns to zero; volumes, database and URL stay, and the URL shows the platform's sleeping page. Later deploys keep it asleep."
                : "Restores the workloads of a sleeping preview the caller owns.",
            inputSchema: { environment: EnvironmentName, wait: waitField },
            annotations: { destructiveHint: false, idempotentHint: true },
        }, async ({ environment, wait }, extra) => guard(async () => follow((await service.sleepOrWake(user, environment, what)).id, wait, extra as unknown as ProgressExtra)));
    }

    server.registerTool("get_operation", {
        title: "Get an operation",
        description: "State and result of an operation started by create_preview, destroy_preview, sleep_preview or wake_preview with wait=false.",
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
