import { DeploymentState, kubernetesId, locksAreStale, parseLockHolders, repairPendingOperations } from "../../../stacks/automation/recovery";

const message = `error: the stack is currently locked by 2 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.
  file:///state/.pulumi/locks/organization/catalyst/pr-1/a.json?no_tmp_dir=true: created by root@vm (pid 16040) at 2026-11-22T23:48:23Z
  s3://bucket/.pulumi/locks/organization/catalyst/pr-1/b.json: created by ci@runner-7 (pid 99) at 2026-11-22T23:50:00Z`;

describe("recovery after a killed update", () => {
    it("reads lock holders from the DIY backend's message", () => {
        expect(parseLockHolders(message)).toEqual([
            { user: "root", host: "vm", pid: 16040, time: "2026-11-22T23:48:23Z" },
            { user: "ci", host: "runner-7", pid: 99, time: "2026-11-22T23:50:00Z" },
        ]);
        expect(parseLockHolders("[409] Conflict: Another update is currently in progress.")).toEqual([]);
    });

    it("calls locks stale only when every holder is a dead process of this machine", () => {
        const dead = () => false;
        const alive = () => true;
        const holders = parseLockHolders(message);
        expect(locksAreStale([holders[0]], "vm", dead)).toBe(true);
        expect(locksAreStale([holders[0]], "vm", alive)).toBe(false);
        expect(locksAreStale(holders, "vm", dead)).toBe(false);
        expect(locksAreStale([], "vm", dead)).toBe(false);
    });

    it("counts a lock of a host the caller names dead as stale, alive or not, and only that host's", () => {
        const dead = () => false;
        const alive = () => true;
        const holders = parseLockHolders(message);
        // runner-7 is another machine: its pid means nothing here, only the caller's word does.
        expect(locksAreStale([holders[1]], "vm", alive)).toBe(false);
        expect(locksAreStale([holders[1]], "vm", alive, ["runner-7"])).toBe(true);
        expect(locksAreStale(holders, "vm", alive, ["runner-7"])).toBe(false);
        expect(locksAreStale(holders, "vm", dead, ["runner-7"])).toBe(true);
        expect(locksAreStale([holders[1]], "vm", dead, ["runner-8"])).toBe(false);
    });

    it("knows the id the Kubernetes provider gives an object", () => {
        const k = (type: string, metadata: Record<string, unknown>) => ({ urn: "u", type, custom: true, inputs: { metadata } });
        expect(kubernetesId(k("kubernetes:core/v1:Service", { name: "web-1a2b", namespace: "env-pr-1" }))).toBe("env-pr-1/web-1a2b");
        expect(kubernetesId(k("kubernetes:core/v1:Namespace", { name: "env-pr-1" }))).toBe("env-pr-1");
        expect(kubernetesId(k("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", { name: "cr" }))).toBe("cr");
        expect(kubernetesId(k("kubernetes:core/v1:ConfigMap", { name: "no-namespace" }))).toBeUndefined();
        expect(kubernetesId({ urn: "u", type: "kubernetes:helm.sh/v3:Release", custom: true, inputs: { name: "r", namespace: "n" } })).toBe("n/r");
        expect(kubernetesId({ urn: "u", type: "pulumi-nodejs:dynamic:Resource", custom: true, inputs: {} })).toBeUndefined();
        expect(kubernetesId({ urn: "u", type: "kubernetes:helm.sh/v4:Chart", custom: false, inputs: {} })).toBeUndefined();
    });

    it("adopts interrupted creates with known ids, drops other pending operations, and leaves the input alone", () => {
        const stackUrn = "urn:pulumi:pr-1::catalyst::pulumi:pulumi:Stack::catalyst-pr-1";
        const svc = "urn:pulumi:pr-1::catalyst::kubernetes:core/v1:Service::web";
        const deployment: DeploymentState = {
            manifest: { version: "v3.259.0" },
            resources: [
                { urn: stackUrn, type: "pulumi:pulumi:Stack", custom: false },
                { urn: "urn:pulumi:pr-1::catalyst::kubernetes:core/v1:Namespace::ns", type: "kubernetes:core/v1:Namespace", custom: true, id: "env-pr-1" },
            ],
            pending_operations: [
                { type: "creating", resource: { urn: svc, type: "kubernetes:core/v1:Service", custom: true, inputs: { metadata: { name: "web-1a2b", namespace: "env-pr-1" } } } },
                { type: "creating", resource: { urn: "urn:pulumi:pr-1::catalyst::pulumi-nodejs:dynamic:Resource::pw", type: "pulumi-nodejs:dynamic:Resource", custom: true } },
                { type: "updating", resource: { urn: "urn:pulumi:pr-1::catalyst::kubernetes:core/v1:Namespace::ns", type: "kubernetes:core/v1:Namespace", custom: true, id: "env-pr-1" } },
            ],
        };
        const before = JSON.stringify(deployment);
        const { deployment: repaired, adopted, dropped } = repairPendingOperations(deployment);
        expect(JSON.stringify(deployment)).toBe(before);
        expect(adopted).toEqual([svc]);
        expect(dropped).toHaveLength(2);
        expect(repaired.pending_operations).toEqual([]);
        expect(repaired.manifest).toEqual({ version: "v3.259.0" });
        const service = repaired.resources?.find((r) => r.urn === svc);
        expect(service).toMatchObject({ id: "env-pr-1/web-1a2b", outputs: { metadata: { name: "web-1a2b" }, __inputs: { metadata: { name: "web-1a2b" } } } });
        expect(repaired.resources?.map((r) => r.urn).at(-1)).toBe(svc);
    });

    it("records an interrupted replacement as the engine does: the old entry pending deletion", () => {
        const urn = "urn:pulumi:pr-1::catalyst::kubernetes:core/v1:Service::web";
        const { deployment } = repairPendingOperations({
            resources: [{ urn, type: "kubernetes:core/v1:Service", custom: true, id: "env-pr-1/web-old" }],
            pending_operations: [{ type: "creating", resource: { urn, type: "kubernetes:core/v1:Service", custom: true, inputs: { metadata: { name: "web-new", namespace: "env-pr-1" } } } }],
        });
        expect(deployment.resources?.map((r) => [r.id, r.delete ?? false])).toEqual([["env-pr-1/web-old", true], ["env-pr-1/web-new", false]]);
    });
});
