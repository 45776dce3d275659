import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { assertChartsReachable, CLOUDNATIVE_PG_CHART, INGRESS_NGINX_CHART } from "../components/platform/charts";
import { AdmissionPolicies } from "../components/platform/admissionPolicies";
import { ControlPlane } from "../components/platform/controlPlane";
import { CONTROL_PLANE_API_PORT, CONTROL_PLANE_API_SERVICE, ControlPlaneApi, ControlPlaneApiOidc } from "../components/platform/controlPlaneApi";
import { CloudflareTunnel } from "../components/platform/cloudflareTunnel";
import { ImageRegistry } from "../components/platform/imageRegistry";
import { IngressNginx } from "../components/platform/ingressNginx";
import { platformLabels } from "../components/platform/namespace";
import { controlPlaneFlows, databaseFlows, FencedNamespace, ingressControllerFlows, operatorFlows, PlatformNetwork, registryFlows, tunnelFlows } from "../components/platform/platformNetwork";
import { PostgresOperator } from "../components/platform/postgresOperator";
import { REGISTRY_PORT, registryHost } from "../components/platform/registryConfig";
import { SharedPostgres } from "../components/platform/sharedPostgres";
import { CONFIG_NAMESPACE, PlatformConfig, readPlatformConfig } from "./config/platform";
import { OIDC_GITHUB_SECRET_KEY } from "./config/platform-oidc";
import { ISSUER_PATH } from "./oidc/settings";
import { PlatformOutputs } from "./contract";
import { customResourceDefinitions, defaultProjectManifest } from "./resources/crd";
import { API_GROUP } from "./resources/types";

/** The platform stack's outputs as Pulumi outputs, one per name of the public contract. */
export type PlatformProgramOutputs = { [K in keyof PlatformOutputs]: pulumi.Output<PlatformOutputs[K]> };

/** Namespaces of the platform components. */
export const PLATFORM_NAMESPACES = {
    ingress: "ingress-nginx",
    registry: "registry",
    postgresOperator: "cnpg-system",
    database: "database",
    tunnel: "cloudflared",
    controlPlane: "catalyst-system",
} as const;

/** Port of the ingress controller's HTTP listener, where the tunnel sends traffic. */
const INGRESS_HTTP_PORT = 80;
/** The controller's HTTP and HTTPS container ports and its webhook port (the chart's defaults). */
const INGRESS_PORTS = [INGRESS_HTTP_PORT, 443];
const INGRESS_WEBHOOK_PORT = 8443;
/** The CloudNativePG operator's webhook port (the chart's default). */
const OPERATOR_WEBHOOK_PORT = 9443;

/** The HTTP API's public host: `controlPlane.api.host`, else `catalyst.<domain>`. */
export function controlPlaneApiHost(config: PlatformConfig): string {
    return config.controlPlane.api.host ?? `catalyst.${config.domain}`;
}

/** The OpenID provider's issuer: `oidc.issuer`, else `https://<API host>/oidc`. */
export function oidcIssuer(config: PlatformConfig): string {
    return config.oidc.issuer ?? `https://${controlPlaneApiHost(config)}${ISSUER_PATH}`;
}

/**
 * The provider the in-cluster API hosts, when `catalyst:oidc.enabled`; parsePlatformConfig has
 * made sure that the GitHub app's id, organization and client secret are set.
 */
function apiOidc(config: PlatformConfig, secrets: pulumi.Config): ControlPlaneApiOidc | undefined {
    const oidc = config.oidc;
    if (!oidc.enabled) return undefined;
    return {
        issuer: oidcIssuer(config),
        clientId: oidc.clientId,
        tokenTtl: oidc.tokenTtl,
        sessionTtl: oidc.sessionTtl,
        keyRotation: oidc.keyRotation,
        keysSecret: oidc.keysSecret,
        github: {
            clientId: oidc.github.clientId ?? "",
            org: oidc.github.org ?? "",
            url: oidc.github.url,
            apiUrl: oidc.github.apiUrl,
            clientSecret: secrets.requireSecret(OIDC_GITHUB_SECRET_KEY),
        },
    };
}

/** Every platform namespace with exactly the flows it needs (docs/security.md lists them with their reasons). */
function platformFlows(
    config: PlatformConfig,
    namespaces: {
        ingress: pulumi.Input<string>; registry: pulumi.Input<string>; operator: pulumi.Input<string>; database: pulumi.Input<string>;
        tunnel?: pulumi.Input<string>; controlPlane?: pulumi.Input<string>; controlPlaneApi?: boolean;
    },
): FencedNamespace[] {
    const apiServer = { cidrs: config.network.apiServerCidrs };
    const objectStorage = { clusterCidrs: config.network.clusterCidrs };
    const fenced: FencedNamespace[] = [
        {
            key: "ingress",
            namespace: namespaces.ingress,
            flows: ingressControllerFlows({
                apiServer,
                ports: INGRESS_PORTS,
                webhookPort: config.ingress.admissionWebhooks ? INGRESS_WEBHOOK_PORT : undefined,
                platformBackends: [
                    { name: "registry", namespace: namespaces.registry, port: REGISTRY_PORT },
                    ...(namespaces.controlPlane !== undefined && namespaces.controlPlaneApi
                        ? [{ name: "control-plane-api", namespace: namespaces.controlPlane, port: CONTROL_PLANE_API_PORT }]
                        : []),
                ],
            }),
        },
        {
            key: "registry",
            namespace: namespaces.registry,
            flows: registryFlows({
                ingressNamespace: namespaces.ingress,
                port: REGISTRY_PORT,
                nodeCidrs: config.network.nodeCidrs,
                objectStorage: config.registry.storage.kind === "s3" ? objectStorage : undefined,
            }),
        },
        {
            key: "postgres-operator",
            namespace: namespaces.operator,
            flows: operatorFlows({ apiServer, databaseNamespace: namespaces.database, webhookPort: config.postgres.operatorWebhooks ? OPERATOR_WEBHOOK_PORT : undefined }),
        },
        {
            key: "database",
            namespace: namespaces.database,
            flows: databaseFlows({
                apiServer,
                operatorNamespace: namespaces.operator,
                objectStorage: config.postgres.backup === undefined ? undefined : objectStorage,
                controlPlaneNamespace: namespaces.controlPlane,
            }),
        },
    ];
    if (namespaces.controlPlane !== undefined) {
        fenced.push({
            key: "control-plane",
            namespace: namespaces.controlPlane,
            flows: controlPlaneFlows({
                apiServer,
                databaseNamespace: namespaces.database,
                clusterCidrs: config.network.clusterCidrs,
                api: namespaces.controlPlaneApi ? { ingressNamespace: namespaces.ingress, port: CONTROL_PLANE_API_PORT } : undefined,
            }),
        });
    }
    if (namespaces.tunnel !== undefined) {
        fenced.push({
            key: "tunnel",
            namespace: namespaces.tunnel,
            flows: tunnelFlows({ ingressNamespace: namespaces.ingress, ingressPort: INGRESS_HTTP_PORT, clusterCidrs: config.network.clusterCidrs }),
        });
    }
    return fenced;
}

/**
 * Creates the Cloudflare provider and tunnel. Only called when the tunnel is enabled: nothing else
 * in the program creates a Cloudflare resource, so a stack with the tunnel off never needs the
 * Cloudflare provider plugin (which is not installed on the local default).
 */
function createTunnel(
    config: PlatformConfig,
    origin: pulumi.Output<string>,
    labels: Record<string, string>,
    dependsOn: pulumi.Resource[],
): { tunnelId: pulumi.Output<string>; tunnelCname: pulumi.Output<string>; namespace: pulumi.Output<string> } {
    const secrets = new pulumi.Config(CONFIG_NAMESPACE);
    // An explicit provider: the token never comes from the environment by accident.
    const provider = new cloudflare.Provider("cloudflare", { apiToken: secrets.requireSecret("cloudflareApiToken") });
    const tunnel = new CloudflareTunnel("tunnel", {
        // parsePlatformConfig refuses an enabled tunnel without these two.
        accountId: config.cloudflare.accountId ?? "",
        zoneId: config.cloudflare.zoneId ?? "",
        domain: config.domain,
        previewDomain: config.previewDomain,
        origin,
        tunnelName: config.cloudflare.tunnelName ?? `catalyst-${pulumi.getStack()}`,
        passwordSource: config.passwordSource,
        namespace: PLATFORM_NAMESPACES.tunnel,
        replicas: config.cloudflare.replicas,
        limits: config.limits.tunnel,
        labels,
    }, { providers: [provider], dependsOn });
    return { tunnelId: tunnel.tunnelId, tunnelCname: tunnel.tunnelCname, namespace: tunnel.namespace };
}

/**
 * The platform stack: ingress controller, image registry, the CloudNativePG operator with the
 * shared Postgres cluster, the admission policies of environment namespaces and, when enabled,
 * the Cloudflare tunnel. Returns the outputs that environment stacks read (stacks/contract.ts).
 */
export async function platformProgram(): Promise<PlatformProgramOutputs> {
    const config = readPlatformConfig();
    // Before any resource: an unreachable chart repository fails here, with one line, not halfway.
    await assertChartsReachable([
        { pinned: INGRESS_NGINX_CHART, source: config.charts.ingressNginx },
        { pinned: CLOUDNATIVE_PG_CHART, source: config.charts.cloudnativePg },
    ]);
    const stack = pulumi.getStack();
    const labels = platformLabels(stack);
    const secrets = new pulumi.Config(CONFIG_NAMESPACE);

    const ingress = new IngressNginx("ingress", {
        chart: config.charts.ingressNginx,
        namespace: PLATFORM_NAMESPACES.ingress,
        className: config.ingress.className,
        replicas: config.ingress.replicas,
        serviceType: config.ingress.serviceType,
        admissionWebhooks: config.ingress.admissionWebhooks,
        annotationsRiskLevel: config.ingress.annotationsRiskLevel,
        // A sleeping preview's host is answered by the API (its sleeping page): see docs/cli.md "Sleep and wake".
        defaultBackendService: config.controlPlane.enabled && config.controlPlane.api.enabled ? `${PLATFORM_NAMESPACES.controlPlane}/${CONTROL_PLANE_API_SERVICE}` : undefined,
        requests: config.ingress.requests,
        limits: config.limits.ingress,
        labels,
        values: config.ingress.values,
    });

    const registry = new ImageRegistry("registry", {
        domain: config.domain,
        ingressClassName: ingress.className,
        storage: config.registry.storage,
        s3Credentials: config.secretKeys.has("registryS3AccessKeyId")
            ? { accessKeyId: secrets.requireSecret("registryS3AccessKeyId"), secretAccessKey: secrets.requireSecret("registryS3SecretAccessKey") }
            : undefined,
        namespace: PLATFORM_NAMESPACES.registry,
        username: config.registry.username,
        passwordSource: config.passwordSource,
        requests: config.registry.requests,
        limits: config.limits.registry,
        gcLimits: config.limits.registryGc,
        gcSchedule: config.registry.gcSchedule,
        labels,
    }, { dependsOn: [ingress] });

    const operator = new PostgresOperator("postgres-operator", {
        chart: config.charts.cloudnativePg,
        namespace: PLATFORM_NAMESPACES.postgresOperator,
        webhooks: config.postgres.operatorWebhooks,
        replicas: config.postgres.operatorReplicas,
        requests: config.postgres.operatorRequests,
        limits: config.limits.postgresOperator,
        labels,
        values: config.postgres.values,
    });

    const backup = config.postgres.backup;
    const postgres = new SharedPostgres("postgres", {
        namespace: PLATFORM_NAMESPACES.database,
        clusterName: config.postgres.clusterName,
        instances: config.postgres.instances,
        storageSize: config.postgres.storageSize,
        storageClass: config.postgres.storageClass,
        requests: config.postgres.requests,
        memoryLimit: config.postgres.memoryLimit,
        cpuLimit: config.limits.postgres.cpu,
        imageName: config.postgres.imageName,
        backup: backup === undefined ? undefined : {
            ...backup,
            credentials: config.secretKeys.has("postgresBackupAccessKeyId")
                ? { accessKeyId: secrets.requireSecret("postgresBackupAccessKeyId"), secretAccessKey: secrets.requireSecret("postgresBackupSecretAccessKey") }
                : undefined,
        },
        labels,
        // The Cluster and ScheduledBackup are custom resources: their CRDs come with the chart.
    }, { dependsOn: [operator.chart] });

    // Cluster-wide, but bound only to namespaces labelled as environments: the platform's own
    // namespaces (and any chart they run) are governed by the policy pack and its exemptions.
    if (config.admission.enabled) {
        new AdmissionPolicies("admission", {
            validationActions: config.admission.validationActions,
            labels,
            // The platform's own hosts: no environment may route them, whatever it records.
            reservedHosts: [config.domain, registryHost(config.domain), ...(config.controlPlane.enabled && config.controlPlane.api.enabled ? [controlPlaneApiHost(config)] : [])],
        });
    }

    let controlPlane: ControlPlane | undefined;
    if (config.controlPlane.enabled) {
        const { image, replicas, concurrency, stateSecret, requests, limits } = config.controlPlane;
        controlPlane = new ControlPlane("control-plane", {
            image, replicas, concurrency, stateSecret, requests, limits, labels,
            namespace: PLATFORM_NAMESPACES.controlPlane,
            group: API_GROUP,
            customResourceDefinitions: customResourceDefinitions(),
            seedResources: config.controlPlane.defaultProject ? [defaultProjectManifest(PLATFORM_NAMESPACES.controlPlane)] : [],
        });
        if (config.controlPlane.api.enabled) {
            const api = config.controlPlane.api;
            new ControlPlaneApi("control-plane-api", {
                namespace: controlPlane.namespace,
                group: API_GROUP,
                image,
                replicas: api.replicas,
                host: controlPlaneApiHost(config),
                ingressClassName: ingress.className,
                tokensSecret: api.tokensSecret,
                requests: api.requests,
                limits: api.limits,
                labels,
                oidc: apiOidc(config, secrets),
                passwordSource: config.passwordSource,
            }, { dependsOn: [controlPlane] });
        }
    }

    const origin = pulumi.interpolate`http://${ingress.serviceHost}:${INGRESS_HTTP_PORT}`;
    const tunnel = config.cloudflare.enabled
        ? createTunnel(config, origin, labels, [ingress])
        : { tunnelId: pulumi.output(""), tunnelCname: pulumi.output(""), namespace: undefined };

    // Default deny in every platform namespace, then exactly the flows each needs.
    new PlatformNetwork("network", {
        namespaces: platformFlows(config, {
            ingress: ingress.namespace,
            registry: registry.namespace,
            operator: operator.namespace,
            database: postgres.namespace,
            tunnel: tunnel.namespace,
            controlPlane: controlPlane?.namespace,
            controlPlaneApi: config.controlPlane.enabled && config.controlPlane.api.enabled,
        }),
        labels,
    });

    return {
        ingressClassName: ingress.className,
        ingressNamespace: ingress.namespace,
        registryHost: registry.host,
        registryNamespace: registry.namespace,
        registryPullSecret: registry.pullSecret,
        postgresNamespace: postgres.namespace,
        postgresClusterName: postgres.clusterName,
        postgresHost: postgres.host,
        domain: pulumi.output(config.domain),
        previewDomain: pulumi.output(config.previewDomain),
        tunnelId: tunnel.tunnelId,
        tunnelCname: tunnel.tunnelCname,
    };
}
