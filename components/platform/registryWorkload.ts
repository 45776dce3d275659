import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    REGISTRY_AUTH_DIR,
    REGISTRY_CONFIG_DIR,
    REGISTRY_CONFIG_PATH,
    REGISTRY_DATA_PATH,
    REGISTRY_IMAGE,
    REGISTRY_METRICS_PORT,
    REGISTRY_PORT,
    RegistryStorage,
} from "./registryConfig";
import { ResourceLimits, ResourceRequests, restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./workload";

/**
 * Pure builders of the registry's pods: the Deployment that serves images and the CronJob that
 * collects garbage. Both run under Pod Security `restricted`: a fixed non-root user, a read-only
 * root file system, no capabilities, no service account token.
 */

/** The UID the registry runs as; any non-root UID works, the image needs no particular user. */
const REGISTRY_UID = 65532;

/** Production limits of the registry: uploads and the blob descriptor cache need memory. */
export const DEFAULT_REGISTRY_LIMITS: ResourceLimits = { cpu: "1", memory: "512Mi" };
/** Production requests and limits of the garbage collector, which walks every manifest. */
export const DEFAULT_REGISTRY_GC_RESOURCES: { requests: ResourceRequests; limits: ResourceLimits } = {
    requests: { cpu: "10m", memory: "64Mi" },
    limits: { cpu: "500m", memory: "512Mi" },
};

/** What the registry's pods need to know about the component. */
export interface RegistryWorkloadOptions {
    /** The component name: prefix of the ConfigMap, Secrets and claim the pods mount. */
    name: string;
    /** Where layers are stored. */
    storage: RegistryStorage;
    /** Whether static S3 credentials are in the `${name}-http` Secret. */
    withS3Credentials: boolean;
    /** Pod labels (selector labels included). */
    labels: Record<string, string>;
    /** Selector labels of the registry pods. */
    selector: Record<string, string>;
    /** The image; defaults to {@link REGISTRY_IMAGE}. */
    image?: pulumi.Input<string>;
}

/** Replicas for `storage`: filesystem storage is a ReadWriteOnce volume, so exactly one. */
export function registryReplicas(storage: RegistryStorage): number {
    return storage.kind === "pvc" ? 1 : 2;
}

/** Volumes and mounts of the registry (`withAuth`) and of its garbage collector (without). */
export function registryVolumes(name: string, storage: RegistryStorage, withAuth: boolean) {
    // Whole-directory mounts (no subPath), so that updated ConfigMaps and Secrets reach the pod.
    const volumes: k8s.types.input.core.v1.Volume[] = [
        { name: "config", configMap: { name: `${name}-config` } },
        { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
    ];
    const mounts: k8s.types.input.core.v1.VolumeMount[] = [
        { name: "config", mountPath: REGISTRY_CONFIG_DIR, readOnly: true },
        { name: "tmp", mountPath: "/tmp" },
    ];
    if (withAuth) {
        volumes.push({ name: "auth", secret: { secretName: `${name}-auth` } });
        mounts.push({ name: "auth", mountPath: REGISTRY_AUTH_DIR, readOnly: true });
    }
    if (storage.kind === "pvc") {
        volumes.push({ name: "data", persistentVolumeClaim: { claimName: `${name}-data` } });
        mounts.push({ name: "data", mountPath: REGISTRY_DATA_PATH });
    }
    return { volumes, mounts };
}

/** Environment of the registry and its garbage collector: secrets come from `${name}-http`. */
export function registryEnv(name: string, withS3Credentials: boolean): k8s.types.input.core.v1.EnvVar[] {
    const fromSecret = (env: string, key: string) => ({ name: env, valueFrom: { secretKeyRef: { name: `${name}-http`, key } } });
    return [
        // Shared by replicas so that an upload can move between them.
        fromSecret("REGISTRY_HTTP_SECRET", "http-secret"),
        // Distribution 3 exports OpenTelemetry traces by default; nothing collects them here.
        { name: "OTEL_TRACES_EXPORTER", value: "none" },
        ...(withS3Credentials
            ? [fromSecret("REGISTRY_STORAGE_S3_ACCESSKEY", "s3-access-key"), fromSecret("REGISTRY_STORAGE_S3_SECRETKEY", "s3-secret-key")]
            : []),
    ];
}

/**
 * The registry Deployment's spec; `configHash` rolls the pods when the configuration changes.
 * Liveness asks the API port whether the process answers at all (`/`); readiness asks the debug
 * port's `/debug/health`, which also fails while the storage driver check fails, so a registry
 * that cannot reach its storage leaves the Service without being restarted.
 */
export function registryDeploymentSpec(
    options: RegistryWorkloadOptions,
    configHash: string,
    requests: pulumi.Input<ResourceRequests> = { cpu: "50m", memory: "128Mi" },
    limits: pulumi.Input<ResourceLimits> = DEFAULT_REGISTRY_LIMITS,
): k8s.types.input.apps.v1.DeploymentSpec {
    const { volumes, mounts } = registryVolumes(options.name, options.storage, true);
    return {
        replicas: registryReplicas(options.storage),
        selector: { matchLabels: options.selector },
        // A ReadWriteOnce volume cannot be attached to a second pod on another node.
        strategy: options.storage.kind === "pvc" ? { type: "Recreate" } : { type: "RollingUpdate" },
        template: {
            metadata: { labels: options.labels, annotations: { "catalyst.dev/config-hash": configHash } },
            spec: {
                automountServiceAccountToken: false,
                securityContext: restrictedPodSecurityContext(REGISTRY_UID),
                containers: [{
                    name: "registry",
                    image: options.image ?? REGISTRY_IMAGE,
                    command: ["registry", "serve", REGISTRY_CONFIG_PATH],
                    env: registryEnv(options.name, options.withS3Credentials),
                    ports: [
                        { name: "http", containerPort: REGISTRY_PORT },
                        { name: "metrics", containerPort: REGISTRY_METRICS_PORT },
                    ],
                    readinessProbe: { httpGet: { path: "/debug/health", port: "metrics" }, periodSeconds: 10 },
                    livenessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 20, failureThreshold: 6 },
                    resources: { requests, limits },
                    securityContext: restrictedContainerSecurityContext(),
                    volumeMounts: mounts,
                }],
                volumes,
            },
        },
    };
}

/**
 * The garbage collection CronJob's spec. Upstream warns that a push racing the collector can
 * lose layers: the default schedule is the quietest hour, not a guarantee. With a volume, the
 * job runs on the registry pod's node, the only one that can mount the ReadWriteOnce claim.
 */
export function registryGcCronJobSpec(
    options: RegistryWorkloadOptions,
    schedule: pulumi.Input<string> = "30 3 * * *",
    resources: { requests: pulumi.Input<ResourceRequests>; limits: pulumi.Input<ResourceLimits> } = DEFAULT_REGISTRY_GC_RESOURCES,
): k8s.types.input.batch.v1.CronJobSpec {
    const { volumes, mounts } = registryVolumes(options.name, options.storage, false);
    const podLabels = { ...options.labels, "app.kubernetes.io/name": "registry-gc" };
    return {
        schedule,
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
            metadata: { labels: podLabels },
            spec: {
                backoffLimit: 1,
                activeDeadlineSeconds: 3600,
                ttlSecondsAfterFinished: 86400,
                template: {
                    metadata: { labels: podLabels },
                    spec: {
                        restartPolicy: "Never",
                        automountServiceAccountToken: false,
                        securityContext: restrictedPodSecurityContext(REGISTRY_UID),
                        affinity: options.storage.kind === "pvc"
                            ? {
                                  podAffinity: {
                                      requiredDuringSchedulingIgnoredDuringExecution: [
                                          { labelSelector: { matchLabels: options.selector }, topologyKey: "kubernetes.io/hostname" },
                                      ],
                                  },
                              }
                            : undefined,
                        containers: [{
                            name: "garbage-collect",
                            image: options.image ?? REGISTRY_IMAGE,
                            command: ["registry", "garbage-collect", "--delete-untagged", REGISTRY_CONFIG_PATH],
                            env: registryEnv(options.name, options.withS3Credentials),
                            resources,
                            securityContext: restrictedContainerSecurityContext(),
                            volumeMounts: mounts,
                        }],
                        volumes,
                    },
                },
            },
        },
    };
}
