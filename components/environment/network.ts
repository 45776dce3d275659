import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/**
 * The NetworkPolicies of an environment namespace, as pure data. Everything is denied first;
 * each later policy opens one path, so a reviewer can read the allowed traffic as a list.
 */

/** The cloud metadata endpoint: never reachable from a tenant pod (it hands out node credentials). */
export const METADATA_CIDR = "169.254.169.254/32";

/** The usual pod, service and node networks (RFC 1918 and carrier-grade NAT), excluded from internet egress by default. */
export const DEFAULT_CLUSTER_CIDRS: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

/** A destination a set of pods may reach besides the defaults. */
export interface EgressRule {
    /** Destination network in CIDR form (`10.0.5.7/32`). */
    cidr: string;
    /** Destination port. */
    port: number;
    /** `TCP` (default) or `UDP`. */
    protocol?: "TCP" | "UDP";
}

/** What the environment's policies need to know about the platform and the configuration. */
export interface PolicyInputs {
    /** Namespace of the ingress controller: the only source of traffic from outside. */
    ingressNamespace: pulumi.Input<string>;
    /** Namespace of the shared Postgres cluster (egress on 5432). */
    postgresNamespace: pulumi.Input<string>;
    /** Namespace of the image registry. */
    registryNamespace: pulumi.Input<string>;
    /** Port the registry pods listen on. */
    registryPort: number;
    /** Pod, service and node networks of the cluster, excluded from internet egress. */
    clusterCidrs: string[];
    /** Whether every pod may reach the internet on 443. */
    internetEgress: boolean;
}

/** A policy to create: a name suffix and its spec. */
export interface PolicyDefinition {
    suffix: string;
    spec: NetworkPolicySpec;
}

const namespaceSelector = (name: pulumi.Input<string>) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
});

/** The internet without the cluster's own networks and the metadata endpoint. */
export function internetPeer(clusterCidrs: string[]): k8s.types.input.networking.v1.NetworkPolicyPeer {
    return { ipBlock: { cidr: "0.0.0.0/0", except: [...clusterCidrs, METADATA_CIDR] } };
}

/** Egress on 443 to the internet for the pods `podSelector` selects (all when empty). */
export function internetEgressSpec(podSelector: Record<string, string>, clusterCidrs: string[]): NetworkPolicySpec {
    return {
        podSelector: { matchLabels: podSelector },
        policyTypes: ["Egress"],
        egress: [{ to: [internetPeer(clusterCidrs)], ports: [{ protocol: "TCP", port: 443 }] }],
    };
}

/** Egress to the given extra destinations for the pods `podSelector` selects. */
export function extraEgressSpec(podSelector: Record<string, string>, rules: EgressRule[]): NetworkPolicySpec {
    return {
        podSelector: { matchLabels: podSelector },
        policyTypes: ["Egress"],
        egress: rules.map((rule) => ({
            to: [{ ipBlock: { cidr: rule.cidr } }],
            ports: [{ protocol: rule.protocol ?? "TCP", port: rule.port }],
        })),
    };
}

/** The namespace-wide policies: deny all, then DNS, ingress controller, same namespace, Postgres, registry, internet. */
export function environmentPolicies(inputs: PolicyInputs): PolicyDefinition[] {
    const all = { podSelector: {} };
    const policies: PolicyDefinition[] = [
        { suffix: "default-deny", spec: { ...all, policyTypes: ["Ingress", "Egress"] } },
        {
            suffix: "allow-dns",
            spec: {
                ...all,
                policyTypes: ["Egress"],
                egress: [{
                    to: [namespaceSelector("kube-system")],
                    ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
                }],
            },
        },
        {
            suffix: "allow-ingress-controller",
            spec: { ...all, policyTypes: ["Ingress"], ingress: [{ from: [namespaceSelector(inputs.ingressNamespace)] }] },
        },
        {
            suffix: "allow-same-namespace",
            spec: {
                ...all,
                policyTypes: ["Ingress", "Egress"],
                ingress: [{ from: [{ podSelector: {} }] }],
                egress: [{ to: [{ podSelector: {} }] }],
            },
        },
        {
            suffix: "allow-postgres",
            spec: {
                ...all,
                policyTypes: ["Egress"],
                egress: [{ to: [namespaceSelector(inputs.postgresNamespace)], ports: [{ protocol: "TCP", port: 5432 }] }],
            },
        },
        {
            suffix: "allow-registry",
            spec: {
                ...all,
                policyTypes: ["Egress"],
                egress: [{ to: [namespaceSelector(inputs.registryNamespace)], ports: [{ protocol: "TCP", port: inputs.registryPort }] }],
            },
        },
    ];
    if (inputs.internetEgress) {
        policies.push({ suffix: "allow-internet-443", spec: internetEgressSpec({}, inputs.clusterCidrs) });
    }
    return policies;
}

const IPV4_CIDR = /^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\/([0-9]|[12][0-9]|3[0-2])$/;

/** True for an IPv4 network in CIDR form (`10.0.0.0/8`). */
export function isIpv4Cidr(value: string): boolean {
    return IPV4_CIDR.test(value);
}
