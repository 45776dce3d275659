import type * as CloudflareModule from "@pulumi/cloudflare";
import type * as TunnelModule from "../../../components/platform/cloudflareTunnel";
import { installMocks, isSecret, MOCK_TUNNEL_ID, MOCK_TUNNEL_TOKEN, MockRecorder, settle, valueOf } from "./mocks";

const TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared";
const TUNNEL_CONFIG = "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig";
const DNS = "cloudflare:index/dnsRecord:DnsRecord";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SECRET = "kubernetes:core/v1:Secret";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const ZONE = "fedcba9876543210fedcba9876543210";
const ORIGIN = "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local:80";

let mocks: MockRecorder;
let tunnelModule: typeof TunnelModule;
let cloudflare: typeof CloudflareModule;

beforeAll(async () => {
    mocks = installMocks();
    tunnelModule = await import("../../../components/platform/cloudflareTunnel");
    cloudflare = await import("@pulumi/cloudflare");
});

describe("tunnel helpers", () => {
    it("routes both wildcards to the ingress controller, preview first, and 404s the rest", () => {
        expect(tunnelModule.tunnelIngressRules("example.com", "preview.example.com", ORIGIN)).toEqual([
            { hostname: "*.preview.example.com", service: ORIGIN },
            { hostname: "*.example.com", service: ORIGIN },
            { service: "http_status:404" },
        ]);
    });

    it("encodes a tunnel secret of at least 32 bytes as base64 and refuses a short one", () => {
        const secret = tunnelModule.tunnelSecret("a".repeat(48));
        expect(Buffer.from(secret, "base64").length).toBe(48);
        expect(() => tunnelModule.tunnelSecret("short")).toThrow("at least 32 bytes");
    });
});

describe("CloudflareTunnel", () => {
    let component: TunnelModule.CloudflareTunnel;
    let providerUrn: string;

    beforeAll(async () => {
        mocks.reset();
        const provider = new cloudflare.Provider("cloudflare", { apiToken: "token" });
        providerUrn = await valueOf(provider.urn);
        component = new tunnelModule.CloudflareTunnel("tunnel", {
            accountId: ACCOUNT,
            zoneId: ZONE,
            domain: "example.com",
            previewDomain: "preview.example.com",
            origin: ORIGIN,
            tunnelName: "catalyst-platform",
            passwordSource: "random",
            labels: { "catalyst.dev/stack": "platform" },
        }, { providers: [provider] });
        await settle(mocks);
    });

    it("creates a remotely managed tunnel with a generated base64 secret of 48 bytes", () => {
        const tunnel = mocks.get(TUNNEL, "tunnel-tunnel");
        expect(tunnel.inputs).toMatchObject({ accountId: ACCOUNT, name: "catalyst-platform", configSrc: "cloudflare" });
        expect(Buffer.from(tunnel.inputs.tunnelSecret, "base64").toString()).toMatch(/^random[x]{42}$/);
        expect(tunnel.secretPaths).toContain("tunnelSecret");
    });

    it("configures the tunnel's ingress rules with the catch-all last", () => {
        const config = mocks.get(TUNNEL_CONFIG, "tunnel-config").inputs;
        expect(config.tunnelId).toBe(MOCK_TUNNEL_ID);
        expect(config.accountId).toBe(ACCOUNT);
        expect(config.config.ingresses).toEqual([
            { hostname: "*.preview.example.com", service: ORIGIN },
            { hostname: "*.example.com", service: ORIGIN },
            { service: "http_status:404" },
        ]);
    });

    it("points proxied wildcard CNAMEs at <tunnelId>.cfargotunnel.com", () => {
        const records = mocks.ofType(DNS).map((r) => r.inputs);
        expect(records.map((r) => r.name).sort()).toEqual(["*.example.com", "*.preview.example.com"]);
        for (const record of records) {
            expect(record).toMatchObject({ zoneId: ZONE, type: "CNAME", content: `${MOCK_TUNNEL_ID}.cfargotunnel.com`, proxied: true, ttl: 1 });
        }
    });

    it("manages every Cloudflare resource with the explicit provider", () => {
        const cloudflareResources = mocks.resources.filter((r) => r.type.startsWith("cloudflare:index/"));
        expect(cloudflareResources).toHaveLength(4);
        for (const resource of cloudflareResources) {
            expect(resource.provider).toBe(`${providerUrn}::cloudflare-id`);
        }
        const tokenCalls = mocks.calls.filter((c) => c.token.endsWith("getZeroTrustTunnelCloudflaredToken"));
        expect(tokenCalls).toEqual([{ token: expect.any(String), inputs: { accountId: ACCOUNT, tunnelId: MOCK_TUNNEL_ID }, provider: `${providerUrn}::cloudflare-id` }]);
    });

    it("keeps the tunnel token in a Secret that the connectors read it from", () => {
        const secret = mocks.get(SECRET, "tunnel-token");
        expect(secret.inputs.stringData).toEqual({ token: MOCK_TUNNEL_TOKEN });
        expect(secret.secretPaths.some((p) => p.startsWith("stringData"))).toBe(true);
        const deployment = mocks.get(DEPLOYMENT, "tunnel-cloudflared").inputs;
        const container = deployment.spec.template.spec.containers[0];
        expect(container.env).toEqual([{ name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: "tunnel-token", key: "token" } } }]);
        expect(container.args).not.toContain(MOCK_TUNNEL_TOKEN);
        expect(container.args).toEqual(["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"]);
    });

    it("runs two restricted connectors that are ready when /ready says so", () => {
        const deployment = mocks.get(DEPLOYMENT, "tunnel-cloudflared").inputs;
        expect(deployment.metadata.namespace).toBe("cloudflared");
        expect(deployment.spec.replicas).toBe(2);
        const pod = deployment.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        const container = pod.containers[0];
        expect(container.image).toMatch(/^docker\.io\/cloudflare\/cloudflared:\d{4}\.\d+\.\d+$/);
        expect(container.readinessProbe.httpGet).toEqual({ path: "/ready", port: "metrics" });
        expect(container.livenessProbe.httpGet).toEqual({ path: "/healthcheck", port: "metrics" });
        expect(container.resources.limits).toEqual({ cpu: "500m", memory: "256Mi" });
        expect(container.ports).toEqual([{ name: "metrics", containerPort: 2000 }]);
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        const namespace = mocks.get("kubernetes:core/v1:Namespace", "tunnel-namespace").inputs;
        expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });

    it("keeps a connector through voluntary disruptions", () => {
        const pdb = mocks.get(PDB, "tunnel-cloudflared").inputs;
        const deployment = mocks.get(DEPLOYMENT, "tunnel-cloudflared").inputs;
        expect(pdb.spec.maxUnavailable).toBe(1);
        expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    });

    it("outputs the tunnel id and its CNAME target", async () => {
        expect(await valueOf(component.tunnelId)).toBe(MOCK_TUNNEL_ID);
        expect(await valueOf(component.tunnelCname)).toBe(`${MOCK_TUNNEL_ID}.cfargotunnel.com`);
        expect(await isSecret(component.tunnelId)).toBe(false);
    });
});
