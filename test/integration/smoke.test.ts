import { execFileSync } from "child_process";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { countLabelled, kubectl, kubectlJson, quietOutput, requireTestEnvironment, suffix } from "./harness";

/*
 * Proves the toolchain end to end: the Pulumi CLI and engine built from source, the Node
 * language host, the Kubernetes provider plugin, the dynamic-provider plugin behind
 * GeneratedPassword, and the local control plane, all driven through the Automation API.
 */
const workDir = path.join(__dirname, "fixtures", "smoke");
const resourceKinds = "namespaces,deployments,replicasets,pods,services,secrets";

interface Condition {
    type: string;
    status: string;
}

describe("toolchain smoke test", () => {
    it("creates, re-previews and destroys a small program on the local cluster", async () => {
        requireTestEnvironment();
        const run = suffix();
        const label = `catalyst.dev/smoke=${run}`;
        const stackName = `smoke-${run}`;
        const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir });
        try {
            await stack.setConfig("runLabel", { value: run });

            const up = await stack.up({ onOutput: quietOutput });
            expect(up.summary.result).toBe("succeeded");
            const namespace = up.outputs.namespaceName.value as string;
            expect(namespace).toBe(`smoke-${run}`);

            const deployment = kubectlJson<{ status: { conditions: Condition[]; availableReplicas: number } }>(
                ["get", "deployment", up.outputs.deploymentName.value as string, "-n", namespace],
            );
            expect(deployment.status.availableReplicas).toBe(2);
            expect(deployment.status.conditions.find((c) => c.type === "Available")?.status).toBe("True");
            const secret = kubectlJson<{ data: { password: string } }>(
                ["get", "secret", up.outputs.secretName.value as string, "-n", namespace],
            );
            expect(Buffer.from(secret.data.password, "base64").toString()).toMatch(/^[A-Za-z0-9]{24}$/);
            // The password is a secret in the stack state, never plain text. (The Automation
            // API's exportStack() decrypts secrets, so ask the CLI for the state as stored.)
            const exported = execFileSync("pulumi", ["stack", "export", "--stack", stackName, "--cwd", workDir], {
                encoding: "utf8",
            });
            expect(exported).toContain('"ciphertext"');
            expect(exported.includes(Buffer.from(secret.data.password, "base64").toString())).toBe(false);

            const preview = await stack.preview({ onOutput: quietOutput });
            expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);

            const destroy = await stack.destroy({ onOutput: quietOutput });
            expect(destroy.summary.result).toBe("succeeded");
            kubectl(["wait", "--for=delete", `namespace/${namespace}`, "--timeout=60s"]);
            expect(countLabelled(resourceKinds, label)).toBe(0);
        } finally {
            await stack.destroy({ onOutput: quietOutput });
            await stack.workspace.removeStack(stackName);
        }
    }, 300_000);
});
