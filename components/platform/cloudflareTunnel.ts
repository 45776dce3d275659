import * as cloudflare from "@pulumi/cloudflare";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { cloudflaredDeploymentSpec, TUNNEL_TOKEN_KEY } from "./cloudflared";
import { createNamespace } from "./namespace";
import { ResourceRequests } from "./workload";

/** Arguments of {@link CloudflareTunnel}. The Cloudflare provider comes through `opts.providers`. */
export interface CloudflareTunnelArgs {
    /** Cloudflare account that owns the tunnel. */
    accountId: pulumi.Input<string>;
    /** Zone of `domain` and `previewDomain`, where the DNS records go. */
    zoneId: pulumi.Input<string>;
    /** Base domain: `*.<domain>` is routed through the tunnel. */
    domain: string;
    /** Preview domain: `*.<previewDomain>` is routed through the tunnel. */
    previewDomain: string;
    /** Where the tunnel sends traffic: the ingress controller Service (`http://host:port`). */
    origin: pulumi.Input<string>;
    /** Name of the tunnel in Cloudflare; defaults to the component name. */
    tunnelName?: pulumi.Input<string>;
    /** Where the tunnel secret comes from; defaults to `random`. */
    passwordSource?: PasswordSource;
    /** Namespace to create for the connectors; defaults to `cloudflared`. */
    namespace?: string;
    /** Connector replicas; defaults to 2. */
    replicas?: pulumi.Input<number>;
    /** The cloudflared image; defaults to the pinned one. */
    image?: pulumi.Input<string>;
    /** Connector requests. */
    requests?: pulumi.Input<ResourceRequests>;
    /** Labels added to every Kubernetes object. */
    labels?: Record<string, string>;
}

/** A rule of the tunnel's ingress configuration. */
export interface TunnelIngressRule {
    /** Host pattern; absent on the final catch-all rule. */
    hostname?: string;
    /** Origin URL, or `http_status:<code>`. */
    service: pulumi.Input<string>;
}

/**
 * The tunnel's ingress rules: every host under the preview domain and under the base domain goes
 * to the ingress controller, which routes by Host header; anything else gets a 404 at the edge.
 * The preview wildcard comes first, as it is the more specific one when it sits under `domain`.
 */
export function tunnelIngressRules(domain: string, previewDomain: string, origin: pulumi.Input<string>): TunnelIngressRule[] {
    return [
        { hostname: `*.${previewDomain}`, service: origin },
        { hostname: `*.${domain}`, service: origin },
        { service: "http_status:404" },
    ];
}

/** The wildcard DNS names that point at the tunnel. */
export function tunnelDnsNames(domain: string, previewDomain: string): { key: string; name: string }[] {
    return [
        { key: "domain", name: `*.${domain}` },
        { key: "preview", name: `*.${previewDomain}` },
    ];
}

/** A tunnel secret from a generated password: Cloudflare wants at least 32 bytes, base64-encoded. */
export function tunnelSecret(password: string): string {
    if (Buffer.byteLength(password) < 32) {
        throw new Error("a tunnel secret needs at least 32 bytes");
    }
    return Buffer.from(password).toString("base64");
}

/**
 * A Cloudflare tunnel that gives environments public URLs without opening the cluster: a
 * remotely-managed tunnel with a generated secret, its ingress rules, proxied wildcard CNAMEs to
 * `<tunnelId>.cfargotunnel.com`, and the cloudflared connectors in the cluster with a
 * PodDisruptionBudget. The connectors' namespace enforces Pod Security `restricted`.
 */
export class CloudflareTunnel extends pulumi.ComponentResource {
    /** The tunnel's id. */
    public readonly tunnelId: pulumi.Output<string>;
    /** `<tunnelId>.cfargotunnel.com`, the target of the DNS records. */
    public readonly tunnelCname: pulumi.Output<string>;
    /** Namespace of the connectors. */
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: CloudflareTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:CloudflareTunnel", name, {}, opts);
        const secret = new GeneratedPassword(`${name}-secret`, { length: 48, source: args.passwordSource }, { parent: this });
        const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(`${name}-tunnel`, {
            accountId: args.accountId,
            name: args.tunnelName ?? name,
            // Managed remotely: the ingress rules below live in Cloudflare, not in a file in the pod.
            configSrc: "cloudflare",
            tunnelSecret: pulumi.secret(secret.value.apply(tunnelSecret)),
        }, { parent: this });
        new cloudflare.ZeroTrustTunnelCloudflaredConfig(`${name}-config`, {
            accountId: args.accountId,
            tunnelId: tunnel.id,
            config: { ingresses: tunnelIngressRules(args.domain, args.previewDomain, args.origin) },
        }, { parent: this });
        this.tunnelId = tunnel.id;
        this.tunnelCname = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;
        for (const record of tunnelDnsNames(args.domain, args.previewDomain)) {
            new cloudflare.DnsRecord(`${name}-dns-${record.key}`, {
                zoneId: args.zoneId,
                name: record.name,
                type: "CNAME",
                content: this.tunnelCname,
                // Proxied: clients reach Cloudflare's edge, never an address of the cluster. TTL 1 is "automatic".
                proxied: true,
                ttl: 1,
                comment: pulumi.interpolate`catalyst platform tunnel ${tunnel.id}`,
            }, { parent: this });
        }

        const token = cloudflare.getZeroTrustTunnelCloudflaredTokenOutput(
            { accountId: args.accountId, tunnelId: tunnel.id },
            { parent: this },
        );
        const labels = { ...args.labels, "app.kubernetes.io/name": "cloudflared", "app.kubernetes.io/instance": name };
        const selector = { "app.kubernetes.io/name": "cloudflared", "app.kubernetes.io/instance": name };
        const ns = createNamespace(name, { name: args.namespace ?? "cloudflared", podSecurity: "restricted", labels: args.labels }, { parent: this });
        const tokenSecret = new k8s.core.v1.Secret(`${name}-token`, {
            metadata: { name: `${name}-token`, namespace: ns.metadata.name, labels },
            type: "Opaque",
            stringData: { [TUNNEL_TOKEN_KEY]: pulumi.secret(token.token) },
        }, { parent: this });
        new k8s.apps.v1.Deployment(`${name}-cloudflared`, {
            metadata: { name: "cloudflared", namespace: ns.metadata.name, labels },
            spec: cloudflaredDeploymentSpec({
                secretName: tokenSecret.metadata.name,
                replicas: args.replicas ?? 2,
                labels,
                selector,
                image: args.image,
                requests: args.requests,
            }),
        }, { parent: this });
        new k8s.policy.v1.PodDisruptionBudget(`${name}-cloudflared`, {
            metadata: { name: "cloudflared", namespace: ns.metadata.name, labels },
            // One connector may be drained at a time; with a single replica a drain still proceeds.
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        }, { parent: this });
        this.namespace = ns.metadata.name;
        this.registerOutputs({ tunnelId: this.tunnelId, tunnelCname: this.tunnelCname, namespace: this.namespace });
    }
}
