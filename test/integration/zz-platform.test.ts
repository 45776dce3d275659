import * as bcrypt from "bcryptjs";
import { Stack } from "@pulumi/pulumi/automation";
import { PLATFORM_OUTPUT_NAMES } from "../../stacks/contract";
import { countLabelled, destroyPlatform, ensurePlatform, kubectl, kubectlJson, PLATFORM_STACK, quietOutput } from "./harness";

/*
 * The platform stack with the embedded default's configuration (Pulumi.dev.yaml) on the local
 * cluster, through the real engine: what it creates, that a second preview changes nothing, and
 * that destroy leaves nothing behind. It shares the platform stack with the other integration
 * tests (harness `ensurePlatform`) and tears it down at the end.
 */
jest.setTimeout(15 * 60_000);

const STACK_SELECTOR = `catalyst.dev/stack=${PLATFORM_STACK}`;
// Every kind the platform and its charts create (CRD-backed kinds are checked separately, as
// their API disappears with the CRDs).
const KINDS = [
    "namespaces",
    "deployments",
    "replicasets",
    "pods",
    "services",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "ingresses",
    "ingressclasses",
    "cronjobs",
    "serviceaccounts",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
    "poddisruptionbudgets",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
].join(",");
const NAMESPACES = ["ingress-nginx", "registry", "cnpg-system", "database", "catalyst-system"];
const CNPG_CRDS = ["clusters", "backups", "scheduledbackups", "poolers", "databases"].map((plural) => `${plural}.postgresql.cnpg.io`);

interface Condition {
    type: string;
    status: string;
}
interface WithConditions {
    status?: { conditions?: Condition[] };
}

function condition(object: WithConditions, type: string): string | undefined {
    return object.status?.conditions?.find((c) => c.type === type)?.status;
}

function deployment(namespace: string, name: string): WithConditions & { status?: { availableReplicas?: number } } {
    return kubectlJson(["get", "deployment", name, "-n", namespace]);
}

/** Waits until `kubectl get <resource>` finds nothing (namespace deletion finishes asynchronously). */
async function waitGone(resource: string, timeoutSeconds = 180): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (kubectl(["get", resource, "--ignore-not-found", "-o", "name"]).trim() !== "") {
        if (Date.now() > deadline) {
            throw new Error(`${resource} still exists after ${timeoutSeconds}s`);
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
    }
}

describe("platform stack on the local cluster", () => {
    let stack: Stack;

    beforeAll(async () => {
        stack = await ensurePlatform();
    });

    it("runs the ingress-nginx controller behind the default IngressClass nginx", () => {
        const controller = deployment("ingress-nginx", "ingress-nginx-controller");
        expect(condition(controller, "Available")).toBe("True");
        const ingressClass = kubectlJson<{ metadata: { annotations?: Record<string, string> }; spec: { controller: string } }>(
            ["get", "ingressclass", "nginx"],
        );
        expect(ingressClass.spec.controller).toBe("k8s.io/ingress-nginx");
        expect(ingressClass.metadata.annotations?.["ingressclass.kubernetes.io/is-default-class"]).toBe("true");
        // The local configuration turns the admission webhook (and its hook Jobs) off.
        expect(kubectl(["get", "validatingwebhookconfigurations", "-o", "name"])).not.toContain("ingress-nginx");
        expect(kubectl(["get", "jobs", "-n", "ingress-nginx", "-o", "name"]).trim()).toBe("");
    });

    it("labels every platform namespace for Pod Security restricted", () => {
        for (const name of NAMESPACES) {
            const namespace = kubectlJson<{ metadata: { labels: Record<string, string> } }>(["get", "namespace", name]);
            expect([name, namespace.metadata.labels["pod-security.kubernetes.io/enforce"]]).toEqual([name, "restricted"]);
            expect(namespace.metadata.labels["catalyst.dev/stack"]).toBe(PLATFORM_STACK);
        }
    });

    it("runs the registry on a bound volume, behind an Ingress with an address", () => {
        expect(condition(deployment("registry", "registry"), "Available")).toBe("True");
        const claim = kubectlJson<{ status: { phase: string } }>(["get", "pvc", "registry-data", "-n", "registry"]);
        expect(claim.status.phase).toBe("Bound");
        const ingress = kubectlJson<{ spec: { ingressClassName: string; rules: { host: string }[] }; status: { loadBalancer: { ingress?: unknown[] } } }>(
            ["get", "ingress", "registry", "-n", "registry"],
        );
        expect(ingress.spec.ingressClassName).toBe("nginx");
        expect(ingress.spec.rules[0].host).toBe("registry.catalyst.localhost");
        expect(ingress.status.loadBalancer.ingress?.length ?? 0).toBeGreaterThan(0);
        expect(kubectl(["get", "cronjob", "registry-gc", "-n", "registry", "-o", "name"]).trim()).toBe("cronjob.batch/registry-gc");
    });

    it("gives environments a pull secret whose password matches the registry's htpasswd", async () => {
        const outputs = await stack.outputs();
        expect(outputs.registryPullSecret.secret).toBe(true);
        const pull = JSON.parse(outputs.registryPullSecret.value as string);
        const entry = pull.auths["registry.catalyst.localhost"];
        const auth = kubectlJson<{ data: { htpasswd: string } }>(["get", "secret", "registry-auth", "-n", "registry"]);
        const [user, hash] = Buffer.from(auth.data.htpasswd, "base64").toString().trim().split(":");
        expect(user).toBe(entry.username);
        expect(bcrypt.compareSync(entry.password, hash)).toBe(true);
    });

    it("installs the control plane: both CRDs Established, the controller Deployment and its PDB in catalyst-system", () => {
        for (const crd of ["projects.catalyst.dev", "environments.catalyst.dev"]) {
            expect([crd, condition(kubectlJson<WithConditions>(["get", "crd", crd]), "Established")]).toEqual([crd, "True"]);
        }
        // Scheduled and reported Available by kwok; no container runs (the tests run the controller as processes).
        const controller = deployment("catalyst-system", "catalyst-controller");
        expect(condition(controller, "Available")).toBe("True");
        expect(controller.status?.availableReplicas).toBe(2);
        expect(kubectl(["get", "pdb", "catalyst-controller", "-n", "catalyst-system", "-o", "name"]).trim()).toBe("poddisruptionbudget.policy/catalyst-controller");
        const nodes = kubectlJson<{ items: { spec: { nodeName: string } }[] }>(["get", "pods", "-n", "catalyst-system", "-l", "app.kubernetes.io/name=catalyst-controller"]).items.map((p) => p.spec.nodeName);
        expect(new Set(nodes).size).toBe(2);
    });

    it("installs the CloudNativePG CRDs and operator and accepts the shared Cluster", () => {
        for (const crd of CNPG_CRDS) {
            const definition = kubectlJson<WithConditions>(["get", "crd", crd]);
            expect([crd, condition(definition, "Established")]).toEqual([crd, "True"]);
        }
        expect(condition(deployment("cnpg-system", "cloudnative-pg"), "Available")).toBe("True");
        const cluster = kubectlJson<{ spec: { instances: number; enableSuperuserAccess: boolean } }>(
            ["get", "clusters.postgresql.cnpg.io", "shared", "-n", "database"],
        );
        expect(cluster.spec.instances).toBe(1);
        expect(cluster.spec.enableSuperuserAccess).toBe(false);
    });

    it("exports exactly the platform contract", async () => {
        const outputs = await stack.outputs();
        expect(Object.keys(outputs).sort()).toEqual([...PLATFORM_OUTPUT_NAMES].sort());
        expect(outputs.ingressClassName.value).toBe("nginx");
        expect(outputs.postgresHost.value).toBe("shared-rw.database.svc.cluster.local");
        expect(outputs.tunnelId.value).toBe("");
    });

    it("previews no changes on a second run", async () => {
        const preview = await stack.preview({ onOutput: quietOutput });
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);
    });

    it("leaves nothing behind after destroy", async () => {
        // The count before destroy shows the label selector finds the platform's objects at all.
        expect(countLabelled(KINDS, STACK_SELECTOR)).toBeGreaterThan(20);
        await destroyPlatform(stack);
        for (const name of NAMESPACES) {
            await waitGone(`namespace/${name}`);
        }
        expect(countLabelled(KINDS, STACK_SELECTOR)).toBe(0);
        // The CloudNativePG chart has no common-labels value: its objects carry Helm's instance label.
        expect(countLabelled(KINDS, "app.kubernetes.io/instance in (cloudnative-pg,ingress-nginx)")).toBe(0);
        expect(kubectl(["get", "ingressclass", "nginx", "--ignore-not-found", "-o", "name"]).trim()).toBe("");
        // Deliberately kept: the chart marks its CRDs `helm.sh/resource-policy: keep` and Chart v4
        // honours it, since deleting a CRD deletes every Postgres cluster of every environment.
        for (const crd of CNPG_CRDS) {
            expect(kubectl(["get", "crd", crd, "--ignore-not-found", "-o", "name"]).trim()).toBe(`customresourcedefinition.apiextensions.k8s.io/${crd}`);
        }
    });
});
