import * as pulumi from "@pulumi/pulumi";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../../../policy/policies";
import { installMocks, Recorded, recorded, resetRecorded, runEnvironmentProgram } from "../environment/mocks";
import { stackViolations, violations } from "./harness";

/*
 * The project's own environment program under the whole policy pack: every resource each tier
 * registers (under mocks) goes through every policy, as the engine would hand them to the pack on
 * an update. A component that drifts from the baseline fails here before an integration run.
 */

beforeAll(() => installMocks());

afterAll(() => pulumi.runtime.setAllConfig({}));

const resourcePolicies = policies.filter((p): p is ResourceValidationPolicy => "validateResource" in p);
const stackPolicies = policies.filter((p): p is StackValidationPolicy => "validateStack" in p);

/** The resources the program registers for `stack` with `config`. */
async function registered(stack: string, config: Record<string, unknown>): Promise<Recorded[]> {
    resetRecorded();
    await runEnvironmentProgram(stack, config);
    const kubernetes = recorded.filter((r) => r.type.startsWith("kubernetes:"));
    expect(kubernetes.length).toBeGreaterThan(10);
    return kubernetes;
}

/** Every message of every policy of the pack for `resources`. */
async function reported(resources: Recorded[]): Promise<string[]> {
    const messages: string[] = [];
    for (const resource of resources) {
        for (const policy of resourcePolicies) {
            for (const message of await violations(policy, resource.type, resource.inputs)) {
                messages.push(`${policy.name} ${resource.type} ${resource.name}: ${message}`);
            }
        }
    }
    const entries = resources.map((r) => ({ type: r.type, props: r.inputs, name: r.name }));
    for (const policy of stackPolicies) {
        messages.push(...(await stackViolations(policy, entries)).map((message) => `${policy.name}: ${message}`));
    }
    return messages;
}

describe("the environment program under the policy pack", () => {
    const image = "ghcr.io/acme/web:1.0.0";

    it.each([
        ["a preview", "pr-42", { pr: "42", branch: "feat/login", image }],
        ["a development environment with an agent workspace", "dev-alice", {
            image,
            workspace: { enabled: true, description: "fix the login form", features: { postgres: true } },
        }],
        ["staging", "staging", { app: { name: "web", image } }],
        ["production", "production", { app: { name: "web", image, autoscaling: { minReplicas: 2, maxReplicas: 6 } } }],
    ])("reports nothing for %s", async (_what, stack, config) => {
        expect(await reported(await registered(stack, config))).toEqual([]);
    });

    it("reports a workload that breaks the baseline (the check above can fail)", async () => {
        // Configuration validation already refuses a latest image, so break a registered object.
        const resources = await registered("pr-43", { pr: "43", image });
        const app = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs.metadata.name === "app");
        app!.inputs.spec.template.spec.containers[0].image = "ghcr.io/acme/web:latest";
        app!.inputs.spec.template.spec.automountServiceAccountToken = true;
        const messages = await reported(resources);
        expect(messages.map((m) => m.split(" ")[0]).sort()).toEqual(["image-pinned", "service-account-token-opt-in"]);
    });
});
