import { ingressHostRequired, ingressHosts, ingressLocalBackends, ingressNoDefaultBackend, ingressOwnHosts, noExternalNameServices } from "../../../policy/ingress";
import { stackViolations, T, violations } from "./harness";

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const backend = { service: { name: "web", port: { number: 80 } } };
const rule = (host?: string) => ({ ...(host === undefined ? {} : { host }), http: { paths: [{ path: "/", pathType: "Prefix", backend }] } });
const ingress = (spec: object, namespace = "env-pr-1", annotations: Record<string, string> = {}) =>
    ({ metadata: { name: "web", namespace, annotations }, spec });
const namespace = (name: string, hosts?: string) =>
    ({ type: T.namespace, props: { metadata: { name, labels: { "catalyst.dev/environment": name.slice(4) }, ...(hosts === undefined ? {} : { annotations: { "catalyst.dev/hosts": hosts } }) } } });

describe("ingress shape policies", () => {
    it("pass an environment's Ingress of its own host, and any Ingress outside environments", async () => {
        for (const policy of [ingressHostRequired, ingressNoDefaultBackend, ingressLocalBackends]) {
            expect(await violations(policy, INGRESS, ingress({ rules: [rule("pr-1.preview.example.com")] }))).toEqual([]);
            expect(await violations(policy, INGRESS, ingress({ defaultBackend: backend, rules: [rule()] }, "registry"))).toEqual([]);
        }
    });

    it("report a rule without a host, a default backend, resource backends and off-namespace annotations", async () => {
        expect(await violations(ingressHostRequired, INGRESS, ingress({ rules: [rule("a.example.com"), rule()] })))
            .toEqual(["Ingress env-pr-1/web: has a rule without a host; every rule must name one of the environment's hosts"]);
        expect(await violations(ingressNoDefaultBackend, INGRESS, ingress({ defaultBackend: backend })))
            .toEqual(["Ingress env-pr-1/web: sets spec.defaultBackend, which would catch every host no other Ingress names"]);
        const resource = { host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { resource: { kind: "Bucket", name: "b" } } }] } };
        expect(await violations(ingressLocalBackends, INGRESS, ingress({ rules: [resource] }, "env-pr-1", { "nginx.ingress.kubernetes.io/mirror-target": "http://x" })))
            .toEqual(["Ingress env-pr-1/web: must route to Services of its namespace only (found: a resource backend for a.example.com, annotation nginx.ingress.kubernetes.io/mirror-target)"]);
    });
});

describe("ingress-own-hosts", () => {
    it("collects the hosts of rules and TLS", () => {
        expect(ingressHosts({ spec: { rules: [rule("a.x"), rule()], tls: [{ hosts: ["a.x", "b.x"] }] } })).toEqual(["a.x", "b.x"]);
    });

    it("passes an Ingress of a recorded host and reports any other, TLS included", async () => {
        const entries = [
            namespace("env-pr-1", "pr-1.preview.example.com"),
            { type: INGRESS, props: ingress({ rules: [rule("pr-1.preview.example.com")] }) },
        ];
        expect(await stackViolations(ingressOwnHosts, entries)).toEqual([]);
        const foreign = { type: INGRESS, props: ingress({ rules: [rule("registry.example.com")], tls: [{ hosts: ["pr-2.preview.example.com"] }] }) };
        expect(await stackViolations(ingressOwnHosts, [entries[0], foreign]))
            .toEqual(["Ingress env-pr-1/web: names registry.example.com, pr-2.preview.example.com, not a host of this environment (allowed: pr-1.preview.example.com)"]);
    });

    it("leaves namespaces the stack does not create, or that record nothing, to admission", async () => {
        const elsewhere = { type: INGRESS, props: ingress({ rules: [rule("registry.example.com")] }, "env-pr-9") };
        expect(await stackViolations(ingressOwnHosts, [namespace("env-pr-1", "a.x"), elsewhere])).toEqual([]);
        expect(await stackViolations(ingressOwnHosts, [namespace("env-pr-9"), elsewhere])).toEqual([]);
    });
});

describe("no-externalname-services", () => {
    it("reports an ExternalName Service in an environment only", async () => {
        const service = (namespace: string) => ({ metadata: { name: "registry", namespace }, spec: { type: "ExternalName", externalName: "registry.registry.svc.cluster.local" } });
        expect(await violations(noExternalNameServices, T.service, service("env-pr-1")))
            .toEqual(["Service env-pr-1/registry: must not be ExternalName (it points at registry.registry.svc.cluster.local); an Ingress could proxy through it past every NetworkPolicy"]);
        expect(await violations(noExternalNameServices, T.service, service("monitoring"))).toEqual([]);
    });
});
