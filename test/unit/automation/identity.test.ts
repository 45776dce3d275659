import { checkCluster, ClusterMismatchError, readClusterIdentity } from "../../../stacks/automation/identity";

describe("cluster identity (defect 3.9)", () => {
    const local = { hasResources: true, local: true, adopt: false };
    const remote = { hasResources: true, local: false, adopt: false };

    it("reads the kube-system namespace's uid", async () => {
        const args: string[][] = [];
        expect(await readClusterIdentity(async (a) => (args.push(a), "uid-1\n"))).toBe("uid-1");
        expect(args).toEqual([["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"]]);
    });

    it("proceeds on the same cluster, on a stack without a record, and on an empty state", () => {
        expect(checkCluster("pr-1", "uid-1", "uid-1", remote)).toEqual({ action: "proceed" });
        expect(checkCluster("pr-1", undefined, "uid-2", remote)).toEqual({ action: "proceed" });
        expect(checkCluster("pr-1", "uid-1", "uid-2", { ...remote, hasResources: false })).toEqual({ action: "proceed" });
    });

    it("refreshes the local default from its recreated cluster", () => {
        expect(checkCluster("dev", "uid-1", "uid-2", local)).toEqual({
            action: "refresh",
            message: "dev: its state describes another cluster (kube-system uid uid-1; this cluster's is uid-2); refreshing the state from this cluster",
        });
    });

    it("refuses another cluster with one line saying what happened and what to run, unless asked to adopt it", () => {
        expect(() => checkCluster("production", "uid-1", "uid-2", remote)).toThrow(new ClusterMismatchError(
            "production: its state describes another cluster (kube-system uid uid-1; this cluster's is uid-2); " +
                "point KUBECONFIG at the cluster it was built on, or run again with CATALYST_ADOPT_CLUSTER=1 to refresh the state from this one",
        ));
        expect(checkCluster("production", "uid-1", "uid-2", { ...remote, adopt: true }).action).toBe("refresh");
    });
});
