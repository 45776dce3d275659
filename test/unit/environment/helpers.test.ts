import { environmentPolicies, internetPeer, isIpv4Cidr } from "../../../components/environment/network";
import { limitRangeFor, parseQuantity, quotaFor, quotaHard, sizingProblems } from "../../../components/environment/quota";
import { imageMessage, imageTag } from "../../../components/environment/image";
import { kindOfType, namespacedOnly } from "../../../components/environment/app-source";
import { redisConfig, redisUrl } from "../../../components/environment/redis";
import { databaseIdentifier, databaseUrl } from "../../../components/environment/database";
import { podSecurityLabels } from "../../../components/environment/namespace";
import { registryCredentials } from "../../../components/environment/app-spec";

/* eslint-disable @typescript-eslint/no-explicit-any */
const inputs = {
    ingressNamespace: "ingress-nginx", postgresNamespace: "postgres", registryNamespace: "registry",
    registryPort: 5000, clusterCidrs: ["10.0.0.0/8"], internetEgress: false,
};

describe("network policies", () => {
    it("deny everything first, then open DNS, ingress, the namespace, Postgres and the registry", () => {
        const policies = environmentPolicies(inputs);
        expect(policies.map((p) => p.suffix)).toEqual([
            "default-deny", "allow-dns", "allow-ingress-controller", "allow-same-namespace", "allow-postgres", "allow-registry",
        ]);
        expect(policies[0].spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const spec = (suffix: string) => policies.find((p) => p.suffix === suffix)!.spec as any;
        expect(spec("allow-dns").egress[0].to).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }]);
        expect(spec("allow-postgres").egress[0]).toEqual({
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "postgres" } } }],
            ports: [{ protocol: "TCP", port: 5432 }],
        });
        expect(spec("allow-ingress-controller").ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]).toBe("ingress-nginx");
    });

    it("opens internet egress on 443 only when allowed, never to cluster networks or the metadata endpoint", () => {
        const policies = environmentPolicies({ ...inputs, internetEgress: true });
        const internet = policies.find((p) => p.suffix === "allow-internet-443")!.spec as any;
        expect(internet.egress).toEqual([{
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "169.254.169.254/32"] } }],
            ports: [{ protocol: "TCP", port: 443 }],
        }]);
        expect(internetPeer([])).toEqual({ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } });
        expect(isIpv4Cidr("10.0.0.0/8")).toBe(true);
        expect(isIpv4Cidr("10.0.0.0")).toBe(false);
        expect(isIpv4Cidr("300.0.0.0/8")).toBe(false);
    });
});

describe("quotas and limits", () => {
    it("sizes each tier, previews smallest, and never allows load balancers or node ports", () => {
        expect(quotaHard(quotaFor("preview"))).toEqual({
            "requests.cpu": "2", "requests.memory": "4Gi", "limits.cpu": "4", "limits.memory": "8Gi",
            pods: "20", persistentvolumeclaims: "5", "requests.storage": "20Gi",
            "services.loadbalancers": "0", "services.nodeports": "0",
        });
        const cpu = (tier: "preview" | "development" | "staging" | "production") => parseQuantity(quotaFor(tier).requestsCpu)!;
        expect(cpu("preview")).toBeLessThan(cpu("development"));
        expect(cpu("staging")).toBeLessThan(cpu("production"));
        for (const tier of ["preview", "development", "staging", "production"] as const) {
            expect(sizingProblems(quotaFor(tier), limitRangeFor(tier))).toEqual([]);
        }
        expect(quotaFor("preview", { pods: 9, storage: undefined }).pods).toBe(9);
    });

    it("parses Kubernetes quantities", () => {
        expect(parseQuantity("500m")).toBe(0.5);
        expect(parseQuantity("2")).toBe(2);
        expect(parseQuantity("256Mi")).toBe(256 * 2 ** 20);
        expect(parseQuantity("1.5Gi")).toBe(1.5 * 2 ** 30);
        expect(parseQuantity("1G")).toBe(1e9);
        for (const bad of ["", "2 cores", "-1", "1gi", "Gi", "1e3"]) {
            expect(parseQuantity(bad)).toBeUndefined();
        }
    });
});

describe("small helpers", () => {
    it("reads image tags and refuses unpinned images", () => {
        expect(imageTag("registry.local:5000/team/web:1.2")).toBe("1.2");
        expect(imageTag("registry.local:5000/team/web")).toBeUndefined();
        expect(imageMessage("nginx:1.27.4")).toBeUndefined();
        expect(imageMessage("nginx:latest")).toMatch(/uses the tag "latest"/);
        expect(imageMessage("Nginx:1")).toMatch(/is not an image reference/);
    });

    it("keeps chart and manifest objects in the namespace and refuses cluster-scoped ones", async () => {
        expect(kindOfType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")).toBe("ClusterRole");
        const keep = namespacedOnly("env-pr-1", "catalyst:app.chart");
        const result = await keep({ custom: true, type: "kubernetes:apps/v1:Deployment", name: "d", props: { metadata: { name: "d" } }, opts: {} });
        expect((result!.props as any).metadata).toEqual({ name: "d", namespace: "env-pr-1" });
        expect(keep({ custom: false, type: "kubernetes:helm.sh/v4:Chart", name: "c", props: {}, opts: {} })).toBeUndefined();
        for (const kind of ["Namespace", "ClusterRole", "CustomResourceDefinition", "ValidatingWebhookConfiguration"]) {
            expect(() => keep({ custom: true, type: `kubernetes:x/v1:${kind}`, name: "n", props: {}, opts: {} })).toThrow(`creates a ${kind}`);
        }
    });

    it("builds connection strings and configs", () => {
        expect(databaseIdentifier("pr-12")).toBe("env_pr_12");
        expect(databaseUrl("env_pr_12", "p@ss", "db.svc", "env_pr_12")).toBe("postgresql://env_pr_12:p%40ss@db.svc:5432/env_pr_12?sslmode=require");
        expect(redisUrl("pw", "redis.ns.svc")).toBe("redis://:pw@redis.ns.svc:6379/0");
        expect(redisConfig("pw", true)).toContain("appendonly yes");
        expect(redisConfig("pw", false)).toContain('save ""');
        expect(podSecurityLabels()).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.36" });
        expect(registryCredentials(JSON.stringify({ auths: { r: { auth: Buffer.from("u:p:q").toString("base64") } } }), "r")).toEqual({ username: "u", password: "p:q" });
    });
});
