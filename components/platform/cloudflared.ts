import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ResourceLimits, restrictedContainerSecurityContext, restrictedPodSecurityContext, ResourceRequests } from "./workload";

/** The cloudflared image, pinned. */
export const CLOUDFLARED_IMAGE = "docker.io/cloudflare/cloudflared:2025.7.0";
/** Port of cloudflared's metrics server, which also answers `/ready`. */
export const CLOUDFLARED_METRICS_PORT = 2000;
/** Production limits of a connector. */
export const DEFAULT_CLOUDFLARED_LIMITS: ResourceLimits = { cpu: "500m", memory: "256Mi" };
/** Key of the tunnel token in the cloudflared Secret. */
export const TUNNEL_TOKEN_KEY = "token";
/** The distroless image's non-root user. */
const CLOUDFLARED_UID = 65532;

/** Inputs of {@link cloudflaredDeploymentSpec}. */
export interface CloudflaredDeploymentOptions {
    /** Secret that holds the tunnel token under {@link TUNNEL_TOKEN_KEY}. */
    secretName: pulumi.Input<string>;
    /** Connector replicas; each keeps its own connections to Cloudflare. */
    replicas: pulumi.Input<number>;
    /** Labels of the pods (selector labels included). */
    labels: Record<string, string>;
    /** Selector labels. */
    selector: Record<string, string>;
    /** The image; defaults to {@link CLOUDFLARED_IMAGE}. */
    image?: pulumi.Input<string>;
    /** Requests; defaults to 50m CPU and 64Mi memory. */
    requests?: pulumi.Input<ResourceRequests>;
    /** Limits; defaults to {@link DEFAULT_CLOUDFLARED_LIMITS}. */
    limits?: pulumi.Input<ResourceLimits>;
}

/**
 * The Deployment spec of the tunnel connectors: `cloudflared tunnel run` with the token from a
 * Secret (never on the command line, where `ps` and the pod spec would show it), ready when its
 * metrics server's `/ready` reports a live connection to Cloudflare (alive while `/healthcheck`
 * answers: a connector that lost Cloudflare leaves the Service but is not restarted for it),
 * spread over nodes, and runnable under Pod Security `restricted`.
 */
export function cloudflaredDeploymentSpec(options: CloudflaredDeploymentOptions): k8s.types.input.apps.v1.DeploymentSpec {
    return {
        replicas: options.replicas,
        selector: { matchLabels: options.selector },
        // Replace one connector at a time so the tunnel never loses every connection.
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
            metadata: { labels: options.labels },
            spec: {
                automountServiceAccountToken: false,
                securityContext: restrictedPodSecurityContext(CLOUDFLARED_UID),
                topologySpreadConstraints: [{
                    maxSkew: 1,
                    topologyKey: "kubernetes.io/hostname",
                    whenUnsatisfiable: "ScheduleAnyway",
                    labelSelector: { matchLabels: options.selector },
                }],
                containers: [{
                    name: "cloudflared",
                    image: options.image ?? CLOUDFLARED_IMAGE,
                    args: ["tunnel", "--no-autoupdate", "--metrics", `0.0.0.0:${CLOUDFLARED_METRICS_PORT}`, "run"],
                    env: [{ name: "TUNNEL_TOKEN", valueFrom: { secretKeyRef: { name: options.secretName, key: TUNNEL_TOKEN_KEY } } }],
                    ports: [{ name: "metrics", containerPort: CLOUDFLARED_METRICS_PORT }],
                    readinessProbe: { httpGet: { path: "/ready", port: "metrics" }, periodSeconds: 10, failureThreshold: 3 },
                    livenessProbe: { httpGet: { path: "/healthcheck", port: "metrics" }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 6 },
                    resources: { requests: options.requests ?? { cpu: "50m", memory: "64Mi" }, limits: options.limits ?? DEFAULT_CLOUDFLARED_LIMITS },
                    securityContext: restrictedContainerSecurityContext(),
                }],
            },
        },
    };
}
