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

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

interface Probe {
    httpGet?: { path: string; port: string | number };
}
interface Container {
    name: string;
    resources?: { limits?: Record<string, string> };
    securityContext?: { readOnlyRootFilesystem?: boolean };
    volumeMounts?: { name: string; mountPath: string }[];
    livenessProbe?: Probe;
    readinessProbe?: Probe;
}
interface PodSpec {
    containers: Container[];
    initContainers?: Container[];
    volumes?: { name: string; emptyDir?: unknown }[];
}

/** The pod templates of the workloads in `namespace`, named `Kind namespace/name`. */
function podTemplates(namespace: string): { owner: string; spec: PodSpec }[] {
    const list = kubectlJson<{ items: Json[] }>(["get", "deployments,statefulsets,daemonsets,cronjobs,jobs", "-n", namespace]).items;
    return list
        // Jobs a CronJob made are checked through the CronJob.
        .filter((item) => !(item.kind === "Job" && (item.metadata.ownerReferences ?? []).length > 0))
        .map((item) => ({
            owner: `${item.kind} ${namespace}/${item.metadata.name}`,
            spec: item.kind === "CronJob" ? item.spec.jobTemplate.spec.template.spec : item.spec.template.spec,
        }));
}

/** One peer of a NetworkPolicy rule, in words. */
function peer(p: Json): string {
    if (p.ipBlock) {
        return p.ipBlock.cidr + (p.ipBlock.except?.length ? ` except ${p.ipBlock.except.join(",")}` : "");
    }
    if (p.namespaceSelector) {
        const name = p.namespaceSelector.matchLabels?.["kubernetes.io/metadata.name"];
        const exists = (p.namespaceSelector.matchExpressions ?? []).map((e: Json) => `${e.key} ${e.operator}`);
        return name !== undefined ? `ns/${name}` : `namespaces with ${exists.join(", ")}`;
    }
    return p.podSelector !== undefined ? "same namespace" : JSON.stringify(p);
}

/** The NetworkPolicies of `namespace`, one line per rule: `name: in|out from|to peers on ports`. */
function networkFlows(namespace: string): string[] {
    const policies = kubectlJson<{ items: Json[] }>(["get", "networkpolicies", "-n", namespace]).items;
    return policies.flatMap((policy) => {
        const { spec } = policy;
        const pods = Object.keys(spec.podSelector?.matchLabels ?? {}).length === 0 ? "" : ` (pods ${JSON.stringify(spec.podSelector.matchLabels)})`;
        const render = (direction: "in" | "out", rules: Json[] | undefined) => (rules ?? []).map((rule) => {
            const peers: Json[] | undefined = direction === "in" ? rule.from : rule.to;
            const ports = (rule.ports ?? []).map((p: Json) => `${(p.protocol ?? "TCP").toLowerCase()}/${p.port}`);
            return `${policy.metadata.name}${pods}: ${direction} ${direction === "in" ? "from" : "to"} ${peers?.length ? peers.map(peer).join(" + ") : "anywhere"} on ${ports.length ? ports.join(",") : "all ports"}`;
        });
        const lines = [...render("in", spec.ingress), ...render("out", spec.egress)];
        const types: string[] = spec.policyTypes ?? [];
        if (lines.length === 0) {
            lines.push(`${policy.metadata.name}${pods}: deny ${types.map((t) => t.toLowerCase()).join(" and ")}`);
        }
        return lines;
    }).sort();
}

const ENVIRONMENTS = "namespaces with catalyst.dev/environment Exists";
const DNS = "allow-dns: out to ns/kube-system on udp/53,tcp/53";
const API_SERVER = "allow-api-server: out to 0.0.0.0/0 on tcp/443,tcp/6443";
/** The flows of the local configuration (admission webhooks off, no tunnel, no node CIDRs, no backups). */
const EXPECTED_FLOWS: Record<string, string[]> = {
    "ingress-nginx": [
        API_SERVER,
        "allow-control-plane-api: out to ns/catalyst-system on tcp/8080",
        DNS,
        `allow-environments: out to ${ENVIRONMENTS} on all ports`,
        "allow-http: in from anywhere on tcp/80,tcp/443",
        "allow-registry: out to ns/registry on tcp/5000",
        "default-deny: deny ingress and egress",
    ],
    registry: [
        DNS,
        "allow-ingress-controller: in from ns/ingress-nginx on tcp/5000",
        "default-deny: deny ingress and egress",
    ],
    "cnpg-system": [
        API_SERVER,
        DNS,
        `allow-instances: out to ns/database + ${ENVIRONMENTS} on tcp/8000`,
        "default-deny: deny ingress and egress",
    ],
    "catalyst-system": [
        API_SERVER,
        DNS,
        "allow-ingress-controller: in from ns/ingress-nginx on tcp/8080",
        "allow-outside: out to 0.0.0.0/0 except 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.169.254/32 on tcp/443,tcp/5432",
        "allow-state-backend: out to ns/database on tcp/5432",
        "default-deny: deny ingress and egress",
    ],
    database: [
        API_SERVER,
        "allow-control-plane: in from ns/catalyst-system on tcp/5432",
        DNS,
        `allow-environments: in from ${ENVIRONMENTS} on tcp/5432`,
        "allow-operator: in from ns/cnpg-system on tcp/8000",
        "allow-replication-in: in from same namespace on tcp/5432,tcp/8000",
        "allow-replication-out: out to same namespace on tcp/5432,tcp/8000",
        "default-deny: deny ingress and egress",
    ],
};

/** Every container of the platform's workloads (init containers included). */
const PLATFORM_CONTAINERS = [
    "CronJob registry/registry-gc garbage-collect",
    "Deployment catalyst-system/catalyst-api api",
    "Deployment catalyst-system/catalyst-controller controller",
    "Deployment cnpg-system/cloudnative-pg manager",
    "Deployment ingress-nginx/ingress-nginx-controller controller",
    "Deployment ingress-nginx/ingress-nginx-controller copy-nginx-config",
    "Deployment registry/registry registry",
];

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

    it("gives every platform namespace a default deny and exactly the flows it needs (stored: kwok enforces no NetworkPolicy)", () => {
        const actual = Object.fromEntries(NAMESPACES.map((namespace) => [namespace, networkFlows(namespace)]));
        expect(actual).toEqual(EXPECTED_FLOWS);
    });

    it("sets CPU and memory limits and a read-only root file system on every platform container", () => {
        const found = NAMESPACES.flatMap((namespace) => podTemplates(namespace)).flatMap(({ owner, spec }) =>
            [...(spec.initContainers ?? []), ...spec.containers].map((c) => ({ owner: `${owner} ${c.name}`, c })));
        // Every workload of the platform is here: the test would pass vacuously otherwise.
        expect(found.map((f) => f.owner).sort()).toEqual(PLATFORM_CONTAINERS);
        const problems = found.flatMap(({ owner, c }) => [
            ...(c.resources?.limits?.cpu === undefined ? [`${owner}: no CPU limit`] : []),
            ...(c.resources?.limits?.memory === undefined ? [`${owner}: no memory limit`] : []),
            ...(c.securityContext?.readOnlyRootFilesystem === true ? [] : [`${owner}: writable root file system`]),
        ]);
        // The Postgres instances are the operator's pods (none run on kwok): their limits come from the Cluster.
        const cluster = kubectlJson<{ spec: { resources?: { limits?: Record<string, string> } } }>(["get", "clusters.postgresql.cnpg.io", "shared", "-n", "database"]);
        for (const resource of ["cpu", "memory"]) {
            if (cluster.spec.resources?.limits?.[resource] === undefined) {
                problems.push(`Cluster database/shared: no ${resource} limit`);
            }
        }
        expect(problems).toEqual([]);
    });

    it("writes only to emptyDir volumes where the root file system is read-only", () => {
        const controller = podTemplates("ingress-nginx").find((t) => t.owner === "Deployment ingress-nginx/ingress-nginx-controller");
        const volumes = Object.fromEntries((controller?.spec.volumes ?? []).map((v) => [v.name, v.emptyDir === undefined ? "other" : "emptyDir"]));
        const mounts = (controller?.spec.containers[0].volumeMounts ?? []).map((m) => `${m.mountPath} ${volumes[m.name]}`).sort();
        expect(mounts).toEqual(["/etc/ingress-controller emptyDir", "/etc/nginx emptyDir", "/tmp emptyDir"]);
    });

    it("gives the registry separate liveness and readiness probes", () => {
        const registry = podTemplates("registry").find((t) => t.owner === "Deployment registry/registry");
        const container = registry?.spec.containers.find((c) => c.name === "registry");
        const probe = (p?: Probe) => (p?.httpGet ? `${p.httpGet.path} on ${p.httpGet.port}` : "none");
        expect({ liveness: probe(container?.livenessProbe), readiness: probe(container?.readinessProbe) })
            .toEqual({ liveness: "/ on http", readiness: "/debug/health on metrics" });
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
        // Today's one app, as the Project its Environments name without creating it first.
        expect(kubectl(["get", "projects.catalyst.dev", "-n", "catalyst-system", "-o", "name"]).trim().split("\n")).toContain("project.catalyst.dev/default");
        const nodes = kubectlJson<{ items: { spec: { nodeName: string } }[] }>(["get", "pods", "-n", "catalyst-system", "-l", "app.kubernetes.io/name=catalyst-controller"]).items.map((p) => p.spec.nodeName);
        expect(new Set(nodes).size).toBe(2);
        // The HTTP API in resource mode, behind the platform's ingress class.
        expect(condition(deployment("catalyst-system", "catalyst-api"), "Available")).toBe("True");
        const ingress = kubectlJson<{ spec: { ingressClassName: string; rules: { host: string }[] } }>(["get", "ingress", "catalyst-api", "-n", "catalyst-system"]);
        expect([ingress.spec.ingressClassName, ingress.spec.rules[0].host]).toEqual(["nginx", "catalyst.catalyst.localhost"]);
        // Its replicas' dashboard: one generated COOKIE_SECRET, and the sign-outs Secret, created empty.
        const cookie = kubectlJson<{ data: Record<string, string> }>(["get", "secret", "catalyst-api-cookie", "-n", "catalyst-system"]);
        expect(Buffer.from(cookie.data.cookieSecret, "base64").toString()).toMatch(/^[A-Za-z0-9]{48}$/);
        expect(kubectlJson<{ data?: object }>(["get", "secret", "catalyst-dashboard-signed-out", "-n", "catalyst-system"]).data).toBeUndefined();
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
