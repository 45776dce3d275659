import { spawn } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { policyPackOptions } from "../../policy/options";
import { workspaceInstanceName } from "../../components/environment/workspace-spec";
import { clusterEndpoint, configFromFile, destroyAndRemove, entry, ENVIRONMENT_KINDS, PLATFORM_REFERENCE, waitGone } from "./environment-helpers";
import { countLabelled, ensurePlatform, kubectl, kubectlJson, PLATFORM_STACK, quietOutput, repoRoot } from "./harness";

/*
 * An agent workspace on the local cluster: a development environment (`dev-<user>`) with the
 * workspace and the devcontainer fixture goes up through the real engine under the policy pack,
 * with the platform's admission policies and Pod Security `restricted` enforced by the API
 * server; then what the API server holds is checked. No container runs here (kwok), so the
 * images themselves are not exercised. Then a bad devcontainer through the `catalyst` CLI.
 */
jest.setTimeout(30 * 60_000);

/* eslint-disable @typescript-eslint/no-explicit-any */

const run = randomBytes(3).toString("hex");
const stackName = `dev-ws${run}`;
const namespace = `env-${stackName}`;
const selector = `catalyst.dev/environment=${stackName}`;
const description = `workspace integration test ${run}`;
const instance = workspaceInstanceName(description);
const workspaceName = `workspace-${instance}`;
// A value that must appear nowhere but in the workspace's Secret.
const apiKey = `sk-ant-canary-${randomBytes(12).toString("hex")}`;
const catalyst = path.join(repoRoot, "bin", "catalyst.js");

describe("agent workspace on the local cluster", () => {
    let stack: Stack;
    let outputs: OutputMap;
    let destroyed = false;
    let ingressNamespace: string;

    beforeAll(async () => {
        ingressNamespace = (await (await ensurePlatform()).outputs()).ingressNamespace.value as string;
        stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: repoRoot });
        await stack.setAllConfig({
            ...configFromFile("Pulumi.pr.yaml"),
            "catalyst:platformStack": entry(PLATFORM_REFERENCE),
            "catalyst:cluster": entry(clusterEndpoint()),
            "catalyst:database": entry({ mode: "none" }),
            "catalyst:redis": entry({ enabled: false }),
            "catalyst:access": entry({ oidcPrefix: "oidc:", owners: { users: ["alice@example.com"] } }),
            "catalyst:workspace": entry({
                enabled: true,
                description,
                user: "alice",
                repository: { url: "https://github.com/acme/web.git", branch: "main" },
                claude: { model: "sonnet", permissionMode: "acceptEdits" },
                devcontainer: "test/fixtures/devcontainer/good",
            }),
            "catalyst:workspaceSecrets": entry({ anthropicApiKey: apiKey }, true),
        });
        const up = await stack.up({ onOutput: quietOutput, ...policyPackOptions() });
        expect(up.summary.result).toBe("succeeded");
        outputs = up.outputs;
    });

    afterAll(() => destroyAndRemove(stack, destroyed));

    const workspacePod = () => kubectlJson<{ items: any[] }>(["get", "pods", "-n", namespace, "-l", `catalyst.dev/workspace=${instance}`]).items[0];
    const byName = (items: any[]) => Object.fromEntries((items ?? []).map((item) => [item.name, item]));

    it("runs the workspace pod, admitted under Pod Security restricted and the admission policies", () => {
        expect(outputs.workspaceName.value).toBe(instance);
        const deployment = kubectlJson<{ status: { conditions: Array<{ type: string; status: string }> } }>(["get", "deployment", workspaceName, "-n", namespace]);
        expect(deployment.status.conditions.find((c) => c.type === "Available")?.status).toBe("True");
        const pod = workspacePod();
        expect(pod.status.phase).toBe("Running");
        expect(Object.keys(byName(pod.spec.containers))).toEqual(["agent", "docs", "playwright", "dockerhub", "go", "devcontainer"]);
        expect(pod.spec.initContainers.map((c: any) => c.name)).toEqual(["git-clone", "devcontainer-setup"]);
    });

    it("gives the agent and the browser the environment's URL and the app's in-cluster URL", () => {
        const containers = byName(workspacePod().spec.containers);
        for (const name of ["agent", "playwright"]) {
            const env = byName(containers[name].env);
            expect([name, env.APP_URL?.value, env.APP_INTERNAL_URL?.value]).toEqual([
                name, outputs.url.value, `http://app.${namespace}.svc.cluster.local:80`,
            ]);
        }
        expect(outputs.url.value).toBe(`https://${stackName}.preview.catalyst.localhost`);
    });

    it("mounts the generated MCP configuration listing the sidecars, with the model and permission mode", () => {
        const pod = workspacePod();
        const volume = pod.spec.volumes.find((v: any) => v.name === "claude-config");
        const agent = byName(pod.spec.containers).agent;
        expect(agent.volumeMounts.find((m: any) => m.name === "claude-config")).toEqual({ name: "claude-config", mountPath: "/etc/claude-code", readOnly: true });
        const configMap = kubectlJson<{ data: Record<string, string> }>(["get", "configmap", volume.configMap.name, "-n", namespace]);
        const mcp = JSON.parse(configMap.data["managed-mcp.json"]);
        expect(Object.fromEntries(Object.entries(mcp.mcpServers).map(([name, server]: [string, any]) => [name, server.url]))).toEqual({
            playwright: "http://127.0.0.1:8831/mcp",
            context7: "http://127.0.0.1:8812/mcp",
            dockerhub: "http://127.0.0.1:8813/mcp",
        });
        expect(JSON.parse(configMap.data["managed-settings.json"])).toMatchObject({ model: "sonnet", permissions: { defaultMode: "acceptEdits" } });
        expect(byName(agent.env).DISABLE_AUTOUPDATER.value).toBe("1");
    });

    it("has the Claude credential only as a Secret reference: nowhere in the pod, ConfigMaps or Deployment", () => {
        const pod = workspacePod();
        const agent = byName(pod.spec.containers).agent;
        const secretName = `${workspaceName}-credentials`;
        expect(byName(agent.env).ANTHROPIC_API_KEY).toEqual({
            name: "ANTHROPIC_API_KEY",
            valueFrom: { secretKeyRef: { name: secretName, key: "ANTHROPIC_API_KEY", optional: false } },
        });
        const secret = kubectlJson<{ data: Record<string, string> }>(["get", "secret", secretName, "-n", namespace]);
        expect(Buffer.from(secret.data.ANTHROPIC_API_KEY, "base64").toString()).toBe(apiKey);
        for (const kind of ["pods", "deployments", "replicasets", "configmaps", "services", "networkpolicies"]) {
            expect([kind, kubectl(["get", kind, "-n", namespace, "-o", "json"]).includes(apiKey)]).toEqual([kind, false]);
        }
    });

    it("shapes the pod from the devcontainer fixture: image, user, env, forwarded ports, lifecycle step", () => {
        const pod = workspacePod();
        const container = byName(pod.spec.containers).devcontainer;
        expect(container.image).toBe("mcr.microsoft.com/devcontainers/typescript-node:1-22-bookworm");
        expect(container.securityContext).toMatchObject({ runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        expect(byName(container.env).NODE_ENV.value).toBe("development");
        const setup = pod.spec.initContainers.find((c: any) => c.name === "devcontainer-setup");
        expect(setup.command[2]).toContain("npm ci");
        expect(setup.command[2]).toContain("npm run dev:prepare");
        const service = kubectlJson<{ spec: { ports: Array<{ name: string; port: number }> } }>(["get", "service", workspaceName, "-n", namespace]);
        expect(service.spec.ports.map((p) => [p.name, p.port])).toEqual([["http", 8080], ["fwd-3000", 3000], ["fwd-5173", 5173]]);
    });

    it("stores the workspace's own egress: the ingress controller on 80/443 and its namespace", () => {
        const policy = kubectlJson<{ spec: any }>(["get", "networkpolicy", `${workspaceName}-app`, "-n", namespace]);
        expect(policy.spec.podSelector.matchLabels["catalyst.dev/workspace"]).toBe(instance);
        expect(policy.spec.egress).toEqual([
            { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ingressNamespace } } }], ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 443 }] },
            { to: [{ podSelector: {} }] },
        ]);
        expect(ingressNamespace).not.toBe("");
    });

    it("previews no changes on a second run and leaves nothing after destroy", async () => {
        const preview = await stack.preview({ onOutput: quietOutput, ...policyPackOptions() });
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);
        expect(countLabelled(ENVIRONMENT_KINDS, selector)).toBeGreaterThan(10);
        const result = await stack.destroy({ onOutput: quietOutput });
        destroyed = true;
        expect(result.summary.result).toBe("succeeded");
        await waitGone(`namespace/${namespace}`);
        expect(countLabelled(ENVIRONMENT_KINDS, selector)).toBe(0);
    });
});

describe("a bad devcontainer through the catalyst CLI", () => {
    const badStack = `dev-wsbad${run}`;
    const template = path.join(repoRoot, `Pulumi.${badStack}.yaml`);
    const workRoot = path.join(repoRoot, ".catalyst", `test-work-workspace-${run}`);

    afterAll(() => {
        rmSync(template, { force: true });
        rmSync(workRoot, { recursive: true, force: true });
    });

    it("exits 2 naming the file and the field, and creates no stack or namespace", async () => {
        // Pulumi.dev-*.yaml at the root is a stack file the CLI reads (gitignored for generated ones).
        writeFileSync(template, [
            "config:",
            "  catalyst:workspace:",
            "    enabled: true",
            "    description: a privileged devcontainer",
            "    devcontainer: test/fixtures/devcontainer/privileged",
            "",
        ].join("\n"));
        const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
            const env = { ...process.env, CATALYST_WORK_ROOT: workRoot, CATALYST_PLATFORM_STACK: PLATFORM_STACK, CI: "true" };
            const child = spawn(process.execPath, [catalyst, "env", "up", badStack, "--json"], { env, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.on("close", (status) => resolve({ status, stdout, stderr }));
        });
        const file = path.join(repoRoot, "test/fixtures/devcontainer/privileged/devcontainer.json");
        expect(result.status).toBe(2);
        expect(result.stderr).toContain(`catalyst:workspace.devcontainer: ${file}: privileged: privileged containers are not allowed (Pod Security restricted)`);
        expect(result.stdout).toBe("");
        const stacks = await (await LocalWorkspace.create({ workDir: repoRoot })).listStacks();
        expect(stacks.map((s) => s.name)).not.toContain(badStack);
        expect(existsSync(path.join(workRoot, badStack))).toBe(false);
        expect(kubectl(["get", "namespace", `env-${badStack}`, "--ignore-not-found", "-o", "name"]).trim()).toBe("");
    });
});
