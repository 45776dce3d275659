import * as pulumi from "@pulumi/pulumi";
import { installMocks, ofType, recorded, resetRecorded, runEnvironmentProgram, settle, valueOf } from "./mocks";

/* eslint-disable @typescript-eslint/no-explicit-any */

/*
 * The workspace as the environment program builds it (mocks): every feature on and the
 * devcontainer fixture, so the URL variables, the Claude Code ConfigMap, the Secret's keys, the
 * Service's ports and the workspace's own network policies come out of the real wiring.
 */

jest.setTimeout(60_000);

/** A recorded input with Pulumi's secret wrapper removed. */
const unsecret = (value: any) => (value?.["4dabf18193072939515e22adb298388d"] !== undefined ? value.value : value);

beforeAll(() => installMocks());
beforeEach(() => resetRecorded());

const workspace = {
    enabled: true,
    description: "fix the login form",
    repository: { url: "https://github.com/acme/web.git" },
    features: { postgres: true, hasura: true, typescript: true },
    imageRegistry: "registry.example.com/acme/catalyst",
    imageTag: "1.4.0",
    claude: { model: "sonnet", permissionMode: "acceptEdits" },
    devcontainer: "test/fixtures/devcontainer/good",
};

async function build(config: Record<string, unknown> = {}, secrets: Record<string, string> = { anthropicApiKey: "sk-ant-not-real" }) {
    const outputs = await runEnvironmentProgram("dev-alice", {
        image: "ghcr.io/acme/web:1.0.0",
        workspace,
        workspaceSecrets: secrets,
        ...config,
    }, ["workspaceSecrets"]);
    await settle();
    const url = await valueOf(outputs.url as pulumi.Input<string>);
    const workspaceObjects = (type: string) => ofType(type).filter((r) => r.name.includes("workspace"));
    const deployment = workspaceObjects("apps/v1:Deployment")[0];
    const pod = deployment.inputs.spec.template.spec;
    const containers = Object.fromEntries(pod.containers.map((c: any) => [c.name, c]));
    const env = (name: string) => Object.fromEntries((containers[name].env as any[]).map((e) => [e.name, e]));
    return { url, pod, containers, env, workspaceObjects };
}

describe("the workspace in the environment program", () => {
    it("gives the agent and the browser the environment's URL and the app's in-cluster URL", async () => {
        const { url, env } = await build();
        expect(url).toBe("https://dev-alice.preview.example.com");
        for (const name of ["agent", "playwright", "devcontainer"]) {
            expect([name, env(name).APP_URL.value, env(name).APP_INTERNAL_URL.value])
                .toEqual([name, url, "http://app.env-dev-alice.svc.cluster.local:80"]);
        }
    });

    it("runs the configured registry's images, the devcontainer's image and its features' toolchains", async () => {
        const { containers, pod } = await build();
        expect(Object.keys(containers)).toEqual(["agent", "docs", "playwright", "dockerhub", "go", "typescript", "postgres", "hasura", "devcontainer"]);
        expect(containers.agent.image).toBe("registry.example.com/acme/catalyst/agent:1.4.0");
        expect(containers.docs.image).toBe("registry.example.com/acme/catalyst/context7-mcp:1.4.0");
        expect(containers.playwright.image).toBe("registry.example.com/acme/catalyst/playwright-mcp:1.4.0");
        expect(containers.dockerhub.image).toBe("registry.example.com/acme/catalyst/dockerhub-mcp:1.4.0");
        expect(containers.devcontainer.image).toBe("mcr.microsoft.com/devcontainers/typescript-node:1-22-bookworm");
        expect(pod.initContainers.map((c: any) => c.name)).toEqual(["git-clone", "devcontainer-setup"]);
        expect(pod.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true });
        expect(pod.securityContext.sysctls).toBeUndefined();
    });

    it("puts Claude Code's MCP servers and settings in a ConfigMap and its credential in the Secret only", async () => {
        const { env, workspaceObjects, pod } = await build();
        const [configMap] = workspaceObjects("core/v1:ConfigMap");
        const mcp = JSON.parse(configMap.inputs.data["managed-mcp.json"]);
        expect(mcp).toEqual({
            mcpServers: {
                playwright: { type: "http", url: "http://127.0.0.1:8831/mcp" },
                context7: { type: "http", url: "http://127.0.0.1:8812/mcp" },
                dockerhub: { type: "http", url: "http://127.0.0.1:8813/mcp", headers: { Authorization: "Bearer ${DOCKERHUB_MCP_TOKEN}" } },
            },
        });
        expect(JSON.parse(configMap.inputs.data["managed-settings.json"])).toEqual({
            model: "sonnet",
            permissions: { defaultMode: "acceptEdits" },
            env: { DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
        });
        expect(JSON.stringify(configMap.inputs)).not.toContain("sk-ant-not-real");
        expect(pod.volumes.find((v: any) => v.name === "claude-config").configMap.name).toBe(configMap.inputs.metadata.name);
        const [secret] = workspaceObjects("core/v1:Secret");
        expect(Object.keys(unsecret(secret.inputs.stringData)).sort()).toEqual([
            "ANTHROPIC_API_KEY", "DOCKERHUB_MCP_TOKEN", "DOCKERHUB_TOKEN", "GITHUB_TOKEN", "HASURA_GRAPHQL_ADMIN_SECRET",
        ]);
        expect(env("agent").ANTHROPIC_API_KEY.valueFrom.secretKeyRef).toEqual({ name: secret.inputs.metadata.name, key: "ANTHROPIC_API_KEY", optional: false });
        expect(JSON.stringify(pod)).not.toContain("sk-ant-not-real");
    });

    it("exposes the agent's port and the forwarded ports on the Service, and opens its own egress", async () => {
        const { workspaceObjects } = await build();
        const [service] = workspaceObjects("core/v1:Service");
        expect(service.inputs.spec.ports).toEqual([
            { name: "http", port: 8080, targetPort: "http" },
            { name: "fwd-3000", port: 3000, targetPort: "fwd-3000" },
            { name: "fwd-5173", port: 5173, targetPort: "fwd-5173" },
        ]);
        const policies = Object.fromEntries(workspaceObjects("networking.k8s.io/v1:NetworkPolicy").map((p) => [p.inputs.metadata.name.replace(/^workspace-[0-9a-f]{12}-/, ""), p.inputs.spec]));
        expect(Object.keys(policies).sort()).toEqual(["app", "internet-443"]);
        expect(policies.app.egress).toEqual([
            { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }], ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 443 }] },
            { to: [{ podSelector: {} }] },
        ]);
        expect(policies["internet-443"].egress[0].ports).toEqual([{ protocol: "TCP", port: 443 }]);
        expect(policies.app.podSelector).toEqual(policies["internet-443"].podSelector);
    });

    it("refuses a bad devcontainer and two Claude credentials before anything is created, naming the keys", async () => {
        await expect(build({ workspace: { ...workspace, devcontainer: "test/fixtures/devcontainer/cap-add" } })).rejects.toThrow(
            /catalyst:workspace\.devcontainer: .*test\/fixtures\/devcontainer\/cap-add\/devcontainer\.json: runArgs\[0\]: "--cap-add=SYS_PTRACE" asks for capabilities/);
        await expect(build({}, { anthropicApiKey: "a", claudeCodeOauthToken: "b" })).rejects.toThrow(
            "catalyst:workspaceSecrets: set anthropicApiKey or claudeCodeOauthToken, not both");
        await expect(build({ workspace: { ...workspace, claude: { permissionMode: "yolo" } } })).rejects.toThrow(
            'catalyst:workspace.claude.permissionMode: must be one of default, acceptEdits, plan, bypassPermissions; got "yolo"');
        await expect(build({ workspace: { ...workspace, imageTag: "latest" } })).rejects.toThrow(
            "catalyst:workspace.imageTag: must be a pinned image tag like 0.1.0 (not latest)");
        expect(recorded.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
    });
});
