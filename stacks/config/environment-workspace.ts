import * as path from "path";
import { ClaudeCredentialVariable, ClaudeSettings } from "../../components/environment/workspace-claude";
import { DevcontainerError, DevcontainerWorkspace, readDevcontainer } from "../../components/environment/workspace-devcontainer";
import { defaultWorkspaceImages } from "../../components/environment/workspace-images";
import { REPOSITORY_DIR, WORKSPACE_PORTS, WORKSPACE_VARIABLES, WorkspaceFeatures, WorkspaceImages } from "../../components/environment/workspace-spec";
import { StackIdentity } from "../../components/naming";
import type { RawEnvironmentConfig } from "./environment-schema";

/**
 * The workspace part of an environment's configuration (`catalyst:workspace`,
 * `catalyst:workspaceSecrets`): defaults, cross-field rules and the repository's
 * devcontainer.json, every problem named by its key.
 */

/** An agent workspace's configuration after validation. */
export interface WorkspaceConfig {
    description: string;
    user: string;
    timezone: string;
    otelEndpoint: string;
    healthPath: string;
    repository?: { url: string; branch: string };
    features: WorkspaceFeatures;
    images: WorkspaceImages;
    workspaceStorage: string;
    homeStorage: string;
    devDomain?: string;
    hasSshKey: boolean;
    /** The Claude credential `catalyst:workspaceSecrets` holds, as its variable name. */
    claudeCredential?: ClaudeCredentialVariable;
    claude: ClaudeSettings;
    /** What the repository's devcontainer.json asks for. */
    devcontainer?: DevcontainerWorkspace;
}

const KEY = "catalyst:workspace.devcontainer";

/** The devcontainer value as the schema leaves it (a string path is an object with `path`). */
export type DevcontainerSetting = NonNullable<NonNullable<RawEnvironmentConfig["workspace"]>["devcontainer"]>;

/**
 * Reads and checks the devcontainer file `setting` names (relative paths from `root`). Throws a
 * DevcontainerError naming the file and the field; used by the program and, before anything
 * runs, by the automation layer.
 */
export function loadDevcontainer(setting: DevcontainerSetting, root: string): DevcontainerWorkspace {
    return readDevcontainer(path.resolve(root, setting.path), {
        prebuiltImage: setting.image,
        reservedPorts: WORKSPACE_PORTS,
        workspaceFolder: REPOSITORY_DIR,
        reservedVariables: WORKSPACE_VARIABLES,
    });
}

/**
 * The devcontainer problem of a raw, unvalidated `catalyst:workspace` value (a stack file's or a
 * request's), or undefined when there is none or it has no devcontainer: the automation layer's
 * check before an operation starts, so that a bad file fails as bad input and creates nothing.
 */
export function devcontainerProblem(workspace: unknown, root: string): string | undefined {
    if (typeof workspace !== "object" || workspace === null) {
        return undefined;
    }
    const { enabled, devcontainer } = workspace as Record<string, unknown>;
    if ((enabled !== true && enabled !== "true") || devcontainer === undefined) {
        return undefined;
    }
    const setting = typeof devcontainer === "string" ? { path: devcontainer } : devcontainer as DevcontainerSetting;
    if (typeof setting !== "object" || typeof setting.path !== "string") {
        return `${KEY}: must be a path, or an object with path and image`;
    }
    try {
        loadDevcontainer(setting, root);
        return undefined;
    } catch (err) {
        if (err instanceof DevcontainerError) {
            return `${KEY}: ${err.message}`;
        }
        throw err;
    }
}

/** What the workspace's rules need to know about the rest of the configuration. */
export interface WorkspaceContext {
    identity: StackIdentity;
    /** Production or staging. */
    deployment: boolean;
    /** Whether the environment has a database. */
    hasDatabase: boolean;
    /** Directory relative paths are resolved against. */
    root: string;
}

/** Resolves `catalyst:workspace` (undefined when off), adding what is wrong to `problems`. */
export function resolveWorkspace(raw: RawEnvironmentConfig, context: WorkspaceContext, problems: string[]): WorkspaceConfig | undefined {
    const ws = raw.workspace;
    if (!ws?.enabled) {
        return undefined;
    }
    const key = (name: string) => `catalyst:${name}`;
    if (context.deployment) {
        problems.push(`${key("workspace.enabled")}: agent workspaces only exist in development and preview environments`);
    }
    if (ws.description === undefined || ws.description.trim() === "") {
        problems.push(`${key("workspace.description")}: must not be empty; the workspace's name is the sha256 of its description`);
    }
    const secrets = raw.workspaceSecrets ?? {};
    const has = (value: string | undefined) => (value ?? "") !== "";
    if (has(secrets.anthropicApiKey) && has(secrets.claudeCodeOauthToken)) {
        problems.push(`${key("workspaceSecrets")}: set anthropicApiKey or claudeCodeOauthToken, not both`);
    }
    let devcontainer: DevcontainerWorkspace | undefined;
    if (ws.devcontainer !== undefined) {
        try {
            devcontainer = loadDevcontainer(ws.devcontainer, context.root);
        } catch (err) {
            if (!(err instanceof DevcontainerError)) {
                throw err;
            }
            problems.push(`${KEY}: ${err.message}`);
        }
    }
    const features: WorkspaceFeatures = { ...ws.features };
    for (const toolchain of devcontainer?.toolchains ?? []) {
        features[toolchain] = true;
    }
    if ((features.postgres || features.hasura) && !context.hasDatabase) {
        problems.push(`${key("workspace.features")}: postgres and hasura need a database; database.mode is none`);
    }
    return {
        description: ws.description ?? "",
        user: ws.user ?? context.identity.user ?? context.identity.stack,
        timezone: ws.timezone,
        otelEndpoint: ws.otelEndpoint,
        healthPath: ws.healthPath,
        repository: ws.repository ? { url: ws.repository.url, branch: ws.repository.branch ?? raw.branch ?? "main" } : undefined,
        features,
        images: { ...defaultWorkspaceImages(ws.imageRegistry, ws.imageTag), ...ws.images },
        workspaceStorage: ws.workspaceStorage,
        homeStorage: ws.homeStorage,
        devDomain: ws.devDomain,
        hasSshKey: has(secrets.sshPrivateKey),
        claudeCredential: has(secrets.anthropicApiKey) ? "ANTHROPIC_API_KEY" : has(secrets.claudeCodeOauthToken) ? "CLAUDE_CODE_OAUTH_TOKEN" : undefined,
        claude: { model: ws.claude.model, permissionMode: ws.claude.permissionMode },
        devcontainer,
    };
}
