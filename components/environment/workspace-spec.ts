import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;
import { Resources } from "./app-spec";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";

/**
 * The agent workspace's pod, as pure data: containers, volumes, probes and security context.
 * The component in workspace.ts wraps it in a Deployment with its Service, PVCs and RBAC.
 */

/** The user and group every workspace container runs as. */
export const WORKSPACE_UID = 1000;
/** The agent's home directory (a PVC). */
export const WORKSPACE_HOME = "/home/agent";

/**
 * Ports of the pod. All containers share one network namespace, so no two may use the same port:
 * Hasura's default 8080 is the agent's HTTP port, so Hasura listens on 8090 instead.
 */
export const WORKSPACE_PORTS = {
    http: 8080,
    mcp: 81,
    docs: 8812,
    dockerhub: 8813,
    playwrightMcp: 8831,
    novnc: 6901,
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

/** Pinned images of every container (all configurable). */
export interface WorkspaceImages {
    agent: string;
    docs: string;
    playwright: string;
    dockerhub: string;
    go: string;
    typescript: string;
    postgres: string;
    hasura: string;
    git: string;
    init: string;
}

/** The images a workspace runs unless configured otherwise; tags, never `latest`. */
export const DEFAULT_WORKSPACE_IMAGES: WorkspaceImages = {
    agent: "ghcr.io/catalyst-dev/agent:0.1.0",
    docs: "ghcr.io/catalyst-dev/docs-mcp:0.1.0",
    playwright: "ghcr.io/catalyst-dev/playwright-mcp:0.1.0",
    dockerhub: "mcp/dockerhub:1.0.0",
    go: "golang:1.26.0-alpine3.23",
    typescript: "node:24.11.0-alpine3.22",
    postgres: "postgres:16.10-alpine3.22",
    hasura: "hasura/graphql-engine:v2.48.5",
    git: "alpine/git:v2.49.1",
    init: "busybox:1.37.0",
};

const size = (requestCpu: string, requestMemory: string, limitCpu: string, limitMemory: string): Resources => ({
    requests: { cpu: requestCpu, memory: requestMemory },
    limits: { cpu: limitCpu, memory: limitMemory },
});

/**
 * Container sizes. Chosen so that a workspace with every feature on, the app (with one extra pod
 * during a rolling update) and Redis fit a preview namespace's quota (4 CPU and 8Gi of limits).
 */
export const WORKSPACE_RESOURCES: Record<keyof WorkspaceImages, Resources> = {
    agent: size("250m", "512Mi", "1", "1Gi"),
    docs: size("25m", "64Mi", "100m", "256Mi"),
    playwright: size("100m", "512Mi", "750m", "1Gi"),
    dockerhub: size("25m", "64Mi", "100m", "256Mi"),
    go: size("50m", "128Mi", "250m", "512Mi"),
    typescript: size("50m", "128Mi", "250m", "512Mi"),
    postgres: size("10m", "32Mi", "50m", "64Mi"),
    hasura: size("100m", "256Mi", "250m", "512Mi"),
    git: size("50m", "64Mi", "500m", "256Mi"),
    init: size("10m", "16Mi", "50m", "32Mi"),
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
    /** Secret with GITHUB_TOKEN, SSH_PRIVATE_KEY, DOCKERHUB_TOKEN, HASURA_GRAPHQL_ADMIN_SECRET. */
    credentialsSecretName: pulumi.Input<string>;
    /** Whether the credentials Secret holds an SSH key (adds the SSH setup init container). */
    hasSshKey: boolean;
    /** The environment's database Secret (DATABASE_URL), when Postgres is on. */
    databaseSecretName?: pulumi.Input<string>;
    /** PVC names. */
    claims: { workspace: pulumi.Input<string>; home: pulumi.Input<string> };
}

const fromSecret = (name: string, secret: pulumi.Input<string>, key: string, optional = true): EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key, optional } },
});

const CLONE_SCRIPT = `set -eu
dest=/workspace/repo
auth=""
if [ -n "\${GITHUB_TOKEN:-}" ]; then
  auth="Authorization: Basic $(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\\n')"
fi
# The token travels as a header for one command, so it is never written into .git/config.
g() { if [ -n "$auth" ]; then git -c http.extraHeader="$auth" "$@"; else git "$@"; fi; }
if [ -d "$dest/.git" ]; then
  g -C "$dest" fetch --prune origin "$BRANCH"
  git -C "$dest" checkout "$BRANCH" 2>/dev/null || git -C "$dest" checkout -b "$BRANCH" "origin/$BRANCH"
  g -C "$dest" pull --ff-only origin "$BRANCH" || echo "local commits on $BRANCH: not fast-forwarded"
else
  g clone --branch "$BRANCH" "$REPO_URL" "$dest"
fi
`;

const SSH_SCRIPT = `set -eu
mkdir -p ${WORKSPACE_HOME}/.ssh
cp /etc/catalyst/ssh/id_key ${WORKSPACE_HOME}/.ssh/id_ed25519
chmod 700 ${WORKSPACE_HOME}/.ssh
chmod 600 ${WORKSPACE_HOME}/.ssh/id_ed25519
printf 'Host *\\n  IdentityFile ${WORKSPACE_HOME}/.ssh/id_ed25519\\n  StrictHostKeyChecking accept-new\\n' > ${WORKSPACE_HOME}/.ssh/config
`;

/** The workspace's pod spec: uid/gid 1000, restricted, with the API token mounted (the agent uses it). */
export function workspacePodSpec(s: WorkspacePodSettings): k8s.types.input.core.v1.PodSpec {
    const secret = s.credentialsSecretName;
    const mount = (name: string, mountPath: string, readOnly = false) => ({ name, mountPath, ...(readOnly ? { readOnly } : {}) });
    const tmp = mount("tmp", "/tmp");
    const home = [mount("home", WORKSPACE_HOME), mount("cache", `${WORKSPACE_HOME}/.cache`), mount("npm-cache", `${WORKSPACE_HOME}/.npm`)];
    const container = (key: keyof WorkspaceImages, extra: Partial<Container>): Container => ({
        name: key,
        image: s.images[key],
        resources: WORKSPACE_RESOURCES[key],
        securityContext: restrictedContainerSecurityContext(),
        ...extra,
    });
    const tcpProbe = (port: number) => ({ tcpSocket: { port }, periodSeconds: 10 });
    const idle = { command: ["sleep", "infinity"] };
    const sidecarEnv = [{ name: "HOME", value: "/tmp" }];

    const agentEnv: EnvVar[] = [
        { name: "HOME", value: WORKSPACE_HOME },
        { name: "TZ", value: s.timezone },
        { name: "CATALYST_INSTANCE_NAME", value: s.instanceName },
        { name: "CATALYST_INSTANCE_DESCRIPTION", value: s.description },
        { name: "CATALYST_INSTANCE_USER", value: s.user },
        { name: "CATALYST_NAMESPACE", value: s.namespace },
        { name: "OTEL_SERVICE_NAME", value: `workspace-${s.instanceName}` },
        { name: "XDG_CACHE_HOME", value: `${WORKSPACE_HOME}/.cache` },
        { name: "npm_config_cache", value: `${WORKSPACE_HOME}/.npm` },
        fromSecret("GITHUB_TOKEN", secret, "GITHUB_TOKEN"),
    ];
    if (s.otelEndpoint !== "") {
        agentEnv.push({ name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: s.otelEndpoint });
    }
    if (s.features.postgres && s.databaseSecretName !== undefined) {
        agentEnv.push(fromSecret("DATABASE_URL", s.databaseSecretName, "DATABASE_URL", false));
    }

    const containers: Container[] = [
        container("agent", {
            ports: [{ name: "http", containerPort: WORKSPACE_PORTS.http }, { name: "mcp", containerPort: WORKSPACE_PORTS.mcp }],
            env: agentEnv,
            workingDir: "/workspace",
            readinessProbe: { httpGet: { path: s.healthPath, port: "http" }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: s.healthPath, port: "http" }, initialDelaySeconds: 30, periodSeconds: 15, failureThreshold: 4 },
            volumeMounts: [mount("workspace", "/workspace"), tmp, ...home],
        }),
        container("docs", {
            ports: [{ name: "docs-mcp", containerPort: WORKSPACE_PORTS.docs }],
            env: [...sidecarEnv, { name: "PORT", value: String(WORKSPACE_PORTS.docs) }],
            readinessProbe: tcpProbe(WORKSPACE_PORTS.docs),
            volumeMounts: [tmp],
        }),
        container("playwright", {
            ports: [
                { name: "browser-mcp", containerPort: WORKSPACE_PORTS.playwrightMcp },
                { name: "novnc", containerPort: WORKSPACE_PORTS.novnc },
            ],
            env: [...sidecarEnv, { name: "PORT", value: String(WORKSPACE_PORTS.playwrightMcp) }],
            readinessProbe: tcpProbe(WORKSPACE_PORTS.playwrightMcp),
            volumeMounts: [tmp],
        }),
        container("dockerhub", {
            ports: [{ name: "dockerhub-mcp", containerPort: WORKSPACE_PORTS.dockerhub }],
            env: [...sidecarEnv, { name: "PORT", value: String(WORKSPACE_PORTS.dockerhub) }, fromSecret("HUB_PAT_TOKEN", secret, "DOCKERHUB_TOKEN")],
            readinessProbe: tcpProbe(WORKSPACE_PORTS.dockerhub),
            volumeMounts: [tmp],
        }),
    ];
    if (s.features.go) {
        containers.push(container("go", {
            ...idle,
            env: [{ name: "HOME", value: WORKSPACE_HOME }, { name: "GOCACHE", value: `${WORKSPACE_HOME}/.cache/go-build` }, { name: "GOPATH", value: `${WORKSPACE_HOME}/go` }],
            workingDir: "/workspace",
            volumeMounts: [mount("workspace", "/workspace"), tmp, ...home],
        }));
    }
    if (s.features.typescript) {
        containers.push(container("typescript", {
            ...idle,
            env: [{ name: "HOME", value: WORKSPACE_HOME }, { name: "npm_config_cache", value: `${WORKSPACE_HOME}/.npm` }],
            workingDir: "/workspace",
            volumeMounts: [mount("workspace", "/workspace"), tmp, ...home],
        }));
    }
    if (s.features.postgres && s.databaseSecretName !== undefined) {
        containers.push(container("postgres", {
            ...idle,
            env: [...sidecarEnv, fromSecret("DATABASE_URL", s.databaseSecretName, "DATABASE_URL", false)],
            volumeMounts: [tmp],
        }));
    }
    if (s.features.hasura && s.databaseSecretName !== undefined) {
        containers.push(container("hasura", {
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
        initContainers.push(container("init", {
            name: "ssh-setup",
            command: ["/bin/sh", "-c", SSH_SCRIPT],
            volumeMounts: [mount("home", WORKSPACE_HOME), mount("ssh-key", "/etc/catalyst/ssh", true)],
        }));
    }
    if (s.repository) {
        initContainers.push(container("git", {
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

    const volumes: k8s.types.input.core.v1.Volume[] = [
        { name: "workspace", persistentVolumeClaim: { claimName: s.claims.workspace } },
        { name: "home", persistentVolumeClaim: { claimName: s.claims.home } },
        { name: "tmp", emptyDir: { sizeLimit: "10Gi" } },
        { name: "cache", emptyDir: { sizeLimit: "5Gi" } },
        { name: "npm-cache", emptyDir: { sizeLimit: "1Gi" } },
    ];
    if (s.hasSshKey) {
        volumes.push({ name: "ssh-key", secret: { secretName: secret, items: [{ key: "SSH_PRIVATE_KEY", path: "id_key" }], defaultMode: 0o400 } });
    }

    return {
        serviceAccountName: s.serviceAccountName,
        // The agent drives the Kubernetes API of its own namespace (its ServiceAccount is bound to
        // the owner role there); every other pod of the environment runs without a token.
        automountServiceAccountToken: true,
        securityContext: {
            ...restrictedPodSecurityContext(WORKSPACE_UID, WORKSPACE_UID),
            // The agent's MCP port (81) is below 1024 and its containers have no capabilities: this
            // namespaced, Pod-Security-approved sysctl lets an unprivileged process bind it.
            sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
        },
        initContainers,
        containers,
        volumes,
    };
}
