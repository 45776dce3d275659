import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { EngineEvent, LocalWorkspace, PolicyEvent, Stack } from "@pulumi/pulumi/automation";
import { clusterEndpoint, configFromFile, entry } from "./environment-helpers";
import { Automation } from "../../stacks/automation/operations";
import { CatalystEvent } from "../../stacks/automation/types";
import { countLabelled, ensurePlatform, kubectlError, PLATFORM_STACK, quietOutput, repoRoot, requireTestEnvironment, suffix } from "./harness";
import { POLICY_PACK, standInPlatform } from "./security-helpers";

/*
 * The policy pack (policy/) run by the real engine, the way CI and the CLI run it: `policyPacks`
 * in the Automation API's preview/up options, i.e. `pulumi preview --policy-pack policy/`. The
 * CLI starts the pack through our language host's RunPlugin (tools/language-host/main.go).
 */
jest.setTimeout(15 * 60_000);

const fixture = path.join(__dirname, "fixtures", "policy");

/** Runs `operation`, collecting the policy events and whether it failed. */
async function withPolicyEvents(operation: (onEvent: (event: EngineEvent) => void) => Promise<unknown>) {
    const events: PolicyEvent[] = [];
    let error: Error | undefined;
    try {
        await operation((event) => {
            if (event.policyEvent) {
                events.push(event.policyEvent);
            }
        });
    } catch (err) {
        error = err as Error;
    }
    const summary = events.map((e) => `${e.enforcementLevel} ${e.policyName}: ${e.message.trim().split("\n").pop()}`).sort();
    return { events, summary, error };
}

describe("policy pack on a small program", () => {
    const run = suffix();
    const stackName = `policy-${run}`;
    let stack: Stack;

    beforeAll(async () => {
        requireTestEnvironment();
        stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: fixture });
        await stack.setAllConfig({ runId: { value: run }, variant: { value: "violating" } });
    });

    afterAll(async () => {
        if (stack !== undefined) {
            await stack.destroy({ onOutput: quietOutput });
            await stack.workspace.removeStack(stackName);
        }
    });

    it("fails the preview of a violating program with each policy's message, Helm-rendered objects included", async () => {
        const ns = `env-policy-${run}`;
        const { summary, error } = await withPolicyEvents((onEvent) =>
            stack.preview({ policyPacks: [POLICY_PACK], onEvent, onOutput: quietOutput }));
        expect(error?.message).toMatch(/preview failed/);
        expect(summary).toEqual([
            `mandatory environment-namespace-guardrails: Namespace ${ns}: environment namespace without a LimitRange`,
            `mandatory image-pinned: Deployment ${ns}/charted-charted: container "pause" uses the untagged image "registry.k8s.io/pause"; pin a version tag or a digest`,
            expect.stringMatching(new RegExp(`^mandatory image-pinned: Deployment ${ns}/web-[0-9a-f]+: container "web" uses the image "registry.k8s.io/pause:latest" with the tag latest; pin a version tag or a digest$`)),
            expect.stringMatching(new RegExp(`^mandatory no-external-services: Service ${ns}/web-[0-9a-f]+: type NodePort exposes the environment outside the shared ingress$`)),
            expect.stringMatching(new RegExp(`^mandatory no-privileged-containers: Deployment ${ns}/web-[0-9a-f]+: container "web" runs privileged$`)),
            expect.stringMatching(new RegExp(`^mandatory no-secret-env-values: Deployment ${ns}/web-[0-9a-f]+: container "web" sets DATABASE_PASSWORD to a literal value; use valueFrom.secretKeyRef$`)),
        ]);
        // The message names the variable, never its value.
        expect(JSON.stringify(summary)).not.toContain("not-a-real-password");
    });

    it("lets policy configuration make every policy advisory", async () => {
        const { events, error } = await withPolicyEvents((onEvent) =>
            stack.preview({ policyPacks: [POLICY_PACK], policyPackConfigs: [path.join(fixture, "advisory.json")], onEvent, onOutput: quietOutput }));
        expect(error).toBeUndefined();
        expect(events.length).toBe(6);
        expect(new Set(events.map((e) => e.enforcementLevel))).toEqual(new Set(["advisory"]));
    });

    it("updates a compliant program under the pack, then previews no changes and destroys everything", async () => {
        await stack.setConfig("variant", { value: "compliant" });
        const { events, error } = await withPolicyEvents((onEvent) =>
            stack.up({ policyPacks: [POLICY_PACK], onEvent, onOutput: quietOutput }));
        expect(error).toBeUndefined();
        expect(events).toEqual([]);
        const preview = await stack.preview({ policyPacks: [POLICY_PACK], onOutput: quietOutput });
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);
        const destroy = await stack.destroy({ onOutput: quietOutput });
        expect(destroy.summary.result).toBe("succeeded");
        expect(countLabelled("namespaces,deployments,services,resourcequotas,limitranges,networkpolicies", `catalyst.dev/policy-test=${run}`)).toBe(0);
    });
});

describe("policy pack on the project's own stacks", () => {
    it("passes the platform stack's update and preview (charts rendered), with the documented exemptions", async () => {
        // The shared platform stack of this run; ensurePlatform brings it up under the pack.
        const stack = await ensurePlatform();
        const { events, error } = await withPolicyEvents((onEvent) =>
            stack.preview({ policyPacks: [POLICY_PACK], onEvent, onOutput: quietOutput }));
        expect(error).toBeUndefined();
        expect(events.map((e) => `${e.policyName}: ${e.message}`)).toEqual([]);
    });

    it("passes an environment stack's preview (Pulumi.pr.yaml)", async () => {
        requireTestEnvironment();
        const platform = await standInPlatform(`sec-platform-${suffix()}`);
        const pr = 9_000_000 + Math.floor(Math.random() * 900_000);
        const stackName = `pr-${pr}`;
        const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: repoRoot });
        try {
            await stack.setAllConfig({
                ...configFromFile("Pulumi.pr.yaml"),
                "catalyst:platformStack": entry(platform.reference),
                "catalyst:pr": entry(String(pr)),
                "catalyst:cluster": entry(clusterEndpoint()),
                "catalyst:appSecrets": entry({ API_TOKEN: "policy-test-not-real" }, true),
                // The agent workspace mounts a token for the API; with the workspace enabled this
                // preview also needs its pod template labelled catalyst.dev/needs-api: "true".
            });
            const { events, error } = await withPolicyEvents((onEvent) =>
                stack.preview({ policyPacks: [POLICY_PACK], onEvent, onOutput: quietOutput }));
            expect(events.map((e) => `${e.policyName}: ${e.message}`)).toEqual([]);
            expect(error).toBeUndefined();
        } finally {
            await stack.workspace.removeStack(stackName);
            await platform.remove();
        }
    });
});

describe("policy pack on the automation layer's updates (the catalyst CLI, HTTP API, MCP and CI path)", () => {
    const pr = 9_500_000 + Math.floor(Math.random() * 400_000);
    const workRoot = mkdtempSync(path.join(tmpdir(), "catalyst-policy-work-"));
    let automation: Automation;

    beforeAll(async () => {
        requireTestEnvironment();
        await ensurePlatform();
        automation = new Automation({ repoRoot, workRoot, auditLog: path.join(workRoot, "audit.log"), platformStack: PLATFORM_STACK, actor: "policy-test" });
    });

    afterAll(async () => {
        try {
            const down = await automation.destroyPreview(pr).result;
            expect(down.status).toBe("succeeded");
        } finally {
            rmSync(workRoot, { recursive: true, force: true });
        }
    });

    it("fails an update that breaks a mandatory policy, naming the policy and the object, and creates nothing it refused", async () => {
        const events: CatalystEvent[] = [];
        const result = await automation.upPreview({
            pr,
            branch: "feat/leaky-config",
            config: {
                "catalyst:database": { mode: "none" },
                "catalyst:redis": { enabled: false },
                // A credential as a plain variable: only the pack's no-secret-env-values sees it
                // (configuration validation and admission do not read env values).
                "catalyst:app": { env: { DATABASE_PASSWORD: "not-a-real-password" } },
            },
        }, { onEvent: (event) => events.push(event) }).result;
        expect(result.status).toBe("failed");
        const errors = events.filter((e) => e.type === "log" && e.level === "error").map((e) => (e.type === "log" ? e.message : ""));
        // One error event per violation: the policy, its description, then the object and what is wrong.
        const violation = errors.find((e) => e.startsWith("policy no-secret-env-values: "));
        expect(violation?.split("\n").pop()).toBe(`Deployment env-pr-${pr}/app: container "app" sets DATABASE_PASSWORD to a literal value; use valueFrom.secretKeyRef`);
        expect(result.error).toContain("no-secret-env-values");
        // The value itself is never repeated.
        expect(JSON.stringify([result, events])).not.toContain("not-a-real-password");
        // The engine refuses the Deployment before creating it.
        expect(kubectlError(["get", "deployment", "app", "-n", `env-pr-${pr}`])).toContain("NotFound");
    });
});

