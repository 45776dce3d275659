import { spawnSync } from "child_process";
import { randomInt } from "crypto";
import { rmSync } from "fs";
import * as path from "path";
import { Automation } from "../../stacks/automation/operations";
import { CatalystEvent } from "../../stacks/automation/types";
import { kubectl, repoRoot, requireTestEnvironment } from "./harness";

/*
 * Defect 3.9 of issue 12: after `npm run cluster:down` and `up`, a stack's local state still
 * describes the old cluster, and an up reported "unchanged" while the new cluster held nothing.
 * A one-ConfigMap stack runs through the automation layer, the local cluster is recreated (the
 * sequencer runs this file last, since it takes the cluster from under everything else), and
 * the next up must notice the new cluster, refresh, and recreate the object.
 */
jest.setTimeout(15 * 60_000);

const fixture = path.join(__dirname, "fixtures", "identity");
const run = randomInt(100, 999);
const workRoot = path.join(repoRoot, ".catalyst", `test-work-identity-${run}`);
const auditLog = path.join(repoRoot, ".catalyst", "test-results", `identity-audit-${run}.log`);

const configMap = () => kubectl(["get", "configmap", "catalyst-identity", "-n", "default", "--ignore-not-found", "-o", "name"]).trim();
const clusterUid = () => kubectl(["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"]).trim();

function cluster(action: "up" | "down"): void {
    const result = spawnSync("bash", [path.join(repoRoot, "tools", "cluster.sh"), action], { cwd: repoRoot, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`tools/cluster.sh ${action} failed: ${result.stderr.trim().split("\n").at(-1)}`);
}

describe("a stack on a recreated cluster (issue 12, defect 3.9)", () => {
    afterAll(() => rmSync(workRoot, { recursive: true, force: true }));

    it("notices the new cluster by its kube-system uid, refreshes, and recreates what the state described", async () => {
        requireTestEnvironment();
        const automation = new Automation({ repoRoot: fixture, workRoot, auditLog, platformStack: "dev" });
        expect((await automation.upPlatform().result).status).toBe("succeeded");
        expect(configMap()).toBe("configmap/catalyst-identity");

        const before = clusterUid();
        cluster("down");
        cluster("up");
        expect(clusterUid()).not.toBe(before);
        expect(configMap()).toBe("");

        const events: CatalystEvent[] = [];
        const again = await automation.upPlatform({ onEvent: (e) => events.push(e) }).result;
        expect(again.status).toBe("succeeded");
        expect(events).toContainEqual(expect.objectContaining({
            type: "step",
            step: "refreshing",
            message: `dev: its state describes another cluster (kube-system uid ${before}; this cluster's is ${clusterUid()}); refreshing the state from this cluster`,
        }));
        expect(configMap()).toBe("configmap/catalyst-identity");

        expect((await automation.destroyPlatform().result).status).toBe("succeeded");
        expect(configMap()).toBe("");
    });
});
