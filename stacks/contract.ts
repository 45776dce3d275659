/**
 * The platform stack's outputs, read by environment stacks through a StackReference. These
 * names are a public contract: rename one and every environment stack breaks.
 */
export interface PlatformOutputs {
    /** IngressClass environments attach their Ingresses to (`nginx`). */
    ingressClassName: string;
    /** Namespace of the ingress controller; environments admit ingress traffic from it. */
    ingressNamespace: string;
    /** Host name of the image registry (`registry.<domain>`). */
    registryHost: string;
    /** Namespace of the image registry; environments may egress to it. */
    registryNamespace: string;
    /** `.dockerconfigjson` content for pulling from the registry (a Pulumi secret). */
    registryPullSecret: string;
    /** Namespace of the shared Postgres cluster; environments may egress to it on 5432. */
    postgresNamespace: string;
    /** Name of the shared CloudNativePG `Cluster`. */
    postgresClusterName: string;
    /** In-cluster host of the shared cluster's read-write service. */
    postgresHost: string;
    /** Base domain of deployment environments (`example.com`). */
    domain: string;
    /** Domain under which previews and development environments get hosts. */
    previewDomain: string;
    /** Cloudflare tunnel id, when the tunnel is enabled (otherwise ""). */
    tunnelId: string;
    /** `<tunnelId>.cfargotunnel.com`, when the tunnel is enabled (otherwise ""). */
    tunnelCname: string;
}

/** Every output name of {@link PlatformOutputs}, in a stable order. */
export const PLATFORM_OUTPUT_NAMES: readonly (keyof PlatformOutputs)[] = [
    "ingressClassName",
    "ingressNamespace",
    "registryHost",
    "registryNamespace",
    "registryPullSecret",
    "postgresNamespace",
    "postgresClusterName",
    "postgresHost",
    "domain",
    "previewDomain",
    "tunnelId",
    "tunnelCname",
];
