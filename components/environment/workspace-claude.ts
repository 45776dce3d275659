/**
 * Claude Code's configuration in a workspace, as pure data: the MCP servers of the pod's
 * sidecars and the managed settings (model, permission mode, no auto-update). The component
 * puts both files into a ConfigMap mounted read-only where Claude Code reads system-wide
 * configuration on Linux, so every `claude` started in the agent container sees them whatever
 * its working directory, and the agent cannot rewrite them. No secret is in either file: the
 * Docker Hub MCP server's bearer token is an environment variable (from a Secret) that Claude
 * Code expands in the `Authorization` header.
 */

/** Where Claude Code reads managed (system-wide) settings and MCP servers on Linux. */
export const CLAUDE_MANAGED_DIR = "/etc/claude-code";
/** The managed MCP servers file in {@link CLAUDE_MANAGED_DIR}. */
export const CLAUDE_MCP_FILE = "managed-mcp.json";
/** The managed settings file in {@link CLAUDE_MANAGED_DIR}. */
export const CLAUDE_SETTINGS_FILE = "managed-settings.json";

/** Claude Code's permission modes (its `permissions.defaultMode`). */
export const PERMISSION_MODES = ["default", "acceptEdits", "plan", "bypassPermissions"] as const;
/** One of {@link PERMISSION_MODES}. */
export type PermissionMode = (typeof PERMISSION_MODES)[number];

/** The credentials Claude Code accepts, as the variable names it reads. */
export const CLAUDE_CREDENTIAL_VARIABLES = ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"] as const;
/** One of {@link CLAUDE_CREDENTIAL_VARIABLES}. */
export type ClaudeCredentialVariable = (typeof CLAUDE_CREDENTIAL_VARIABLES)[number];

/** The variable holding the Docker Hub MCP server's bearer token (agent and sidecar). */
export const DOCKERHUB_MCP_TOKEN_VARIABLE = "DOCKERHUB_MCP_TOKEN";

/** The workspace's Claude Code settings (`catalyst:workspace.claude`). */
export interface ClaudeSettings {
    /** Model alias or name (`sonnet`, `claude-opus-4-1`); Claude Code's default when unset. */
    model?: string;
    /** How Claude Code asks before acting. */
    permissionMode: PermissionMode;
}

/** The MCP sidecars' loopback ports, as workspace-spec.ts assigns them. */
export interface McpPorts {
    playwright: number;
    docs: number;
    dockerhub: number;
}

/** Claude Code's MCP servers: the pod's three sidecars, over HTTP on the pod's loopback. */
export function mcpConfiguration(ports: McpPorts): { mcpServers: Record<string, Record<string, unknown>> } {
    const local = (port: number) => `http://127.0.0.1:${port}/mcp`;
    return {
        mcpServers: {
            playwright: { type: "http", url: local(ports.playwright) },
            context7: { type: "http", url: local(ports.docs) },
            dockerhub: {
                type: "http",
                url: local(ports.dockerhub),
                headers: { Authorization: `Bearer \${${DOCKERHUB_MCP_TOKEN_VARIABLE}}` },
            },
        },
    };
}

/**
 * Variables that switch off what a workspace must not do on its own: update itself (the image is
 * pinned and its filesystem read-only) and send telemetry or error reports (so the model's API is
 * the only host Claude Code itself calls).
 */
export const CLAUDE_ENVIRONMENT: Readonly<Record<string, string>> = {
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
};

/** The managed settings: model, permission mode and the variables of {@link CLAUDE_ENVIRONMENT}. */
export function managedSettings(settings: ClaudeSettings): Record<string, unknown> {
    return {
        ...(settings.model !== undefined ? { model: settings.model } : {}),
        permissions: { defaultMode: settings.permissionMode },
        env: { ...CLAUDE_ENVIRONMENT },
    };
}

/** The files of the ConfigMap mounted at {@link CLAUDE_MANAGED_DIR}. */
export function claudeConfigFiles(settings: ClaudeSettings, ports: McpPorts): Record<string, string> {
    return {
        [CLAUDE_MCP_FILE]: `${JSON.stringify(mcpConfiguration(ports), null, 2)}\n`,
        [CLAUDE_SETTINGS_FILE]: `${JSON.stringify(managedSettings(settings), null, 2)}\n`,
    };
}
