import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * Default-deny NetworkPolicies for a namespace the platform runs, plus one policy per flow it
 * needs, each with its reason. The same shape environments get (components/environment/network.ts),
 * for the platform's own namespaces and any later one (a control plane's): deny everything, then
 * open exactly the listed paths, so a reviewer reads the allowed traffic as a list.
 */

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** Where traffic comes from or goes to. */
export type FlowPeer =
    /** Every pod of the namespace named. */
    | { namespace: pulumi.Input<string> }
    /** Every pod of every namespace that carries the label (any value). */
    | { namespacesLabelled: string }
    /** The other pods of the policy's own namespace. */
    | { sameNamespace: true }
    /** Addresses in CIDR form (outside the pod network: the API server, nodes, the internet). */
    | { cidr: string; except?: string[] };

/** A port of a flow. */
export interface FlowPort {
    /** The pod's port number (after a Service's translation). */
    port: number;
    /** `TCP` (default) or `UDP`. */
    protocol?: "TCP" | "UDP";
}

/** One path the namespace's pods need, in one direction. */
export interface NetworkFlow {
    /** The policy's name (`allow-<what>`); unique within the namespace. */
    name: string;
    /** `in` (ingress to the selected pods) or `out` (egress from them). */
    direction: "in" | "out";
    /** The peers; `"anywhere"` for every source or destination. */
    peers: FlowPeer[] | "anywhere";
    /** The ports; every port when absent. */
    ports?: FlowPort[];
    /** The pods the flow applies to (their labels); every pod of the namespace when absent. */
    pods?: Record<string, string>;
    /** Why the flow exists, for docs/security.md and the policy's annotation. */
    reason: string;
}

/** Name of the policy that denies all ingress and egress of the namespace. */
export const DEFAULT_DENY = "default-deny";

/** Annotation of each flow's policy that says why it exists. */
export const REASON_ANNOTATION = "catalyst.dev/reason";

/** The NetworkPolicy peer of `peer`. */
export function flowPeer(peer: FlowPeer): NetworkPolicyPeer {
    if ("namespace" in peer) {
        return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } } };
    }
    if ("namespacesLabelled" in peer) {
        return { namespaceSelector: { matchExpressions: [{ key: peer.namespacesLabelled, operator: "Exists" }] } };
    }
    if ("sameNamespace" in peer) {
        return { podSelector: {} };
    }
    return { ipBlock: { cidr: peer.cidr, ...(peer.except && peer.except.length > 0 ? { except: peer.except } : {}) } };
}

/** The spec of the policy that opens `flow`. */
export function flowSpec(flow: NetworkFlow): NetworkPolicySpec {
    const rule = {
        ...(flow.peers === "anywhere" ? {} : { [flow.direction === "in" ? "from" : "to"]: flow.peers.map(flowPeer) }),
        ...(flow.ports === undefined ? {} : { ports: flow.ports.map((p) => ({ protocol: p.protocol ?? "TCP", port: p.port })) }),
    };
    return {
        podSelector: flow.pods === undefined ? {} : { matchLabels: flow.pods },
        policyTypes: [flow.direction === "in" ? "Ingress" : "Egress"],
        ...(flow.direction === "in" ? { ingress: [rule] } : { egress: [rule] }),
    };
}

/** The spec of the default deny: every pod, both directions, nothing allowed. */
export function defaultDenySpec(): NetworkPolicySpec {
    return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

/** Problems of a flow list: duplicate or reserved names, empty peer lists. */
export function flowProblems(flows: readonly NetworkFlow[]): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const flow of flows) {
        if (flow.name === DEFAULT_DENY || seen.has(flow.name)) {
            problems.push(`flow ${flow.name}: the name is taken`);
        }
        if (flow.peers !== "anywhere" && flow.peers.length === 0) {
            problems.push(`flow ${flow.name}: names no peer (use "anywhere" for every peer, or leave the flow out)`);
        }
        seen.add(flow.name);
    }
    return problems;
}

/** The egress every namespace needs: DNS of the cluster (kube-system, UDP and TCP 53). */
export function dnsFlow(): NetworkFlow {
    return {
        name: "allow-dns",
        direction: "out",
        peers: [{ namespace: "kube-system" }],
        ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }],
        reason: "name resolution through the cluster DNS in kube-system",
    };
}

/** Arguments of {@link PlatformNetworkPolicies}. */
export interface PlatformNetworkPoliciesArgs {
    /** The namespace the policies fence in. */
    namespace: pulumi.Input<string>;
    /** What its pods need, besides DNS (always allowed). */
    flows: NetworkFlow[];
    /** Labels of every policy (the platform's stack labels). */
    labels?: Record<string, string>;
}

/**
 * The NetworkPolicies of one platform namespace: `default-deny` and one policy per flow (DNS
 * included), named by the flow. Policies are additive, so the namespace's pods may use exactly
 * the union of the flows.
 */
export class PlatformNetworkPolicies extends pulumi.ComponentResource {
    /** The policies' names, `default-deny` first. */
    public readonly policyNames: pulumi.Output<string[]>;

    constructor(name: string, args: PlatformNetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:PlatformNetworkPolicies", name, {}, opts);
        const flows = [dnsFlow(), ...args.flows];
        const problems = flowProblems(flows);
        if (problems.length > 0) {
            throw new Error(`${name}: ${problems.join("; ")}`);
        }
        const labels = args.labels ?? {};
        const deny = new k8s.networking.v1.NetworkPolicy(`${name}-${DEFAULT_DENY}`, {
            metadata: { name: DEFAULT_DENY, namespace: args.namespace, labels, annotations: { [REASON_ANNOTATION]: "deny everything no other policy allows" } },
            spec: defaultDenySpec(),
        }, { parent: this });
        for (const flow of flows) {
            new k8s.networking.v1.NetworkPolicy(`${name}-${flow.name}`, {
                metadata: { name: flow.name, namespace: args.namespace, labels, annotations: { [REASON_ANNOTATION]: flow.reason } },
                spec: flowSpec(flow),
            }, { parent: this, dependsOn: [deny] });
        }
        this.policyNames = pulumi.output([DEFAULT_DENY, ...flows.map((f) => f.name)]);
        this.registerOutputs({ policyNames: this.policyNames });
    }
}
