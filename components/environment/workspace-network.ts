import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * The workspace pod's own egress rule for testing its environment, as pure data. The browser
 * (Playwright sidecar) and the agent open the environment's public URL and its in-cluster URL:
 *
 * - the public host resolves to the ingress controller's load balancer; inside the cluster that
 *   traffic reaches the controller's pods (kube-proxy short-cuts load-balancer IPs), so the pod
 *   may reach the ingress controller's namespace on 80 and 443;
 * - the app itself, directly: any pod of the environment's own namespace.
 *
 * Everything else the workspace reaches is what the namespace's policies and its HTTPS policy
 * allow (DNS, HTTPS to the internet outside the cluster's networks, the API server);
 * docs/workspaces.md lists the hosts behind that HTTPS.
 */

/** Ports of the ingress controller's pods (ingress-nginx: http 80, https 443). */
export const INGRESS_PORTS = [80, 443] as const;

/** Egress of the workspace's pods (`podSelector`) to the ingress controller and to the app. */
export function workspaceEgressSpec(podSelector: Record<string, string>, ingressNamespace: pulumi.Input<string>): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: podSelector },
        policyTypes: ["Egress"],
        egress: [
            {
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ingressNamespace } } }],
                ports: INGRESS_PORTS.map((port) => ({ protocol: "TCP", port })),
            },
            { to: [{ podSelector: {} }] },
        ],
    };
}
