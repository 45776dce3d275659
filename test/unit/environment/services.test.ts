import * as pulumi from "@pulumi/pulumi";
import { configMap, installMocks, ofType, resetRecorded, settle } from "./mocks";

/*
 * The environment's Services skip the Kubernetes provider's Service await (SERVICE_ANNOTATIONS in
 * components/environment/labels.ts). What that await checked at run time, that the Service
 * targets ready pods, rests on these static facts instead (plus the Deployment's own await):
 * each Service selects exactly the pods of one Deployment of the environment, and each of its
 * target ports is a named port of that Deployment's container.
 */

type Program = typeof import("../../../stacks/environment");
type Naming = typeof import("../../../components/naming");
let program: Program;
let naming: Naming;

beforeAll(async () => {
    installMocks();
    program = await import("../../../stacks/environment");
    naming = await import("../../../components/naming");
});

beforeEach(() => resetRecorded());

async function run(stack: string, config: Record<string, unknown>): Promise<void> {
    pulumi.runtime.setAllConfig(configMap({ passwordSource: "random", ...config }), []);
    program.environmentProgram(naming.parseStackName(stack));
    await settle();
}

function isSubset(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
    return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

describe("environment Services", () => {
    it.each([
        ["a preview (app and redis)", "pr-42", { pr: "42", branch: "feat/x", image: "ghcr.io/acme/web:1.0.0" }, 2],
        ["a development environment (app, redis, workspace)", "dev-alice", { image: "ghcr.io/acme/web:1.0.0", workspace: { enabled: true, description: "fix it" } }, 3],
    ])("in %s skip the provider's await and select one Deployment's pods and named ports", async (_what, stack, config, expected) => {
        await run(stack, config);
        const services = ofType("core/v1:Service");
        expect(services).toHaveLength(expected);
        const deployments = ofType("apps/v1:Deployment");
        for (const service of services) {
            expect(service.inputs.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
            const selector = service.inputs.spec.selector as Record<string, string>;
            const selected = deployments.filter((d) => isSubset(selector, d.inputs.spec.template.metadata.labels));
            expect(selected.map((d) => d.inputs.metadata.name)).toHaveLength(1);
            const deployment = selected[0].inputs;
            // The Deployment's own selector is the Service's: both come from componentSelector.
            expect(deployment.spec.selector.matchLabels).toEqual(selector);
            const portNames = (deployment.spec.template.spec.containers as { ports?: { name?: string }[] }[])
                .flatMap((c) => (c.ports ?? []).map((p) => p.name));
            for (const port of service.inputs.spec.ports as { targetPort: string | number }[]) {
                expect(portNames).toContain(port.targetPort);
            }
        }
    });
});
