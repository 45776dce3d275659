import { defaultDenySpec, dnsFlow, flowPeer, flowProblems, flowSpec } from "../../../components/platform/networkPolicies";
import { databaseFlows, ingressControllerFlows, operatorFlows, registryFlows } from "../../../components/platform/platformNetwork";

const apiServer = { cidrs: ["10.96.0.1/32"] };

describe("platform network flows", () => {
    it("turns a flow into one NetworkPolicy spec in its direction", () => {
        expect(defaultDenySpec()).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        expect(flowSpec({ name: "allow-http", direction: "in", peers: "anywhere", ports: [{ port: 80 }], reason: "r" }))
            .toEqual({ podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP", port: 80 }] }] });
        expect(flowSpec({ name: "allow-x", direction: "out", peers: [{ sameNamespace: true }], pods: { app: "x" }, reason: "r" }))
            .toEqual({ podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: {} }] }] });
        expect(flowPeer({ cidr: "0.0.0.0/0", except: [] })).toEqual({ ipBlock: { cidr: "0.0.0.0/0" } });
        expect(flowPeer({ namespacesLabelled: "catalyst.dev/environment" }))
            .toEqual({ namespaceSelector: { matchExpressions: [{ key: "catalyst.dev/environment", operator: "Exists" }] } });
    });

    it("refuses duplicate names and flows without peers", () => {
        expect(flowProblems([dnsFlow(), dnsFlow(), { name: "default-deny", direction: "in", peers: [], reason: "r" }])).toEqual([
            "flow allow-dns: the name is taken",
            "flow default-deny: the name is taken",
            "flow default-deny: names no peer (use \"anywhere\" for every peer, or leave the flow out)",
        ]);
    });

    it("opens webhooks, node pulls and object storage only when configured", () => {
        const names = (flows: { name: string }[]) => flows.map((f) => f.name);
        const backends = [{ name: "registry", namespace: "registry", port: 5000 }];
        expect(names(ingressControllerFlows({ apiServer, ports: [80, 443], platformBackends: backends }))).not.toContain("allow-webhook");
        const withWebhook = ingressControllerFlows({ apiServer, ports: [80, 443], webhookPort: 8443, platformBackends: backends });
        expect(withWebhook.find((f) => f.name === "allow-webhook")).toMatchObject({ direction: "in", peers: [{ cidr: "10.96.0.1/32" }], ports: [{ port: 8443 }] });
        expect(names(registryFlows({ ingressNamespace: "ingress-nginx", port: 5000, nodeCidrs: [] }))).toEqual(["allow-ingress-controller"]);
        expect(names(registryFlows({ ingressNamespace: "ingress-nginx", port: 5000, nodeCidrs: ["10.0.0.0/24"], objectStorage: { clusterCidrs: ["10.0.0.0/8"] } })))
            .toEqual(["allow-ingress-controller", "allow-nodes", "allow-object-storage"]);
        expect(names(operatorFlows({ apiServer, databaseNamespace: "database", webhookPort: 9443 }))).toEqual(["allow-api-server", "allow-instances", "allow-webhook"]);
        const storage = databaseFlows({ apiServer, operatorNamespace: "cnpg-system", objectStorage: { clusterCidrs: ["10.0.0.0/8"] } }).find((f) => f.name === "allow-object-storage");
        expect(storage?.peers).toEqual([{ cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "169.254.169.254/32"] }]);
    });

    it("admits environments to the shared Postgres on 5432 and nowhere else in its namespace", () => {
        const flows = databaseFlows({ apiServer, operatorNamespace: "cnpg-system" });
        const fromEnvironments = flows.filter((f) => f.direction === "in" && f.peers !== "anywhere" && f.peers.some((p) => "namespacesLabelled" in p));
        expect(fromEnvironments.map((f) => [f.name, f.ports])).toEqual([["allow-environments", [{ port: 5432 }]]]);
    });
});
