import * as k8s from "@pulumi/kubernetes";
import * as path from "path";
import {
    DEFAULT_WORKSPACE_IMAGES,
    REPOSITORY_DIR,
    WORKSPACE_PORTS,
    WORKSPACE_VARIABLES,
    workspaceInstanceName,
    workspacePodSpec,
    WorkspacePodSettings,
} from "../../../components/environment/workspace-spec";
import { readDevcontainer } from "../../../components/environment/workspace-devcontainer";
import { workspaceEgressSpec } from "../../../components/environment/workspace-network";
import { appPodSpec } from "../../../components/environment/app-spec";
import { DEFAULT_APP_RESOURCES } from "../../../components/environment/app-spec";
import { parseQuantity, quotaFor } from "../../../components/environment/quota";
import { imageTag } from "../../../components/environment/image";

type PodSpec = k8s.types.input.core.v1.PodSpec;
/* eslint-disable @typescript-eslint/no-explicit-any */
const plain = (spec: PodSpec): any => spec;

const settings = (overrides: Partial<WorkspacePodSettings> = {}): WorkspacePodSettings => ({
    instanceName: workspaceInstanceName("fix the login form"),
    description: "fix the login form",
    user: "alice",
    namespace: "env-dev-alice",
    timezone: "Europe/Berlin",
    otelEndpoint: "http://otel-collector.observability:4318",
    images: DEFAULT_WORKSPACE_IMAGES,
    features: { go: true, typescript: true, postgres: true, hasura: true },
    healthPath: "/health",
    repository: { url: "https://github.com/acme/web.git", branch: "feat/login" },
    serviceAccountName: "workspace-sa",
    credentialsSecretName: "workspace-credentials",
    hasSshKey: true,
    databaseSecretName: "database",
    claims: { workspace: "ws-workspace", home: "ws-home" },
    claudeConfigMapName: "ws-claude",
    claudeCredential: "ANTHROPIC_API_KEY",
    appUrl: "https://dev-alice.dev.example.com",
    appInternalUrl: "http://app.env-dev-alice.svc.cluster.local:80",
    ...overrides,
});

/** The good fixture checkout's devcontainer.json, as the config loader reads it. */
const devcontainer = readDevcontainer(path.resolve(__dirname, "..", "..", "fixtures", "devcontainer", "good"), {
    reservedPorts: WORKSPACE_PORTS, workspaceFolder: REPOSITORY_DIR, reservedVariables: WORKSPACE_VARIABLES,
});
const byName = (items: any[]) => Object.fromEntries(items.map((item: any) => [item.name, item]));
const envOf = (container: any) => byName(container.env ?? []);

/** Sum of a quantity over containers (the pod's effective total: init containers run alone). */
function podTotal(spec: any, field: "requests" | "limits", resource: "cpu" | "memory"): number {
    const sum = (spec.containers as any[]).reduce((total, c) => total + (parseQuantity(c.resources[field][resource]) ?? 0), 0);
    const init = Math.max(0, ...(spec.initContainers ?? []).map((c: any) => parseQuantity(c.resources[field][resource]) ?? 0));
    return Math.max(sum, init);
}

describe("agent workspace", () => {
    it("is named by the first 12 hex characters of sha256(description)", () => {
        expect(workspaceInstanceName("fix the login form")).toMatch(/^[0-9a-f]{12}$/);
        expect(workspaceInstanceName("a")).toBe("ca978112ca1b");
        expect(() => workspaceInstanceName(" ")).toThrow("workspace description must not be empty");
    });

    it("runs every container as uid/gid 1000, non-root, read-only, without privilege escalation or capabilities", () => {
        const spec = plain(workspacePodSpec(settings()));
        expect(spec.securityContext).toMatchObject({
            runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" },
        });
        for (const container of [...spec.containers, ...spec.initContainers]) {
            expect([container.name, container.securityContext]).toEqual([container.name, {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
            }]);
            expect(imageTag(container.image)).toBeDefined();
            expect(imageTag(container.image)).not.toBe("latest");
        }
        expect(spec.automountServiceAccountToken).toBe(true);
        expect(spec.serviceAccountName).toBe("workspace-sa");
    });

    it("has the agent, MCP sidecars and the optional containers with distinct ports", () => {
        const spec = plain(workspacePodSpec(settings()));
        expect(spec.containers.map((c: any) => c.name)).toEqual(["agent", "docs", "playwright", "dockerhub", "go", "typescript", "postgres", "hasura"]);
        const ports = spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.containerPort));
        expect(new Set(ports).size).toBe(ports.length);
        expect(ports).toEqual(expect.arrayContaining([8080, 8812, 8813, 8831, WORKSPACE_PORTS.hasura]));
        expect(WORKSPACE_PORTS.hasura).not.toBe(WORKSPACE_PORTS.http);
        const minimal = plain(workspacePodSpec(settings({ features: { go: false, typescript: false, postgres: false, hasura: false } })));
        expect(minimal.containers.map((c: any) => c.name)).toEqual(["agent", "docs", "playwright", "dockerhub"]);
    });

    it("mounts workspace and home volumes and size-limited emptyDirs", () => {
        const spec = plain(workspacePodSpec(settings()));
        const volumes = Object.fromEntries(spec.volumes.map((v: any) => [v.name, v]));
        expect(volumes.workspace.persistentVolumeClaim.claimName).toBe("ws-workspace");
        expect(volumes.home.persistentVolumeClaim.claimName).toBe("ws-home");
        expect(volumes.tmp.emptyDir).toEqual({ sizeLimit: "10Gi" });
        expect(volumes.cache.emptyDir).toEqual({ sizeLimit: "5Gi" });
        expect(volumes["npm-cache"].emptyDir).toEqual({ sizeLimit: "1Gi" });
        expect(volumes["ssh-key"].secret).toMatchObject({ secretName: "workspace-credentials", defaultMode: 0o400 });
        const agent = spec.containers[0];
        expect(agent.volumeMounts.map((m: any) => [m.name, m.mountPath])).toEqual([
            ["workspace", "/workspace"], ["tmp", "/tmp"], ["home", "/home/agent"], ["cache", "/home/agent/.cache"], ["npm-cache", "/home/agent/.npm"],
            ["claude-config", "/etc/claude-code"],
        ]);
        expect(agent.volumeMounts[5].readOnly).toBe(true);
        expect(volumes["claude-config"].configMap).toEqual({ name: "ws-claude", defaultMode: 0o444 });
    });

    it("clones the repository and sets up SSH in init containers, with secrets from Secrets only", () => {
        const spec = plain(workspacePodSpec(settings()));
        expect(spec.initContainers.map((c: any) => c.name)).toEqual(["ssh-setup", "git-clone"]);
        const clone = spec.initContainers[1];
        expect(clone.env).toEqual(expect.arrayContaining([
            { name: "BRANCH", value: "feat/login" },
            { name: "GITHUB_TOKEN", valueFrom: { secretKeyRef: { name: "workspace-credentials", key: "GITHUB_TOKEN", optional: true } } },
        ]));
        expect(clone.command[2]).toContain("pull --ff-only");
        const env = Object.fromEntries(spec.containers[0].env.map((e: any) => [e.name, e]));
        for (const name of ["HOME", "TZ", "CATALYST_INSTANCE_NAME", "CATALYST_INSTANCE_DESCRIPTION", "CATALYST_INSTANCE_USER", "CATALYST_NAMESPACE", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"]) {
            expect(env[name].value).toBeDefined();
        }
        expect(env.GITHUB_TOKEN.valueFrom.secretKeyRef.key).toBe("GITHUB_TOKEN");
        expect(env.DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: "database", key: "DATABASE_URL", optional: false });
        expect(plain(workspacePodSpec(settings({ repository: undefined, hasSshKey: false }))).initContainers).toEqual([]);
    });

    it("gives the agent and the browser the environment's public and in-cluster URLs", () => {
        const spec = plain(workspacePodSpec(settings({ devcontainer })));
        const containers = byName(spec.containers);
        for (const name of ["agent", "playwright", "devcontainer"]) {
            expect([name, envOf(containers[name]).APP_URL, envOf(containers[name]).APP_INTERNAL_URL]).toEqual([name,
                { name: "APP_URL", value: "https://dev-alice.dev.example.com" },
                { name: "APP_INTERNAL_URL", value: "http://app.env-dev-alice.svc.cluster.local:80" },
            ]);
        }
        for (const name of ["docs", "dockerhub", "go", "typescript", "postgres", "hasura"]) {
            expect([name, envOf(containers[name]).APP_URL]).toEqual([name, undefined]);
        }
    });

    it("configures Claude Code: credential and MCP token from the Secret only, no auto-update, sidecars on loopback", () => {
        const spec = plain(workspacePodSpec(settings()));
        const containers = byName(spec.containers);
        const agent = envOf(containers.agent);
        expect(agent.ANTHROPIC_API_KEY).toEqual({ name: "ANTHROPIC_API_KEY", valueFrom: { secretKeyRef: { name: "workspace-credentials", key: "ANTHROPIC_API_KEY", optional: false } } });
        expect(agent.DOCKERHUB_MCP_TOKEN.valueFrom.secretKeyRef).toEqual({ name: "workspace-credentials", key: "DOCKERHUB_MCP_TOKEN", optional: false });
        expect(agent.DISABLE_AUTOUPDATER).toEqual({ name: "DISABLE_AUTOUPDATER", value: "1" });
        expect(agent.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC.value).toBe("1");
        expect(agent.CLAUDE_CODE_OAUTH_TOKEN).toBeUndefined();
        // No container carries a secret as a literal value.
        for (const container of [...spec.containers, ...spec.initContainers]) {
            for (const variable of container.env ?? []) {
                if (/TOKEN|KEY|SECRET|PASSWORD/.test(variable.name)) {
                    expect([container.name, variable.name, variable.value]).toEqual([container.name, variable.name, undefined]);
                }
            }
        }
        expect(envOf(containers.dockerhub).MCP_AUTH_TOKEN.valueFrom.secretKeyRef.key).toBe("DOCKERHUB_MCP_TOKEN");
        expect(containers.docs.args).toEqual(["--transport", "http", "--port", "8812"]);
        expect(containers.playwright.args).toEqual(["--host", "127.0.0.1", "--port", "8831"]);
        expect(containers.dockerhub.args).toEqual(["--transport=http", "--port=8813", "--host=127.0.0.1"]);
        expect(containers.playwright.readinessProbe.exec.command.slice(0, 2)).toEqual(["node", "-e"]);
        expect(containers.playwright.readinessProbe.exec.command[2]).toContain("connect(8831,\"127.0.0.1\")");
        const oauth = plain(workspacePodSpec(settings({ claudeCredential: "CLAUDE_CODE_OAUTH_TOKEN" })));
        expect(envOf(oauth.containers[0]).CLAUDE_CODE_OAUTH_TOKEN.valueFrom.secretKeyRef.key).toBe("CLAUDE_CODE_OAUTH_TOKEN");
        expect(envOf(plain(workspacePodSpec(settings({ claudeCredential: undefined }))).containers[0]).ANTHROPIC_API_KEY).toBeUndefined();
    });

    it("shapes a devcontainer toolchain container, its ports, user and lifecycle step from devcontainer.json", () => {
        const spec = plain(workspacePodSpec(settings({ devcontainer })));
        expect(spec.containers.map((c: any) => c.name)).toEqual(["agent", "docs", "playwright", "dockerhub", "go", "typescript", "postgres", "hasura", "devcontainer"]);
        const container = byName(spec.containers).devcontainer;
        expect(container).toMatchObject({
            image: "mcr.microsoft.com/devcontainers/typescript-node:1-22-bookworm",
            command: ["sleep", "infinity"],
            workingDir: "/workspace/repo",
            ports: [{ name: "fwd-3000", containerPort: 3000 }, { name: "fwd-5173", containerPort: 5173 }],
            securityContext: { runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        });
        expect(envOf(container).NODE_ENV).toEqual({ name: "NODE_ENV", value: "development" });
        expect(envOf(container).REPO_DIR.value).toBe("/workspace/repo");
        expect(spec.initContainers.map((c: any) => c.name)).toEqual(["ssh-setup", "git-clone", "devcontainer-setup"]);
        const setup = byName(spec.initContainers)["devcontainer-setup"];
        expect(setup.image).toBe(container.image);
        expect(setup.command[2]).toBe([
            "set -eu",
            "cd /workspace/repo 2>/dev/null || cd /workspace",
            `if [ ! -f /workspace/.catalyst/devcontainer-created-${devcontainer.createHash} ]; then`,
            "  npm ci",
            `  mkdir -p /workspace/.catalyst && touch /workspace/.catalyst/devcontainer-created-${devcontainer.createHash}`,
            "fi",
            "npm run dev:prepare",
            "",
        ].join("\n"));
        const ports = spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.containerPort));
        expect(new Set(ports).size).toBe(ports.length);
        const noCommands = plain(workspacePodSpec(settings({ devcontainer: { ...devcontainer, createCommands: [], startCommands: [] } })));
        expect(noCommands.initContainers.map((c: any) => c.name)).toEqual(["ssh-setup", "git-clone"]);
        const otherUser = plain(workspacePodSpec(settings({ devcontainer: { ...devcontainer, uid: 1001 } })));
        expect(byName(otherUser.containers).devcontainer.securityContext.runAsUser).toBe(1001);
    });

    it("lets the pod reach the ingress controller on 80/443 and its own namespace, nothing more", () => {
        expect(workspaceEgressSpec({ "catalyst.dev/workspace": "abc" }, "ingress-nginx")).toEqual({
            podSelector: { matchLabels: { "catalyst.dev/workspace": "abc" } },
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
                    ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 443 }],
                },
                { to: [{ podSelector: {} }] },
            ],
        });
    });

    it("fits a preview's quota with every feature and a devcontainer on, beside the app (plus a surge pod) and Redis", () => {
        const workspace = plain(workspacePodSpec(settings({ devcontainer })));
        const app = plain(appPodSpec({
            name: "app", image: "x:1", port: 8080, readinessPath: "/", livenessPath: "/", resources: DEFAULT_APP_RESOURCES,
            env: {}, secretEnv: [], files: [], readOnlyRootFilesystem: true,
        }));
        const redis = { containers: [{ resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } } }] };
        const quota = quotaFor("preview");
        for (const [field, resource, hard] of [
            ["requests", "cpu", quota.requestsCpu], ["requests", "memory", quota.requestsMemory],
            ["limits", "cpu", quota.limitsCpu], ["limits", "memory", quota.limitsMemory],
        ] as const) {
            const total = podTotal(workspace, field, resource) + 2 * podTotal(app, field, resource) + podTotal(redis, field, resource);
            expect(total).toBeLessThanOrEqual(parseQuantity(hard)!);
        }
    });
});
