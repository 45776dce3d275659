import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Resources } from "./app-spec";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";
import { CLAUDE_ENVIRONMENT, CLAUDE_MANAGED_DIR, ClaudeCredentialVariable, DOCKERHUB_MCP_TOKEN_VARIABLE } from "./workspace-claude";
import { DevcontainerWorkspace } from "./workspace-devcontainer";
import { defaultWorkspaceImages, WorkspaceImages } from "./workspace-images";
import { CLONE_SCRIPT, devcontainerSetupScript, REPOSITORY_DIR, SSH_SCRIPT, WORKSPACE_HOME } from "./workspace-scripts";

export type { WorkspaceImages } from "./workspace-images";
export { REPOSITORY_DIR, WORKSPACE_HOME } from "./workspace-scripts";

type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;

/**
 * The agent workspace's pod, as pure data: containers, volumes, probes and security context.
 * The component in workspace.ts wraps it in a Deployment with its Service, PVCs and RBAC.
 */

/** The user and group every workspace container runs as (a devcontainer may name another uid). */
export const WORKSPACE_UID = 1000;

/**
 * Ports of the pod. All containers share one network namespace, so no two may use the same port:
 * Hasura's default 8080 is the agent's HTTP port, so Hasura listens on 8090 instead. The MCP
 * sidecars serve the agent over the pod's loopback; the Service exposes the agent's port only
 * (and a devcontainer's forwarded ports).
 */
export const WORKSPACE_PORTS = {
    http: 8080,
    docs: 8812,
    dockerhub: 8813,
    playwrightMcp: 8831,
    hasura: 8090,
} as const;

/** Optional containers. */
export interface WorkspaceFeatures {
    /** A Go toolchain container. */
    go: boolean;
    /** A Node/TypeScript toolchain container. */
    typescript: boolean;
    /** A Postgres 16 client container, and DATABASE_URL for the agent. */
    postgres: boolean;
    /** Hasura GraphQL engine on port 8090. */
    hasura: boolean;
}

/** The default images for the default registry and tag (workspace-images.ts). */
export const DEFAULT_WORKSPACE_IMAGES: WorkspaceImages = defaultWorkspaceImages();

/** Variables the workspace sets itself: a devcontainer's `containerEnv` must not replace them. */
export const WORKSPACE_VARIABLES = ["HOME", "APP_URL", "APP_INTERNAL_URL", "TZ", "GITHUB_TOKEN", "DATABASE_URL"] as const;

const size = (requestCpu: string, requestMemory: string, limitCpu: string, limitMemory: string): Resources => ({
    requests: { cpu: requestCpu, memory: requestMemory },
    limits: { cpu: limitCpu, memory: limitMemory },
});

/**
 * Container sizes. Chosen so that a workspace with every feature and a devcontainer on, the app
 * (with one extra pod during a rolling update) and Redis fit a preview namespace's quota (4 CPU
 * and 8Gi of limits).
 */
export const WORKSPACE_RESOURCES: Record<keyof WorkspaceImages | "devcontainer", Resources> = {
    agent: size("250m", "512Mi", "750m", "1Gi"),
    docs: size("25m", "64Mi", "100m", "256Mi"),
    playwright: size("100m", "512Mi", "750m", "1Gi"),
    dockerhub: size("25m", "64Mi", "100m", "256Mi"),
    go: size("50m", "128Mi", "250m", "512Mi"),
    typescript: size("50m", "128Mi", "250m", "512Mi"),
    postgres: size("10m", "32Mi", "50m", "64Mi"),
    hasura: size("100m", "256Mi", "250m", "512Mi"),
    git: size("50m", "64Mi", "500m", "256Mi"),
    init: size("10m", "16Mi", "50m", "32Mi"),
    devcontainer: size("50m", "128Mi", "250m", "512Mi"),
};

/** The workspace's instance name: the first 12 hex characters of sha256(description). */
export function workspaceInstanceName(description: string): string {
    if (description.trim() === "") {
        throw new Error("workspace description must not be empty");
    }
    return createHash("sha256").update(description).digest("hex").slice(0, 12);
}

/** Everything the workspace pod is made of. */
export interface WorkspacePodSettings {
    /** The instance name (12 hex characters). */
    instanceName: string;
    /** What the workspace is for. */
    description: string;
    /** Who it belongs to. */
    user: string;
    /** The environment's namespace. */
    namespace: pulumi.Input<string>;
    /** Time zone (`Europe/Berlin`). */
    timezone: string;
    /** OTLP endpoint for traces and metrics ("" for none). */
    otelEndpoint: string;
    /** Pinned images. */
    images: WorkspaceImages;
    /** Optional containers. */
    features: WorkspaceFeatures;
    /** HTTP path of the agent's health endpoint. */
    healthPath: string;
    /** Repository cloned into /workspace/repo, when set. */
    repository?: { url: string; branch: string };
    /** The workspace's ServiceAccount (bound to the owner role of its namespace). */
    serviceAccountName: pulumi.Input<string>;
    /**
     * Secret with GITHUB_TOKEN, DOCKERHUB_TOKEN, DOCKERHUB_MCP_TOKEN and, when configured,
     * SSH_PRIVATE_KEY, HASURA_GRAPHQL_ADMIN_SECRET and the Claude credential.
     */
    credentialsSecretName: pulumi.Input<string>;
    /** Whether the credentials Secret holds an SSH key (adds the SSH setup init container). */
    hasSshKey: boolean;
    /** The Claude Code credential the Secret holds (as its variable name), if any. */
    claudeCredential?: ClaudeCredentialVariable;
    /** ConfigMap with Claude Code's managed settings and MCP servers (workspace-claude.ts). */
    claudeConfigMapName: pulumi.Input<string>;
    /** The environment's public URL (`https://<host>`; "" when it has no route). */
    appUrl: pulumi.Input<string>;
    /** The app's URL inside the cluster (`http://<service>.<namespace>.svc.cluster.local:<port>`). */
    appInternalUrl: pulumi.Input<string>;
    /** The environment's database Secret (DATABASE_URL), when Postgres is on. */
    databaseSecretName?: pulumi.Input<string>;
    /** PVC names. */
    claims: { workspace: pulumi.Input<string>; home: pulumi.Input<string> };
    /** What the repository's devcontainer.json asks for, when it has one. */
    devcontainer?: DevcontainerWorkspace;
}

const fromSecret = (name: string, secret: pulumi.Input<string>, key: string, optional = true): EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key, optional } },
});

/**
 * A readiness probe for a server that listens on the pod's loopback only, where the kubelet's
 * own TCP probe (to the pod's IP) cannot reach it: Node, in every sidecar image, connects.
 */
export function loopbackProbe(port: number): k8s.types.input.core.v1.Probe {
    const script = `require("net").connect(${port},"127.0.0.1").on("connect",()=>process.exit(0)).on("error",()=>process.exit(1))`;
    return { exec: { command: ["node", "-e", script] }, periodSeconds: 10, timeoutSeconds: 5 };
}

/** The workspace's pod spec: uid/gid 1000, restricted, with the API token mounted (the agent uses it). */
export function workspacePodSpec(s: WorkspacePodSettings): k8s.types.input.core.v1.PodSpec {
    const secret = s.credentialsSecretName;
    const mount = (name: string, mountPath: string, readOnly = false) => ({ name, mountPath, ...(readOnly ? { readOnly } : {}) });
    const tmp = mount("tmp", "/tmp");
    const home = [mount("home", WORKSPACE_HOME), mount("cache", `${WORKSPACE_HOME}/.cache`), mount("npm-cache", `${WORKSPACE_HOME}/.npm`)];
    const container = (key: keyof typeof WORKSPACE_RESOURCES, image: string, extra: Partial<Container>): Container => ({
        name: key,
        image,
        resources: WORKSPACE_RESOURCES[key],
        securityContext: restrictedContainerSecurityContext(),
        ...extra,
    });
    const idle = { command: ["sleep", "infinity"] };
    const sidecarEnv = [{ name: "HOME", value: "/tmp" }];
    const urls: EnvVar[] = [{ name: "APP_URL", value: s.appUrl }, { name: "APP_INTERNAL_URL", value: s.appInternalUrl }];
    const mcpToken = fromSecret(DOCKERHUB_MCP_TOKEN_VARIABLE, secret, DOCKERHUB_MCP_TOKEN_VARIABLE, false);

    const agentEnv: EnvVar[] = [
        { name: "HOME", value: WORKSPACE_HOME },
        { name: "TZ", value: s.timezone },
        { name: "PORT", value: String(WORKSPACE_PORTS.http) },
        { name: "CATALYST_HEALTH_PATH", value: s.healthPath },
        { name: "CATALYST_INSTANCE_NAME", value: s.instanceName },
        { name: "CATALYST_INSTANCE_DESCRIPTION", value: s.description },
        { name: "CATALYST_INSTANCE_USER", value: s.user },
        { name: "CATALYST_NAMESPACE", value: s.namespace },
        { name: "OTEL_SERVICE_NAME", value: `workspace-${s.instanceName}` },
        { name: "XDG_CACHE_HOME", value: `${WORKSPACE_HOME}/.cache` },
        { name: "npm_config_cache", value: `${WORKSPACE_HOME}/.npm` },
        ...urls,
        ...Object.entries(CLAUDE_ENVIRONMENT).map(([name, value]) => ({ name, value })),
        fromSecret("GITHUB_TOKEN", secret, "GITHUB_TOKEN"),
        mcpToken,
    ];
    if (s.claudeCredential !== undefined) {
        agentEnv.push(fromSecret(s.claudeCredential, secret, s.claudeCredential, false));
    }
    if (s.otelEndpoint !== "") {
        agentEnv.push({ name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: s.otelEndpoint });
    }
    if (s.features.postgres && s.databaseSecretName !== undefined) {
        agentEnv.push(fromSecret("DATABASE_URL", s.databaseSecretName, "DATABASE_URL", false));
    }

    const containers: Container[] = [
        container("agent", s.images.agent, {
            ports: [{ name: "http", containerPort: WORKSPACE_PORTS.http }],
            env: agentEnv,
            workingDir: s.repository ? REPOSITORY_DIR : "/workspace",
            readinessProbe: { httpGet: { path: s.healthPath, port: "http" }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: s.healthPath, port: "http" }, initialDelaySeconds: 30, periodSeconds: 15, failureThreshold: 4 },
            volumeMounts: [mount("workspace", "/workspace"), tmp, ...home, mount("claude-config", CLAUDE_MANAGED_DIR, true)],
        }),
        container("docs", s.images.docs, {
            args: ["--transport", "http", "--port", String(WORKSPACE_PORTS.docs)],
            ports: [{ name: "docs-mcp", containerPort: WORKSPACE_PORTS.docs }],
            env: sidecarEnv,
            readinessProbe: loopbackProbe(WORKSPACE_PORTS.docs),
            volumeMounts: [tmp],
        }),
        container("playwright", s.images.playwright, {
            args: ["--host", "127.0.0.1", "--port", String(WORKSPACE_PORTS.playwrightMcp)],
            ports: [{ name: "browser-mcp", containerPort: WORKSPACE_PORTS.playwrightMcp }],
            env: [...sidecarEnv, ...urls],
            readinessProbe: loopbackProbe(WORKSPACE_PORTS.playwrightMcp),
            volumeMounts: [tmp],
        }),
        container("dockerhub", s.images.dockerhub, {
            args: ["--transport=http", `--port=${WORKSPACE_PORTS.dockerhub}`, "--host=127.0.0.1"],
            ports: [{ name: "dockerhub-mcp", containerPort: WORKSPACE_PORTS.dockerhub }],
            env: [...sidecarEnv, fromSecret("HUB_PAT_TOKEN", secret, "DOCKERHUB_TOKEN"), { ...mcpToken, name: "MCP_AUTH_TOKEN" }],
            readinessProbe: loopbackProbe(WORKSPACE_PORTS.dockerhub),
            volumeMounts: [tmp],
        }),
    ];
    const toolchain = (key: "go" | "typescript", env: EnvVar[]) => container(key, s.images[key], {
        ...idle,
        env: [{ name: "HOME", value: WORKSPACE_HOME }, ...env],
        workingDir: "/workspace",
        volumeMounts: [mount("workspace", "/workspace"), tmp, ...home],
    });
    if (s.features.go) {
        containers.push(toolchain("go", [{ name: "GOCACHE", value: `${WORKSPACE_HOME}/.cache/go-build` }, { name: "GOPATH", value: `${WORKSPACE_HOME}/go` }]));
    }
    if (s.features.typescript) {
        containers.push(toolchain("typescript", [{ name: "npm_config_cache", value: `${WORKSPACE_HOME}/.npm` }]));
    }
    if (s.features.postgres && s.databaseSecretName !== undefined) {
        containers.push(container("postgres", s.images.postgres, {
            ...idle,
            env: [...sidecarEnv, fromSecret("DATABASE_URL", s.databaseSecretName, "DATABASE_URL", false)],
            volumeMounts: [tmp],
        }));
    }
    if (s.features.hasura && s.databaseSecretName !== undefined) {
        containers.push(container("hasura", s.images.hasura, {
            ports: [{ name: "hasura", containerPort: WORKSPACE_PORTS.hasura }],
            env: [
                { name: "HASURA_GRAPHQL_SERVER_PORT", value: String(WORKSPACE_PORTS.hasura) },
                fromSecret("HASURA_GRAPHQL_DATABASE_URL", s.databaseSecretName, "DATABASE_URL", false),
                fromSecret("HASURA_GRAPHQL_ADMIN_SECRET", secret, "HASURA_GRAPHQL_ADMIN_SECRET", false),
                { name: "HASURA_GRAPHQL_ENABLE_TELEMETRY", value: "false" },
            ],
            readinessProbe: { httpGet: { path: "/healthz", port: WORKSPACE_PORTS.hasura }, periodSeconds: 10 },
            volumeMounts: [tmp],
        }));
    }

    const initContainers: Container[] = [];
    if (s.hasSshKey) {
        initContainers.push(container("init", s.images.init, {
            name: "ssh-setup",
            command: ["/bin/sh", "-c", SSH_SCRIPT],
            volumeMounts: [mount("home", WORKSPACE_HOME), mount("ssh-key", "/etc/catalyst/ssh", true)],
        }));
    }
    if (s.repository) {
        initContainers.push(container("git", s.images.git, {
            name: "git-clone",
            command: ["/bin/sh", "-c", CLONE_SCRIPT],
            env: [
                { name: "HOME", value: WORKSPACE_HOME },
                { name: "REPO_URL", value: s.repository.url },
                { name: "BRANCH", value: s.repository.branch },
                fromSecret("GITHUB_TOKEN", secret, "GITHUB_TOKEN"),
            ],
            volumeMounts: [mount("workspace", "/workspace"), tmp, mount("home", WORKSPACE_HOME)],
        }));
    }
    const dc = s.devcontainer;
    if (dc !== undefined) {
        const directory = s.repository ? REPOSITORY_DIR : "/workspace";
        const shaped = (extra: Partial<Container>): Container => container("devcontainer", dc.image, {
            env: [{ name: "HOME", value: WORKSPACE_HOME }, ...urls, ...Object.entries(dc.env).map(([name, value]) => ({ name, value }))],
            workingDir: directory,
            securityContext: { ...restrictedContainerSecurityContext(), runAsUser: dc.uid },
            volumeMounts: [mount("workspace", "/workspace"), tmp, ...home],
            ...extra,
        });
        containers.push(shaped({
            ...idle,
            ports: dc.forwardPorts.map((port) => ({ name: `fwd-${port}`, containerPort: port })),
        }));
        if (dc.createCommands.length > 0 || dc.startCommands.length > 0) {
            initContainers.push(shaped({
                name: "devcontainer-setup",
                command: ["/bin/sh", "-c", devcontainerSetupScript(dc.createCommands, dc.startCommands, dc.createHash, directory)],
            }));
        }
    }

    const volumes: k8s.types.input.core.v1.Volume[] = [
        { name: "workspace", persistentVolumeClaim: { claimName: s.claims.workspace } },
        { name: "home", persistentVolumeClaim: { claimName: s.claims.home } },
        { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
        { name: "cache", emptyDir: { sizeLimit: "5Gi" } },
        { name: "npm-cache", emptyDir: { sizeLimit: "1Gi" } },
        { name: "claude-config", configMap: { name: s.claudeConfigMapName, defaultMode: 0o444 } },
    ];
    if (s.hasSshKey) {
        volumes.push({ name: "ssh-key", secret: { secretName: secret, items: [{ key: "SSH_PRIVATE_KEY", path: "id_key" }], defaultMode: 0o400 } });
    }

    return {
        serviceAccountName: s.serviceAccountName,
        // The agent drives the Kubernetes API of its own namespace (its ServiceAccount is bound to
        // the owner role there); every other pod of the environment runs without a token.
        automountServiceAccountToken: true,
        securityContext: restrictedPodSecurityContext(WORKSPACE_UID, WORKSPACE_UID),
        initContainers,
        containers,
        volumes,
    };
}
