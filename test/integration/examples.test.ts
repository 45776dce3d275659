import { ConfigMap, Stack } from "@pulumi/pulumi/automation";
import {
    clusterEndpoint,
    conditionOf,
    configFromFile,
    entry,
    ENVIRONMENT_KINDS,
    PLATFORM_REFERENCE,
    throwawayKey,
    waitGone,
} from "./environment-helpers";
import { countLabelled, ensurePlatform, kubectlJson, quietOutput, withStack } from "./harness";

/*
 * The two examples under examples/ as production environments on the shared platform of the
 * local cluster: each goes up from its checked-in stack file (plus the secrets its README says
 * to set), shows the features it exists for, previews no changes, and goes down leaving nothing.
 * They run one after the other: both are `production`, i.e. the namespace env-production.
 */
jest.setTimeout(30 * 60_000);

const namespace = "env-production";
const selector = "catalyst.dev/environment=production";

/** An example's stack file with the test platform and cluster, plus `extra` values. */
function exampleConfig(file: string, extra: ConfigMap = {}): ConfigMap {
    return {
        ...configFromFile(file),
        "catalyst:platformStack": entry(PLATFORM_REFERENCE),
        "catalyst:cluster": entry(clusterEndpoint()),
        ...extra,
    };
}

/** Brings `stack` up, runs `checks`, verifies a clean second preview, destroys and counts leftovers. */
async function upCheckDown(stack: Stack, checks: () => void): Promise<void> {
    const up = await stack.up({ onOutput: quietOutput });
    expect(up.summary.result).toBe("succeeded");
    checks();
    const preview = await stack.preview({ onOutput: quietOutput });
    expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);
    const destroy = await stack.destroy({ onOutput: quietOutput });
    expect(destroy.summary.result).toBe("succeeded");
    await waitGone(`namespace/${namespace}`);
    expect(countLabelled(ENVIRONMENT_KINDS, selector)).toBe(0);
}

interface Container {
    name: string;
    env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
    volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
    resources: { limits: Record<string, string> };
    securityContext: Record<string, unknown>;
}
interface DeploymentObject {
    spec: { replicas: number; strategy: { type: string }; template: { spec: { containers: Container[]; volumes: Array<Record<string, unknown>> } } };
}

describe("examples on the local cluster", () => {
    beforeAll(async () => {
        await ensurePlatform();
    });

    it("runs the Catalyst web app in production", async () => {
        const config = exampleConfig("examples/catalyst-web/Pulumi.production.yaml", {
            "catalyst:appSecretFiles": entry({ "ssh-private-key": throwawayKey() }, true),
        });
        await withStack("production", config, (stack) => upCheckDown(stack, () => {
            expect(conditionOf("deployment", "catalyst-web", namespace, "Available")).toBe("True");
            const deployment = kubectlJson<DeploymentObject>(["get", "deployment", "catalyst-web", "-n", namespace]);
            expect(deployment.spec.replicas).toBe(2);
            const container = deployment.spec.template.spec.containers[0];
            for (const name of ["CATALYST_SECRET", "COOKIE_SECRET"]) {
                expect(container.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef).toEqual({ name: "catalyst-web-secrets", key: name });
            }
            expect(container.volumeMounts).toContainEqual({ name: "secret-file-0", mountPath: "/app/.ssh", readOnly: true });
            const secret = kubectlJson<{ data: Record<string, string> }>(["get", "secret", "catalyst-web-secrets", "-n", namespace]);
            expect(Buffer.from(secret.data.COOKIE_SECRET, "base64").toString()).toMatch(/^[A-Za-z0-9]{48}$/);
            const egress = kubectlJson<{ spec: { egress: Array<{ to: Array<{ ipBlock: { cidr: string } }>; ports: Array<{ port: number }> }> } }>(
                ["get", "networkpolicy", "catalyst-web-extra-egress", "-n", namespace],
            );
            expect(egress.spec.egress).toEqual([{ to: [{ ipBlock: { cidr: "10.20.0.5/32" } }], ports: [{ protocol: "TCP", port: 22 }] }]);
            expect(kubectlJson(["get", "poddisruptionbudget", "catalyst-web", "-n", namespace])).toBeDefined();
            const cluster = kubectlJson<{ spec: { instances: number } }>(["get", "clusters.postgresql.cnpg.io", "postgres", "-n", namespace]);
            expect(cluster.spec.instances).toBe(2);
        }));
    });

    it("runs the NoClaw server in production with its data volume", async () => {
        await withStack("production", exampleConfig("examples/noclaw/Pulumi.production.yaml"), (stack) => upCheckDown(stack, () => {
            expect(conditionOf("deployment", "noclaw", namespace, "Available")).toBe("True");
            const deployment = kubectlJson<DeploymentObject>(["get", "deployment", "noclaw", "-n", namespace]);
            expect(deployment.spec.replicas).toBe(1);
            expect(deployment.spec.strategy.type).toBe("Recreate");
            const container = deployment.spec.template.spec.containers[0];
            expect(container.resources.limits.memory).toBe("512Mi");
            expect(container.volumeMounts).toContainEqual({ name: "data", mountPath: "/app/data" });
            const claim = kubectlJson<{ status: { phase: string } }>(["get", "pvc", "noclaw-data", "-n", namespace]);
            expect(claim.status.phase).toBe("Bound");
        }));
    });
});
