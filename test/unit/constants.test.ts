import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { CLUSTER_SCOPED_KINDS } from "../../components/naming";
import { findOrphanNamespaces } from "../../stacks/automation/gc";
import { kubernetesId } from "../../stacks/automation/recovery";

/*
 * Issue 12, defect 3.6: one source for every constant. The label, the owner service account and
 * the cluster-scoped kinds are each declared in one module; names are built by naming.ts.
 */

const root = path.resolve(__dirname, "..", "..");

function sources(dir: string): string[] {
    return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && e.name.endsWith(".ts"))
        .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const files = ["components", "stacks", "policy"].flatMap(sources);
const holding = (literal: string) => files.filter((f) => readFileSync(path.join(root, f), "utf8").includes(literal)).sort();

describe("one source for every constant (issue 12, 3.6)", () => {
    it("declares the environment label once (components/environment/labels.ts)", () => {
        expect(holding('"catalyst.dev/environment"')).toEqual(["components/environment/labels.ts"]);
    });

    it("declares the owner service account once (components/naming.ts)", () => {
        expect(holding('"owner-kubeconfig"')).toEqual(["components/naming.ts"]);
    });

    it("declares the cluster-scoped kinds once, and recovery uses the same list as the app-source guard", () => {
        // A list of kinds, not one object's own `kind: "CustomResourceDefinition"` (stacks/resources/crd.ts).
        expect(holding('"ClusterRoleBinding", "CustomResourceDefinition"')).toEqual(["components/naming.ts"]);
        const state = (kind: string) => ({ urn: `urn:x::${kind}`, type: `kubernetes:certificates.k8s.io/v1beta1:${kind}`, custom: true, inputs: { metadata: { name: "bundle" } } });
        // ClusterTrustBundle was missing from recovery's own copy: a pending create of one was never named.
        for (const kind of CLUSTER_SCOPED_KINDS) expect(kubernetesId(state(kind) as never)).toBe("bundle");
    });

    it("builds stack and namespace names through components/naming.ts, not by hand", () => {
        const byHand = /`(?:env|pr)-\$\{|replace\(\/\^env-\//;
        for (const file of ["components/environment/database.ts", "stacks/automation/gc.ts", "stacks/automation/validation.ts", "stacks/api/service.ts"]) {
            expect({ file, byHand: byHand.test(readFileSync(path.join(root, file), "utf8")) }).toEqual({ file, byHand: false });
        }
    });

    it("gc maps an unlabelled namespace back to its stack through naming.ts (only env- namespaces of real stack names)", () => {
        const orphans = findOrphanNamespaces([{ name: "env-pr-7", labels: {} }, { name: "env-pr-8", labels: {} }, { name: "other", labels: {} }], ["pr-7"]);
        expect(orphans.map((n) => n.name)).toEqual(["env-pr-8", "other"]);
    });
});
