import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { CHART_MIRROR_VARIABLE, ChartSource, CLOUDNATIVE_PG_CHART, INGRESS_NGINX_CHART, PinnedChart, repositorySource } from "../../components/platform/charts";
import { RegistryStorage } from "../../components/platform/registryConfig";
import { ConfigError, parseConfig } from "./validate";
import { DEFAULT_CLUSTER_CIDRS, isIpv4Cidr } from "../../components/environment/network";
import { parseQuantity } from "../../components/environment/quota";
import { DEFAULT_CLOUDFLARED_LIMITS } from "../../components/platform/cloudflared";
import { DEFAULT_INGRESS_LIMITS } from "../../components/platform/ingressNginx";
import { DEFAULT_OPERATOR_LIMITS } from "../../components/platform/postgresOperator";
import { DEFAULT_REGISTRY_GC_RESOURCES, DEFAULT_REGISTRY_LIMITS } from "../../components/platform/registryWorkload";
import { DEFAULT_POSTGRES_CPU_LIMIT } from "../../components/platform/sharedPostgres";
import { OIDC_GITHUB_SECRET_KEY, oidcConfigSchema, oidcProblems } from "./platform-oidc";

/**
 * The platform stack's configuration: every `catalyst:` key, its type, its production default,
 * and the checks that need the file system (chart paths) or the secret keys. The local default
 * (`Pulumi.dev.yaml`) overrides what a cluster without running containers needs.
 */

/** The configuration namespace of the project. */
export const CONFIG_NAMESPACE = "catalyst";

/** Keys read with `config.requireSecret`; they never enter the validated bag. */
export const PLATFORM_SECRET_KEYS = [
    "cloudflareApiToken",
    "registryS3AccessKeyId",
    "registryS3SecretAccessKey",
    "postgresBackupAccessKeyId",
    "postgresBackupSecretAccessKey",
    OIDC_GITHUB_SECRET_KEY,
] as const;

/** Keys whose values are plain strings; every other key holds JSON (an object). */
const STRING_KEYS = ["domain", "previewDomain", "passwordSource"];

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
const CRON = /^(\S+\s+){4}\S+$/;
const CLOUDFLARE_ID = /^[0-9a-f]{32}$/;

const domainName = (what: string) =>
    z
        .string({ error: (issue) => (issue.input === undefined ? `required: ${what}` : "must be a string") })
        .regex(DNS_NAME, "must be a DNS name of at least two labels, such as example.com (lower case letters, digits, '-' and '.')");
const dnsLabel = z.string().regex(DNS_LABEL, "must be a DNS-1123 label (lower case letters, digits and '-', at most 63 characters)");
const quantity = z.string().regex(QUANTITY, "must be a Kubernetes quantity such as 100m, 128Mi or 20Gi");
const requests = z.strictObject({ cpu: quantity, memory: quantity });
const chartValues = z.record(z.string(), z.unknown());
const cloudflareId = z.string().regex(CLOUDFLARE_ID, "must be a 32-character lower-case hex id from the Cloudflare dashboard");

// --- Hardening of the platform itself (issue 19): container limits and network flows. -------
// Kept apart from the keys above: `catalyst:limits` sizes every platform container's limits
// (production defaults here, the local machine's in Pulumi.dev.yaml) and `catalyst:network`
// says where the API server and the nodes are, for the platform's NetworkPolicies.

const cidr = z.string().refine(isIpv4Cidr, "must be an IPv4 network in CIDR form, like 10.0.0.0/8");
const limits = z.strictObject({ cpu: quantity, memory: quantity });

/** The `catalyst:limits` and `catalyst:network` keys. */
const HARDENING_SHAPE = {
    limits: z
        .strictObject({
            ingress: limits.default(DEFAULT_INGRESS_LIMITS),
            registry: limits.default(DEFAULT_REGISTRY_LIMITS),
            registryGc: limits.default(DEFAULT_REGISTRY_GC_RESOURCES.limits),
            postgresOperator: limits.default(DEFAULT_OPERATOR_LIMITS),
            // The memory limit of each instance is postgres.memoryLimit.
            postgres: z.strictObject({ cpu: quantity.default(DEFAULT_POSTGRES_CPU_LIMIT) }).prefault({}),
            tunnel: limits.default(DEFAULT_CLOUDFLARED_LIMITS),
        })
        .prefault({}),
    network: z
        .strictObject({
            apiServerCidrs: z.array(cidr).min(1, "must name at least one network (0.0.0.0/0 for any address on the API server's ports)").default(["0.0.0.0/0"]),
            nodeCidrs: z.array(cidr).default([]),
            clusterCidrs: z.array(cidr).default([...DEFAULT_CLUSTER_CIDRS]),
        })
        .prefault({}),
};

/** Limits below their container's requests, which the API server would refuse only at apply time. */
function limitProblems(parsed: z.output<typeof platformConfigSchema>): string[] {
    const pairs: [string, { cpu: string; memory: string }, { cpu: string; memory: string }][] = [
        ["ingress", parsed.ingress.requests, parsed.limits.ingress],
        ["registry", parsed.registry.requests, parsed.limits.registry],
        ["postgresOperator", parsed.postgres.operatorRequests, parsed.limits.postgresOperator],
        ["postgres", parsed.postgres.requests, { cpu: parsed.limits.postgres.cpu, memory: parsed.postgres.memoryLimit }],
    ];
    const problems: string[] = [];
    for (const [key, requests, limit] of pairs) {
        for (const resource of ["cpu", "memory"] as const) {
            if ((parseQuantity(limit[resource]) ?? 0) < (parseQuantity(requests[resource]) ?? 0)) {
                problems.push(`${CONFIG_NAMESPACE}:limits.${key}.${resource}: ${limit[resource]} is below the request ${requests[resource]}; a limit must be at least its request`);
            }
        }
    }
    return problems;
}

// --- the control plane (issue 13): `catalyst:controlPlane` ------------------------------------
/** `catalyst:controlPlane`: the CRDs and the controller Deployment in `catalyst-system`. */
const controlPlaneSchema = z
    .strictObject({
        /** Off: no CRDs and no controller (the platform without the control plane). */
        enabled: z.boolean().default(true),
        image: z.string().regex(/^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$/, "must be an image pinned by a tag or digest")
            .refine((image) => !/:latest$/.test(image), "must not use the tag latest")
            .default("ghcr.io/catalyst-environments/control-plane:0.1.0"),
        replicas: z.number().int().min(1).max(10).default(2),
        concurrency: z.number().int().min(1).max(32).default(2),
        stateSecret: dnsLabel.default("catalyst-controller-state"),
        /** Create the Project `default` (today's one app) with the CRDs; its spec is the operator's afterwards. */
        defaultProject: z.boolean().default(true),
        requests: requests.default({ cpu: "250m", memory: "512Mi" }),
        limits: requests.default({ cpu: "2", memory: "2Gi" }),
        /** The HTTP API in resource mode, behind the platform's ingress. */
        api: z
            .strictObject({
                enabled: z.boolean().default(true),
                /** 2 unless set; 1 with `catalyst:oidc` (resolved in parsePlatformConfig). */
                replicas: z.number().int().min(1).max(10).optional(),
                /** Public host; `catalyst.<domain>` unless set. */
                host: z.string().regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a lowercase DNS name").optional(),
                /** The Secret (key `tokens.json`: `{"<token>": "<user>"}`) the operator creates. */
                tokensSecret: dnsLabel.default("catalyst-api-tokens"),
                requests: requests.default({ cpu: "100m", memory: "192Mi" }),
                limits: requests.default({ cpu: "1", memory: "512Mi" }),
            })
            .prefault({}),
    })
    .prefault({});
// --- end of the control plane block -----------------------------------------------------------

/** The schema of the platform configuration bag (production defaults). */
export const platformConfigSchema = z.strictObject({
    domain: domainName("the base domain of deployment environments, e.g. example.com"),
    previewDomain: domainName("the domain of preview hosts").optional(),
    passwordSource: z.enum(["random", "builtin"]).default("random"),
    charts: z
        .strictObject({
            ingressNginx: z.string().min(1).optional(),
            cloudnativePg: z.string().min(1).optional(),
        })
        .prefault({}),
    ingress: z
        .strictObject({
            className: dnsLabel.default("nginx"),
            replicas: z.number().int().min(1).max(20).default(2),
            serviceType: z.enum(["ClusterIP", "LoadBalancer"]).optional(),
            admissionWebhooks: z.boolean().default(true),
            annotationsRiskLevel: z.enum(["Low", "Medium", "High", "Critical"]).default("Medium"),
            requests: requests.default({ cpu: "100m", memory: "128Mi" }),
            values: chartValues.default({}),
        })
        .prefault({}),
    registry: z
        .strictObject({
            username: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be lower case letters, digits, '.', '_' or '-'").default("catalyst"),
            storage: z.enum(["pvc", "s3"]).default("pvc"),
            storageSize: quantity.default("20Gi"),
            storageClass: z.string().min(1).optional(),
            s3: z
                .strictObject({
                    bucket: z.string().min(1),
                    region: z.string().min(1),
                    endpoint: z.url().optional(),
                    forcePathStyle: z.boolean().default(false),
                })
                .optional(),
            requests: requests.default({ cpu: "50m", memory: "128Mi" }),
            gcSchedule: z.string().regex(CRON, "must be a five-field cron expression such as \"30 3 * * *\"").default("30 3 * * *"),
        })
        .superRefine((registry, ctx) => {
            if (registry.storage === "s3" && registry.s3 === undefined) {
                ctx.addIssue({ code: "custom", path: ["s3"], message: "required when storage is s3: { bucket, region, endpoint?, forcePathStyle? }" });
            }
        })
        .prefault({}),
    postgres: z
        .strictObject({
            operatorWebhooks: z.boolean().default(true),
            operatorReplicas: z.number().int().min(1).max(3).default(1),
            operatorRequests: requests.default({ cpu: "100m", memory: "128Mi" }),
            clusterName: dnsLabel.default("shared"),
            instances: z.number().int().min(1).max(9).default(3),
            storageSize: quantity.default("20Gi"),
            storageClass: z.string().min(1).optional(),
            requests: requests.default({ cpu: "250m", memory: "512Mi" }),
            memoryLimit: quantity.default("1Gi"),
            imageName: z.string().min(1).optional(),
            backup: z
                .strictObject({
                    destinationPath: z.string().regex(/^s3:\/\/[^/]+/, "must be s3://<bucket>[/<prefix>]"),
                    endpointUrl: z.url().optional(),
                    schedule: z.string().regex(/^(\S+\s+){5}\S+$/, "must be a six-field cron expression (seconds first)").default("0 0 2 * * *"),
                    retentionPolicy: z.string().regex(/^[1-9][0-9]*[dwm]$/, "must be a number followed by d, w or m, such as 30d").default("30d"),
                })
                .optional(),
            values: chartValues.default({}),
        })
        .prefault({}),
    admission: z
        .strictObject({
            enabled: z.boolean().default(true),
            validationActions: z
                .array(z.enum(["Deny", "Warn", "Audit"]))
                .min(1, "must name at least one of Deny, Warn, Audit")
                .refine((actions) => !(actions.includes("Deny") && actions.includes("Warn")), "must not hold both Deny and Warn (Kubernetes refuses the pair)")
                .default(["Deny"]),
        })
        .prefault({}),
    cloudflare: z
        .strictObject({
            enabled: z.boolean().default(false),
            accountId: cloudflareId.optional(),
            zoneId: cloudflareId.optional(),
            tunnelName: z.string().min(1).max(100).optional(),
            replicas: z.number().int().min(1).max(10).default(2),
        })
        .superRefine((cloudflare, ctx) => {
            for (const key of ["accountId", "zoneId"] as const) {
                if (cloudflare.enabled && cloudflare[key] === undefined) {
                    ctx.addIssue({ code: "custom", path: [key], message: "required when the tunnel is enabled" });
                }
            }
        })
        .prefault({}),
    ...HARDENING_SHAPE,
    controlPlane: controlPlaneSchema,
    oidc: oidcConfigSchema,
});

type RawPlatformConfig = z.output<typeof platformConfigSchema>;

/** The validated platform configuration, with defaults applied and chart sources resolved. */
export type PlatformConfig = Omit<RawPlatformConfig, "previewDomain" | "charts" | "ingress" | "registry" | "controlPlane"> & {
    /** Domain of preview hosts; `preview.<domain>` unless set. */
    previewDomain: string;
    /** Where each chart comes from. */
    charts: { ingressNginx: ChartSource; cloudnativePg: ChartSource };
    /** Ingress settings, with the Service type decided. */
    ingress: Omit<RawPlatformConfig["ingress"], "serviceType"> & { serviceType: "ClusterIP" | "LoadBalancer" };
    /** Registry settings, with storage as the component takes it. */
    registry: Omit<RawPlatformConfig["registry"], "storage" | "storageSize" | "storageClass" | "s3"> & { storage: RegistryStorage };
    /** The control plane, with the API's replica count decided. */
    controlPlane: Omit<RawPlatformConfig["controlPlane"], "api"> & { api: Omit<RawPlatformConfig["controlPlane"]["api"], "replicas"> & { replicas: number } };
    /** Secret keys that are set (their values are read separately, as secrets). */
    secretKeys: ReadonlySet<string>;
};

/** What {@link parsePlatformConfig} needs from its surroundings, so that tests can fake it. */
export interface ConfigEnvironment {
    /** The project root (holds Pulumi.yaml); chart paths are relative to it. */
    root: string;
    /** Whether a path exists. */
    exists: (file: string) => boolean;
    /** The secret keys that are set. */
    secretKeys?: ReadonlySet<string>;
    /** The chart mirror directory (CATALYST_CHART_MIRROR), if one is set. */
    mirror?: string;
}

/**
 * Where a chart comes from, in this order: the path configured on the stack (which must exist),
 * else the tarball `<chart>-<version>.tgz` in the mirror directory CATALYST_CHART_MIRROR (which
 * must hold it), else the upstream repository at the pinned version. Nothing else is looked at.
 */
export function resolveChartSource(
    key: string,
    configured: string | undefined,
    pinned: PinnedChart,
    env: ConfigEnvironment,
): ChartSource | { problem: string } {
    if (configured !== undefined) {
        const file = path.resolve(env.root, configured);
        if (!env.exists(file)) {
            return {
                problem: `${CONFIG_NAMESPACE}:charts.${key}: chart "${configured}" does not exist (looked for ${file}; ` +
                    `a path is relative to the project root; leave the key unset to use ${CHART_MIRROR_VARIABLE} or ${pinned.repo} at version ${pinned.version})`,
            };
        }
        return { kind: "local", path: file };
    }
    if (env.mirror !== undefined && env.mirror !== "") {
        const file = path.resolve(env.root, env.mirror, pinned.file);
        if (!env.exists(file)) {
            return {
                problem: `${CONFIG_NAMESPACE}:charts.${key}: ${CHART_MIRROR_VARIABLE}=${env.mirror} holds no ${pinned.file} (looked for ${file}; ` +
                    `add the release tarball, set ${CONFIG_NAMESPACE}:charts.${key} to a chart path, or unset the variable to use ${pinned.repo})`,
            };
        }
        return { kind: "local", path: file };
    }
    return repositorySource(pinned);
}

function isProblem(value: ChartSource | { problem: string }): value is { problem: string } {
    return "problem" in value;
}

/**
 * Validates the platform configuration bag (`raw`: key to JSON-parsed value, without the
 * `catalyst:` prefix and without secrets). Throws a {@link ConfigError} naming every bad key.
 */
export function parsePlatformConfig(raw: Record<string, unknown>, env: ConfigEnvironment): PlatformConfig {
    const parsed = parseConfig(CONFIG_NAMESPACE, platformConfigSchema, raw);
    const secretKeys = env.secretKeys ?? new Set<string>();
    const problems: string[] = limitProblems(parsed);

    const ingressNginx = resolveChartSource("ingressNginx", parsed.charts.ingressNginx, INGRESS_NGINX_CHART, env);
    const cloudnativePg = resolveChartSource("cloudnativePg", parsed.charts.cloudnativePg, CLOUDNATIVE_PG_CHART, env);
    for (const source of [ingressNginx, cloudnativePg]) {
        if (isProblem(source)) {
            problems.push(source.problem);
        }
    }
    if (parsed.cloudflare.enabled && !secretKeys.has("cloudflareApiToken")) {
        problems.push(
            `${CONFIG_NAMESPACE}:cloudflareApiToken: required when ${CONFIG_NAMESPACE}:cloudflare.enabled is true ` +
                `(pulumi config set --secret ${CONFIG_NAMESPACE}:cloudflareApiToken <token>)`,
        );
    }
    for (const [first, second] of [
        ["registryS3AccessKeyId", "registryS3SecretAccessKey"],
        ["postgresBackupAccessKeyId", "postgresBackupSecretAccessKey"],
    ]) {
        if (secretKeys.has(first) !== secretKeys.has(second)) {
            const missing = secretKeys.has(first) ? second : first;
            problems.push(`${CONFIG_NAMESPACE}:${missing}: required together with ${CONFIG_NAMESPACE}:${missing === first ? second : first}`);
        }
    }
    problems.push(...oidcProblems(CONFIG_NAMESPACE, parsed.oidc, {
        secretKeys,
        apiEnabled: parsed.controlPlane.enabled && parsed.controlPlane.api.enabled,
        apiReplicas: parsed.controlPlane.api.replicas,
    }));
    if (problems.length > 0 || isProblem(ingressNginx) || isProblem(cloudnativePg)) {
        throw new ConfigError(problems);
    }

    const { storage, storageSize, storageClass, s3, ...registry } = parsed.registry;
    const registryStorage: RegistryStorage = storage === "s3" && s3 !== undefined
        ? { kind: "s3", bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle }
        : { kind: "pvc", size: storageSize, storageClass };
    return {
        ...parsed,
        previewDomain: parsed.previewDomain ?? `preview.${parsed.domain}`,
        charts: { ingressNginx, cloudnativePg },
        // Behind the tunnel nothing outside the cluster needs to reach the controller.
        ingress: { ...parsed.ingress, serviceType: parsed.ingress.serviceType ?? (parsed.cloudflare.enabled ? "ClusterIP" : "LoadBalancer") },
        registry: { ...registry, storage: registryStorage },
        // One replica holds the provider's sessions (stacks/oidc/store.ts); two spread the API otherwise.
        controlPlane: { ...parsed.controlPlane, api: { ...parsed.controlPlane.api, replicas: parsed.controlPlane.api.replicas ?? (parsed.oidc.enabled ? 1 : 2) } },
        secretKeys,
    };
}

/** Reads a JSON key; a value that is not JSON is passed on as text for the schema to refuse. */
function readJson(config: pulumi.Config, key: string): unknown {
    try {
        return config.getObject<unknown>(key);
    } catch {
        return config.get(key);
    }
}

/**
 * Reads and validates the platform stack's configuration. Every `catalyst:` key set on the stack
 * is read, so that a key the schema does not know is refused (`catalyst:<key>: unknown key`)
 * instead of being silently ignored.
 */
export function readPlatformConfig(root: string = process.cwd()): PlatformConfig {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const prefix = `${CONFIG_NAMESPACE}:`;
    const keys = Object.keys(pulumi.runtime.allConfig())
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length));
    const secretKeys = new Set(keys.filter((key) => (PLATFORM_SECRET_KEYS as readonly string[]).includes(key)));
    const raw: Record<string, unknown> = {};
    for (const key of keys) {
        if (!secretKeys.has(key)) {
            raw[key] = STRING_KEYS.includes(key) ? config.get(key) : readJson(config, key);
        }
    }
    return parsePlatformConfig(raw, { root, exists: fs.existsSync, secretKeys, mirror: process.env[CHART_MIRROR_VARIABLE] });
}
