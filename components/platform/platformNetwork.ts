import * as pulumi from "@pulumi/pulumi";
import { ENVIRONMENT_LABEL } from "../environment/labels";
import { METADATA_CIDR } from "../environment/network";
import { FlowPeer, NetworkFlow, PlatformNetworkPolicies } from "./networkPolicies";

/**
 * The flows each platform namespace needs, as pure data (the reasons are what docs/security.md
 * lists), and the component that fences every platform namespace with them. Environments reach
 * the platform only where a flow here lets them: the ingress controller sends them traffic, and
 * they reach the shared Postgres; nothing else of the platform accepts them.
 */

/** Ports of the API server: 443 behind the `kubernetes` Service's usual endpoints, 6443 where the API server listens itself. */
export const API_SERVER_PORTS = [443, 6443];
/** Port of CloudNativePG's instance manager (status, used by the operator and by replicas). */
export const CNPG_INSTANCE_PORT = 8000;
/** Postgres. */
export const POSTGRES_PORT = 5432;
/** Every environment namespace: they carry the environment label. */
const ENVIRONMENTS: FlowPeer = { namespacesLabelled: ENVIRONMENT_LABEL };

/** Where the API server is, for the pods that call it. */
export interface ApiServerPeers {
    /** Addresses of the API server (CIDRs); the default `0.0.0.0/0` means any address on its ports. */
    cidrs: string[];
}

function apiServerFlow(api: ApiServerPeers, who: string): NetworkFlow {
    return {
        name: "allow-api-server",
        direction: "out",
        peers: api.cidrs.map((cidr) => ({ cidr })),
        ports: API_SERVER_PORTS.map((port) => ({ port })),
        reason: `${who} watches and writes objects through the Kubernetes API`,
    };
}

/** The API server calling a webhook of `who` on `port`. */
function webhookFlow(api: ApiServerPeers, port: number, who: string): NetworkFlow {
    return {
        name: "allow-webhook",
        direction: "in",
        peers: api.cidrs.map((cidr) => ({ cidr })),
        ports: [{ port }],
        reason: `the API server calls ${who}`,
    };
}

/** The internet on 443 without the cluster's own networks and the cloud metadata address (S3 for backups, registry layers). */
function objectStorageFlow(clusterCidrs: string[], who: string): NetworkFlow {
    return {
        name: "allow-object-storage",
        direction: "out",
        peers: [{ cidr: "0.0.0.0/0", except: [...clusterCidrs, METADATA_CIDR] }],
        ports: [{ port: 443 }],
        reason: `${who} writes to S3-compatible object storage over HTTPS`,
    };
}

/** What the ingress controller's flows depend on. */
export interface IngressControllerFlowInputs {
    /** The API server. */
    apiServer: ApiServerPeers;
    /** The controller's HTTP and HTTPS container ports (80, 443). */
    ports: number[];
    /** The port of its validating webhook (8443) when the webhook is installed. */
    webhookPort?: number;
    /** Platform backends the controller routes to: the registry's namespace and port. */
    platformBackends: { namespace: pulumi.Input<string>; port: number; name: string }[];
}

/** The ingress controller: traffic in from anywhere on its ports, out to the environments and the platform's own backends. */
export function ingressControllerFlows(inputs: IngressControllerFlowInputs): NetworkFlow[] {
    const flows: NetworkFlow[] = [
        apiServerFlow(inputs.apiServer, "the controller"),
        {
            name: "allow-http",
            direction: "in",
            peers: "anywhere",
            ports: inputs.ports.map((port) => ({ port })),
            reason: "public traffic: the load balancer or the Cloudflare tunnel sends every request here",
        },
        {
            name: "allow-environments",
            direction: "out",
            peers: [ENVIRONMENTS],
            reason: "the controller proxies to the pods behind environments' Ingresses, on whatever port their Service names",
        },
        ...inputs.platformBackends.map((backend): NetworkFlow => ({
            name: `allow-${backend.name}`,
            direction: "out",
            peers: [{ namespace: backend.namespace }],
            ports: [{ port: backend.port }],
            reason: `the controller proxies ${backend.name}'s own Ingress to it`,
        })),
    ];
    if (inputs.webhookPort !== undefined) {
        flows.push(webhookFlow(inputs.apiServer, inputs.webhookPort, "the controller's validating webhook for every Ingress"));
    }
    return flows;
}

/** What the registry's flows depend on. */
export interface RegistryFlowInputs {
    /** The ingress controller's namespace. */
    ingressNamespace: pulumi.Input<string>;
    /** The registry's port. */
    port: number;
    /** Node addresses whose container runtimes pull from the registry's Service directly (none by default). */
    nodeCidrs: string[];
    /** Cluster networks, excluded from object-storage egress; set when layers live in S3. */
    objectStorage?: { clusterCidrs: string[] };
}

/** The registry: in from the ingress controller (and nodes, when configured); out to S3 when it stores there. */
export function registryFlows(inputs: RegistryFlowInputs): NetworkFlow[] {
    const flows: NetworkFlow[] = [{
        name: "allow-ingress-controller",
        direction: "in",
        peers: [{ namespace: inputs.ingressNamespace }],
        ports: [{ port: inputs.port }],
        reason: "pushes and pulls arrive at registry.<domain> through the ingress controller",
    }];
    if (inputs.nodeCidrs.length > 0) {
        flows.push({
            name: "allow-nodes",
            direction: "in",
            peers: inputs.nodeCidrs.map((cidr) => ({ cidr })),
            ports: [{ port: inputs.port }],
            reason: "container runtimes on the nodes pull images from the registry's Service directly",
        });
    }
    if (inputs.objectStorage !== undefined) {
        flows.push(objectStorageFlow(inputs.objectStorage.clusterCidrs, "the registry"));
    }
    return flows;
}

/** What the Postgres operator's flows depend on. */
export interface OperatorFlowInputs {
    /** The API server. */
    apiServer: ApiServerPeers;
    /** The shared cluster's namespace. */
    databaseNamespace: pulumi.Input<string>;
    /** The port of its webhooks (9443) when they are installed. */
    webhookPort?: number;
}

/** The CloudNativePG operator: out to the API server and to every Postgres instance manager (shared and dedicated). */
export function operatorFlows(inputs: OperatorFlowInputs): NetworkFlow[] {
    const flows: NetworkFlow[] = [
        apiServerFlow(inputs.apiServer, "the operator"),
        {
            name: "allow-instances",
            direction: "out",
            peers: [{ namespace: inputs.databaseNamespace }, ENVIRONMENTS],
            ports: [{ port: CNPG_INSTANCE_PORT }],
            reason: "the operator reads each instance's status from its instance manager (shared cluster and environments' dedicated ones)",
        },
    ];
    if (inputs.webhookPort !== undefined) {
        flows.push(webhookFlow(inputs.apiServer, inputs.webhookPort, "the operator's mutating and validating webhooks"));
    }
    return flows;
}

/** What the shared Postgres cluster's flows depend on. */
export interface DatabaseFlowInputs {
    /** The API server (each instance manager watches its Cluster). */
    apiServer: ApiServerPeers;
    /** The operator's namespace. */
    operatorNamespace: pulumi.Input<string>;
    /** Cluster networks, excluded from object-storage egress; set when backups go to S3. */
    objectStorage?: { clusterCidrs: string[] };
    /** The control plane's namespace, whose replicas keep their Pulumi state here; unset without the control plane. */
    controlPlaneNamespace?: pulumi.Input<string>;
}

/** The shared Postgres: in from environments on 5432 only, the operator on the instance manager, and replication among its own pods. */
export function databaseFlows(inputs: DatabaseFlowInputs): NetworkFlow[] {
    const peerPorts = [{ port: POSTGRES_PORT }, { port: CNPG_INSTANCE_PORT }];
    const flows: NetworkFlow[] = [
        apiServerFlow(inputs.apiServer, "each instance manager"),
        {
            name: "allow-environments",
            direction: "in",
            peers: [ENVIRONMENTS],
            ports: [{ port: POSTGRES_PORT }],
            reason: "environments connect to their databases on the shared cluster",
        },
        {
            name: "allow-operator",
            direction: "in",
            peers: [{ namespace: inputs.operatorNamespace }],
            ports: [{ port: CNPG_INSTANCE_PORT }],
            reason: "the operator reads each instance's status",
        },
        {
            name: "allow-replication-in",
            direction: "in",
            peers: [{ sameNamespace: true }],
            ports: peerPorts,
            reason: "replicas stream from the primary and instance managers talk to each other",
        },
        {
            name: "allow-replication-out",
            direction: "out",
            peers: [{ sameNamespace: true }],
            ports: peerPorts,
            reason: "replicas stream from the primary and instance managers talk to each other",
        },
    ];
    if (inputs.controlPlaneNamespace !== undefined) {
        flows.push({
            name: "allow-control-plane",
            direction: "in",
            peers: [{ namespace: inputs.controlPlaneNamespace }],
            ports: [{ port: POSTGRES_PORT }],
            reason: "the controller's replicas share their Pulumi state backend on the shared cluster",
        });
    }
    if (inputs.objectStorage !== undefined) {
        flows.push(objectStorageFlow(inputs.objectStorage.clusterCidrs, "barman (WAL archive and base backups)"));
    }
    return flows;
}

/** What the control plane's flows depend on. */
export interface ControlPlaneFlowInputs {
    /** The API server (Leases, Projects, Environments and every object of the stacks it applies). */
    apiServer: ApiServerPeers;
    /** The shared Postgres's namespace, the usual home of the state backend. */
    databaseNamespace: pulumi.Input<string>;
    /** Cluster networks, excluded from the egress to the outside. */
    clusterCidrs: string[];
    /** The HTTP API's port, which the ingress controller's namespace reaches; unset without the API. */
    api?: { ingressNamespace: pulumi.Input<string>; port: number };
}

/**
 * The controller: out to the API server, to the shared Postgres (state backend), and to the outside
 * on 443 and 5432 (Helm repositories and plugin downloads, a state backend outside the cluster).
 * Only the HTTP API accepts connections, from the ingress controller; kubelet probes come from
 * the node, which NetworkPolicy does not fence.
 */
export function controlPlaneFlows(inputs: ControlPlaneFlowInputs): NetworkFlow[] {
    const api: NetworkFlow[] = inputs.api === undefined ? [] : [{
        name: "allow-ingress-controller",
        direction: "in",
        peers: [{ namespace: inputs.api.ingressNamespace }],
        ports: [{ port: inputs.api.port }],
        reason: "requests to the HTTP API arrive through the ingress controller",
    }];
    return [
        ...api,
        apiServerFlow(inputs.apiServer, "the controller"),
        {
            name: "allow-state-backend",
            direction: "out",
            peers: [{ namespace: inputs.databaseNamespace }],
            ports: [{ port: POSTGRES_PORT }],
            reason: "the replicas share their Pulumi state in the platform's Postgres",
        },
        {
            name: "allow-outside",
            direction: "out",
            peers: [{ cidr: "0.0.0.0/0", except: [...inputs.clusterCidrs, METADATA_CIDR] }],
            ports: [{ port: 443 }, { port: POSTGRES_PORT }],
            reason: "Helm chart repositories and plugin downloads over HTTPS, or a state backend outside the cluster",
        },
    ];
}

/** Cloudflare's edge ports: 7844 (QUIC over UDP, HTTP/2 over TCP) and 443 for the API. */
const CLOUDFLARE_EDGE_PORTS = [{ port: 7844, protocol: "UDP" as const }, { port: 7844, protocol: "TCP" as const }, { port: 443, protocol: "TCP" as const }];

/** What the tunnel's flows depend on. */
export interface TunnelFlowInputs {
    /** The ingress controller's namespace and HTTP port, the tunnel's origin. */
    ingressNamespace: pulumi.Input<string>;
    ingressPort: number;
    /** Cluster networks, excluded from the edge egress. */
    clusterCidrs: string[];
}

/** cloudflared: out to Cloudflare's edge and to the ingress controller, nothing in. */
export function tunnelFlows(inputs: TunnelFlowInputs): NetworkFlow[] {
    return [
        {
            name: "allow-edge",
            direction: "out",
            peers: [{ cidr: "0.0.0.0/0", except: [...inputs.clusterCidrs, METADATA_CIDR] }],
            ports: CLOUDFLARE_EDGE_PORTS,
            reason: "cloudflared holds its connections to Cloudflare's edge open (outbound only: nothing connects in)",
        },
        {
            name: "allow-ingress-controller",
            direction: "out",
            peers: [{ namespace: inputs.ingressNamespace }],
            ports: [{ port: inputs.ingressPort }],
            reason: "the tunnel hands every public request to the ingress controller",
        },
    ];
}

/** One platform namespace and its flows. */
export interface FencedNamespace {
    /** A short key, the suffix of the component's children (`ingress`). */
    key: string;
    /** The namespace. */
    namespace: pulumi.Input<string>;
    /** Its flows (DNS is added). */
    flows: NetworkFlow[];
}

/** Arguments of {@link PlatformNetwork}. */
export interface PlatformNetworkArgs {
    /** Every platform namespace with its flows. */
    namespaces: FencedNamespace[];
    /** Labels of every policy. */
    labels?: Record<string, string>;
}

/** The NetworkPolicies of every platform namespace: default deny plus exactly its flows. */
export class PlatformNetwork extends pulumi.ComponentResource {
    constructor(name: string, args: PlatformNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:PlatformNetwork", name, {}, opts);
        for (const fenced of args.namespaces) {
            new PlatformNetworkPolicies(`${name}-${fenced.key}`, { namespace: fenced.namespace, flows: fenced.flows, labels: args.labels }, { parent: this });
        }
        this.registerOutputs({});
    }
}
