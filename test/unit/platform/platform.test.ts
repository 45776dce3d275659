import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as PlatformModule from "../../../stacks/platform";
import { PLATFORM_OUTPUT_NAMES } from "../../../stacks/contract";
import { BASE_PLATFORM_CONFIG, installMocks, isSecret, MOCK_TUNNEL_ID, MockRecorder, settle, valueOf } from "./mocks";

const CHART = "kubernetes:helm.sh/v4:Chart";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
// settle() waits for a quiet moment; on a loaded machine that takes longer than jest's 5 s.
const SETTLE_TIMEOUT_MS = 60_000;
const base = BASE_PLATFORM_CONFIG;

let mocks: MockRecorder;
let platform: typeof PlatformModule;
// A chart mirror with both release tarballs, so that no test reaches for the network.
const mirror = mkdtempSync(path.join(tmpdir(), "catalyst-mirror-"));

beforeAll(async () => {
    for (const file of ["ingress-nginx-4.15.1.tgz", "cloudnative-pg-0.29.0.tgz"]) writeFileSync(path.join(mirror, file), "");
    process.env.CATALYST_CHART_MIRROR = mirror;
    mocks = installMocks({ stack: "platform", delayed: [CHART] });
    platform = await import("../../../stacks/platform");
});

afterAll(() => {
    delete process.env.CATALYST_CHART_MIRROR;
    rmSync(mirror, { recursive: true, force: true });
});

describe("platformProgram before it creates anything", () => {
    afterEach(() => {
        process.env.CATALYST_CHART_MIRROR = mirror;
        jest.restoreAllMocks();
    });

    it("reports every bad key on its own line, as a RunError (no stack trace)", async () => {
        mocks.reset();
        pulumi.runtime.setAllConfig({ ...base, "catalyst:domain": "localhost", "catalyst:ingress": JSON.stringify({ replicas: 0, colour: "red" }) });
        const error = await platform.platformProgram().then(() => undefined, (err: unknown) => err);
        expect(pulumi.RunError.isInstance(error)).toBe(true);
        expect((error as Error).message).toBe([
            "invalid configuration:",
            "  - catalyst:domain: must be a DNS name of at least two labels, such as example.com (lower case letters, digits, '-' and '.')",
            "  - catalyst:ingress.replicas: Too small: expected number to be >=1",
            "  - catalyst:ingress.colour: unknown key",
        ].join("\n"));
        expect(mocks.resources).toEqual([]);
    });

    it("names the mirror variable when the mirror lacks a tarball", async () => {
        mocks.reset();
        process.env.CATALYST_CHART_MIRROR = path.join(mirror, "empty");
        pulumi.runtime.setAllConfig(base);
        await expect(platform.platformProgram()).rejects.toThrow(
            `catalyst:charts.ingressNginx: CATALYST_CHART_MIRROR=${mirror}/empty holds no ingress-nginx-4.15.1.tgz (looked for ${mirror}/empty/ingress-nginx-4.15.1.tgz; ` +
                "add the release tarball, set catalyst:charts.ingressNginx to a chart path, or unset the variable to use https://kubernetes.github.io/ingress-nginx)",
        );
    });

    it("fails with one line naming the chart, the variable and the upstream URL when there is no mirror and no network", async () => {
        mocks.reset();
        delete process.env.CATALYST_CHART_MIRROR;
        pulumi.runtime.setAllConfig(base);
        const fetch = jest.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("fetch failed", { cause: new Error("getaddrinfo ENOTFOUND kubernetes.github.io") }));
        const error = await platform.platformProgram().then(() => undefined, (err: unknown) => err);
        expect(fetch).toHaveBeenCalledWith("https://kubernetes.github.io/ingress-nginx/index.yaml", expect.objectContaining({ method: "HEAD" }));
        expect(pulumi.RunError.isInstance(error)).toBe(true);
        expect((error as Error).message).toBe(
            "chart ingress-nginx 4.15.1: cannot reach https://kubernetes.github.io/ingress-nginx (getaddrinfo ENOTFOUND kubernetes.github.io); " +
                "without network set CATALYST_CHART_MIRROR to a directory holding ingress-nginx-4.15.1.tgz",
        );
        expect(mocks.resources).toEqual([]);
    });
});

afterAll(() => pulumi.runtime.setAllConfig({}));

describe("platformProgram with the tunnel off", () => {
    let outputs: PlatformModule.PlatformProgramOutputs;

    beforeAll(async () => {
        mocks.reset();
        pulumi.runtime.setAllConfig(base);
        outputs = await platform.platformProgram();
        await settle(mocks);
    }, SETTLE_TIMEOUT_MS);

    it("creates no Cloudflare resource and no provider, so the plugin is never needed", () => {
        expect(mocks.resources.filter((r) => r.type.includes("cloudflare"))).toEqual([]);
        expect(mocks.calls).toEqual([]);
    });

    it("builds the seven components and fences their namespaces", () => {
        expect(mocks.resources.filter((r) => r.type.startsWith("catalyst:platform:")).map((r) => r.type).sort()).toEqual([
            "catalyst:platform:AdmissionPolicies",
            "catalyst:platform:ControlPlane",
            "catalyst:platform:ControlPlaneApi",
            "catalyst:platform:ImageRegistry",
            "catalyst:platform:IngressNginx",
            "catalyst:platform:PlatformNetwork",
            ...Array(5).fill("catalyst:platform:PlatformNetworkPolicies"),
            "catalyst:platform:PostgresOperator",
            "catalyst:platform:SharedPostgres",
        ]);
    });

    it("denies all traffic of every platform namespace, then opens exactly its flows", () => {
        const policies = mocks.ofType(NETWORK_POLICY).map((p) => `${p.inputs.metadata.namespace}/${p.inputs.metadata.name}`).sort();
        expect(policies).toEqual([
            ...["allow-api-server", "allow-dns", "allow-ingress-controller", "allow-outside", "allow-state-backend", "default-deny"].map((n) => `catalyst-system/${n}`),
            ...["allow-api-server", "allow-dns", "allow-instances", "default-deny"].map((n) => `cnpg-system/${n}`),
            ...["allow-api-server", "allow-control-plane", "allow-dns", "allow-environments", "allow-operator", "allow-replication-in", "allow-replication-out", "default-deny"]
                .map((n) => `database/${n}`),
            ...["allow-api-server", "allow-control-plane-api", "allow-dns", "allow-environments", "allow-http", "allow-registry", "default-deny"].map((n) => `ingress-nginx/${n}`),
            ...["allow-dns", "allow-ingress-controller", "default-deny"].map((n) => `registry/${n}`),
        ]);
        const postgres = mocks.get(NETWORK_POLICY, "network-database-allow-environments").inputs.spec;
        expect(postgres.ingress).toEqual([{
            from: [{ namespaceSelector: { matchExpressions: [{ key: "catalyst.dev/environment", operator: "Exists" }] } }],
            ports: [{ protocol: "TCP", port: 5432 }],
        }]);
        // The controller reaches the state backend in the shared Postgres, and the database lets it in.
        expect(mocks.get(NETWORK_POLICY, "network-control-plane-allow-state-backend").inputs.spec.egress).toEqual([{
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "database" } } }],
            ports: [{ protocol: "TCP", port: 5432 }],
        }]);
        expect(mocks.get(NETWORK_POLICY, "network-database-allow-control-plane").inputs.spec.ingress).toEqual([{
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "catalyst-system" } } }],
            ports: [{ protocol: "TCP", port: 5432 }],
        }]);
        for (const policy of mocks.ofType(NETWORK_POLICY)) {
            expect(policy.inputs.metadata.annotations["catalyst.dev/reason"].length).toBeGreaterThan(10);
        }
    });

    it("limits every container it names, with the production defaults", () => {
        const ingress = mocks.get(CHART, "ingress-chart").inputs.values.controller;
        expect(ingress.resources.limits).toEqual({ cpu: "1", memory: "1Gi" });
        expect(mocks.get(CHART, "postgres-operator-chart").inputs.values.resources.limits).toEqual({ cpu: "500m", memory: "512Mi" });
        expect(mocks.get("kubernetes:apps/v1:Deployment", "registry").inputs.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: "1", memory: "512Mi" });
        expect(mocks.get("kubernetes:postgresql.cnpg.io/v1:Cluster", "postgres-cluster").inputs.spec.resources.limits).toEqual({ cpu: "2", memory: "1Gi" });
    });

    it("returns exactly the outputs of the public contract", async () => {
        expect(Object.keys(outputs).sort()).toEqual([...PLATFORM_OUTPUT_NAMES].sort());
        expect(await valueOf(outputs.ingressClassName)).toBe("nginx");
        expect(await valueOf(outputs.ingressNamespace)).toBe("ingress-nginx");
        expect(await valueOf(outputs.registryHost)).toBe("registry.example.com");
        expect(await valueOf(outputs.registryNamespace)).toBe("registry");
        expect(await valueOf(outputs.postgresNamespace)).toBe("database");
        expect(await valueOf(outputs.postgresClusterName)).toBe("shared");
        expect(await valueOf(outputs.postgresHost)).toBe("shared-rw.database.svc.cluster.local");
        expect(await valueOf(outputs.domain)).toBe("example.com");
        expect(await valueOf(outputs.previewDomain)).toBe("preview.example.com");
        expect(await valueOf(outputs.tunnelId)).toBe("");
        expect(await valueOf(outputs.tunnelCname)).toBe("");
        expect(await isSecret(outputs.registryPullSecret)).toBe(true);
    });

    it("labels every Kubernetes object it names with the stack, and every namespace for Pod Security", () => {
        const objects = mocks.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== CHART);
        expect(objects.length).toBeGreaterThan(10);
        for (const object of objects) {
            expect([object.name, object.inputs.metadata.labels?.["catalyst.dev/stack"]]).toEqual([object.name, "platform"]);
        }
        const namespaces = mocks.ofType("kubernetes:core/v1:Namespace");
        expect(namespaces.map((n) => n.inputs.metadata.name).sort()).toEqual(["catalyst-system", "cnpg-system", "database", "ingress-nginx", "registry"]);
        for (const namespace of namespaces) {
            expect(namespace.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        }
        expect(mocks.get(CHART, "ingress-chart").inputs.values.commonLabels["catalyst.dev/stack"]).toBe("platform");
    });

    it("passes the local-cluster settings to the charts", () => {
        const ingress = mocks.get(CHART, "ingress-chart").inputs.values.controller;
        expect(ingress.admissionWebhooks.enabled).toBe(false);
        expect(ingress.replicaCount).toBe(1);
        expect(ingress.service.type).toBe("LoadBalancer");
        // The control plane's API (on by default) is the controller's default backend: a sleeping preview's page.
        expect(ingress.extraArgs).toEqual({ "default-backend-service": "catalyst-system/catalyst-api" });
        const cnpg = mocks.get(CHART, "postgres-operator-chart").inputs.values;
        expect(cnpg.webhook).toMatchObject({ mutating: { create: false }, validating: { create: false } });
        // No Job that would have to complete: nothing runs on the local cluster.
        expect(mocks.ofType("kubernetes:batch/v1:Job")).toEqual([]);
    });

    it("enforces the admission baseline in environment namespaces by default", () => {
        const bindings = mocks.ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding");
        expect(bindings).toHaveLength(21);
        for (const binding of bindings) {
            expect(binding.inputs.spec.validationActions).toEqual(["Deny"]);
            expect(binding.inputs.spec.matchResources.namespaceSelector).toEqual({
                matchExpressions: [{ key: "catalyst.dev/environment", operator: "Exists" }],
            });
        }
        expect(mocks.get("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy", "admission-image-pinned-pods").inputs.metadata.name)
            .toBe("catalyst-image-pinned-pods");
    });

    it("creates the registry after the ingress controller and the Cluster after the operator chart", () => {
        const done = (id: string) => mocks.completed.indexOf(id);
        expect(done("kubernetes:networking.k8s.io/v1:Ingress::registry")).toBeGreaterThan(done(`${CHART}::ingress-chart`));
        expect(done("kubernetes:postgresql.cnpg.io/v1:Cluster::postgres-cluster")).toBeGreaterThan(done(`${CHART}::postgres-operator-chart`));
    });
});

describe("platformProgram with admission settings", () => {
    const bindingsWith = async (admission: object) => {
        mocks.reset();
        pulumi.runtime.setAllConfig({ ...base, "catalyst:admission": JSON.stringify(admission) });
        await platform.platformProgram();
        await settle(mocks);
        return mocks.ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding");
    };

    it("observes instead of denying while a cluster rolls the baseline out", async () => {
        const bindings = await bindingsWith({ validationActions: ["Warn", "Audit"] });
        expect(new Set(bindings.map((b) => JSON.stringify(b.inputs.spec.validationActions)))).toEqual(new Set(['["Warn","Audit"]']));
    }, SETTLE_TIMEOUT_MS);

    it("installs no admission policy when disabled", async () => {
        expect(await bindingsWith({ enabled: false })).toEqual([]);
        expect(mocks.resources.map((r) => r.type)).not.toContain("catalyst:platform:AdmissionPolicies");
    }, SETTLE_TIMEOUT_MS);
});

describe("platformProgram with the tunnel on", () => {
    let outputs: PlatformModule.PlatformProgramOutputs;

    beforeAll(async () => {
        mocks.reset();
        pulumi.runtime.setAllConfig(
            {
                ...base,
                // Production's generator; the built-in one is covered with the tunnel off.
                "catalyst:passwordSource": "random",
                "catalyst:cloudflare": JSON.stringify({ enabled: true, accountId: "a".repeat(32), zoneId: "b".repeat(32) }),
                "catalyst:cloudflareApiToken": "cf-api-token",
            },
            ["catalyst:cloudflareApiToken"],
        );
        outputs = await platform.platformProgram();
        await settle(mocks);
    }, SETTLE_TIMEOUT_MS);

    it("creates an explicit Cloudflare provider from the secret API token", () => {
        const providers = mocks.ofType("pulumi:providers:cloudflare");
        expect(providers).toHaveLength(1);
        expect(providers[0].inputs.apiToken).toBe("cf-api-token");
        expect(providers[0].secretPaths).toContain("apiToken");
    });

    it("routes the tunnel to the ingress controller Service, now ClusterIP", () => {
        const config = mocks.get("cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig", "tunnel-config").inputs;
        expect(config.config.ingresses[0]).toEqual({
            hostname: "*.preview.example.com",
            service: "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local:80",
        });
        expect(mocks.get(CHART, "ingress-chart").inputs.values.controller.service.type).toBe("ClusterIP");
        expect(mocks.get("cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared", "tunnel-tunnel").inputs.name).toBe("catalyst-platform");
    });

    it("outputs the tunnel id and CNAME", async () => {
        expect(await valueOf(outputs.tunnelId)).toBe(MOCK_TUNNEL_ID);
        expect(await valueOf(outputs.tunnelCname)).toBe(`${MOCK_TUNNEL_ID}.cfargotunnel.com`);
        expect(mocks.ofType("kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name)).toContain("cloudflared");
    });

    it("lets the tunnel out to Cloudflare's edge and the ingress controller only", () => {
        const names = mocks.ofType(NETWORK_POLICY).filter((p) => p.inputs.metadata.namespace === "cloudflared").map((p) => p.inputs.metadata.name).sort();
        expect(names).toEqual(["allow-dns", "allow-edge", "allow-ingress-controller", "default-deny"]);
        const edge = mocks.get(NETWORK_POLICY, "network-tunnel-allow-edge").inputs.spec;
        expect(edge.egress[0].to[0].ipBlock.except).toContain("169.254.169.254/32");
        expect(mocks.get(NETWORK_POLICY, "network-tunnel-allow-ingress-controller").inputs.spec.egress[0].ports).toEqual([{ protocol: "TCP", port: 80 }]);
    });
});
