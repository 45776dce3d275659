import * as k8s from "@pulumi/kubernetes";
import {
    DEFAULT_WORKSPACE_IMAGES,
    WORKSPACE_PORTS,
    workspaceInstanceName,
    workspacePodSpec,
    WorkspacePodSettings,
} from "../../../components/environment/workspace-spec";
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
    ...overrides,
});

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
            expect(container.securityContext).toEqual({
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
            });
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
        expect(ports).toEqual(expect.arrayContaining([8080, 81, 8831, 6901, WORKSPACE_PORTS.hasura]));
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
        ]);
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

    it("fits a preview's quota with every feature on, beside the app (plus a surge pod) and Redis", () => {
        const workspace = plain(workspacePodSpec(settings()));
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
