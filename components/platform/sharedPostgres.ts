import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createNamespace, serviceHost, STACK_LABEL } from "./namespace";
import { ResourceRequests } from "./workload";

/** Production CPU limit of each Postgres instance. */
export const DEFAULT_POSTGRES_CPU_LIMIT = "2";

/** Continuous backup of the cluster to S3 with barman (WAL archiving plus base backups). */
export interface PostgresBackup {
    /** Bucket and prefix, `s3://bucket/prefix`. */
    destinationPath: string;
    /** Endpoint of an S3-compatible service; AWS when unset. */
    endpointUrl?: string;
    /** Base backup schedule, a six-field cron expression (seconds first); defaults to 02:00 daily. */
    schedule?: string;
    /** How long backups are kept (`30d`). */
    retentionPolicy?: string;
    /** Static credentials (secrets); without them the pods' cloud identity (IAM role) is used. */
    credentials?: { accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
}

/** Arguments of {@link SharedPostgres}. */
export interface SharedPostgresArgs {
    /** Namespace to create for the cluster; defaults to `database`. */
    namespace?: string;
    /** Name of the CloudNativePG `Cluster`; defaults to `shared`. */
    clusterName?: string;
    /** Postgres instances (one primary, the rest streaming replicas); defaults to 3. */
    instances?: pulumi.Input<number>;
    /** Volume size of each instance; defaults to `20Gi`. */
    storageSize?: pulumi.Input<string>;
    /** StorageClass of the volumes; the cluster default when unset. */
    storageClass?: pulumi.Input<string>;
    /** Requests of each instance; defaults to 250m CPU and 512Mi memory. */
    requests?: pulumi.Input<ResourceRequests>;
    /** Memory limit of each instance; defaults to `1Gi`. */
    memoryLimit?: pulumi.Input<string>;
    /** CPU limit of each instance; defaults to {@link DEFAULT_POSTGRES_CPU_LIMIT}. */
    cpuLimit?: pulumi.Input<string>;
    /** Postgres image; the operator's default for its version when unset. */
    imageName?: pulumi.Input<string>;
    /** Backups to S3; none when unset (decides the resources created, so it is a plain value). */
    backup?: PostgresBackup;
    /** Labels added to every object. */
    labels?: Record<string, string>;
}

function pickLabels(labels: Record<string, string>, keys: string[]): Record<string, string> {
    return Object.fromEntries(Object.entries(labels).filter(([key]) => keys.includes(key)));
}

/** The spec of the CNPG `Cluster` for `args`; `backupSecret` names the S3 credentials Secret, if any. */
export function clusterSpec(args: SharedPostgresArgs, backupSecret?: string): Record<string, unknown> {
    const requests = args.requests ?? { cpu: "250m", memory: "512Mi" };
    const spec: Record<string, unknown> = {
        instances: args.instances ?? 3,
        ...(args.imageName === undefined ? {} : { imageName: args.imageName }),
        // Applications get their own roles and databases; nobody logs in as postgres.
        enableSuperuserAccess: false,
        primaryUpdateStrategy: "unsupervised",
        storage: { size: args.storageSize ?? "20Gi", ...(args.storageClass === undefined ? {} : { storageClass: args.storageClass }) },
        resources: { requests, limits: { cpu: args.cpuLimit ?? DEFAULT_POSTGRES_CPU_LIMIT, memory: args.memoryLimit ?? "1Gi" } },
        affinity: { enablePodAntiAffinity: true, topologyKey: "kubernetes.io/hostname", podAntiAffinityType: "preferred" },
        // The operator copies these onto the pods, services and volumes it creates, so the
        // stack's objects can be counted; the other platform labels would mislabel them.
        inheritedMetadata: { labels: pickLabels(args.labels ?? {}, [STACK_LABEL]) },
    };
    if (args.backup !== undefined) {
        const credentials = backupSecret === undefined
            ? { inheritFromIAMRole: true }
            : {
                  accessKeyId: { name: backupSecret, key: "ACCESS_KEY_ID" },
                  secretAccessKey: { name: backupSecret, key: "SECRET_ACCESS_KEY" },
              };
        spec.backup = {
            retentionPolicy: args.backup.retentionPolicy ?? "30d",
            barmanObjectStore: {
                destinationPath: args.backup.destinationPath,
                ...(args.backup.endpointUrl === undefined ? {} : { endpointURL: args.backup.endpointUrl }),
                s3Credentials: credentials,
                wal: { compression: "gzip" },
                data: { compression: "gzip" },
            },
        };
    }
    return spec;
}

/**
 * The shared Postgres cluster environments get their databases from: a CloudNativePG `Cluster`
 * in its own namespace, optionally backed up to S3 on a schedule. Depend it on the
 * {@link PostgresOperator} (`dependsOn`) so that the CRDs exist first. The namespace enforces Pod
 * Security `restricted`: CloudNativePG runs instances as the postgres user without privilege,
 * capabilities or host access, with the RuntimeDefault seccomp profile.
 */
export class SharedPostgres extends pulumi.ComponentResource {
    /** Namespace of the cluster. */
    public readonly namespace: pulumi.Output<string>;
    /** Name of the `Cluster`. */
    public readonly clusterName: pulumi.Output<string>;
    /** In-cluster host of the read-write service (`<cluster>-rw.<namespace>.svc.cluster.local`). */
    public readonly host: pulumi.Output<string>;

    constructor(name: string, args: SharedPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:SharedPostgres", name, {}, opts);
        const clusterName = args.clusterName ?? "shared";
        const labels = args.labels ?? {};
        const ns = createNamespace(name, { name: args.namespace ?? "database", podSecurity: "restricted", labels }, { parent: this });
        const namespace = ns.metadata.name;

        let backupSecret: string | undefined;
        if (args.backup?.credentials !== undefined) {
            backupSecret = `${clusterName}-backup-s3`;
            new k8s.core.v1.Secret(`${name}-backup-credentials`, {
                metadata: { name: backupSecret, namespace, labels },
                type: "Opaque",
                stringData: {
                    ACCESS_KEY_ID: args.backup.credentials.accessKeyId,
                    SECRET_ACCESS_KEY: args.backup.credentials.secretAccessKey,
                },
            }, { parent: this });
        }
        const cluster = new k8s.apiextensions.CustomResource(`${name}-cluster`, {
            apiVersion: "postgresql.cnpg.io/v1",
            kind: "Cluster",
            metadata: { name: clusterName, namespace, labels },
            spec: clusterSpec(args, backupSecret),
        }, { parent: this });
        if (args.backup !== undefined) {
            new k8s.apiextensions.CustomResource(`${name}-scheduled-backup`, {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "ScheduledBackup",
                metadata: { name: `${clusterName}-daily`, namespace, labels },
                spec: {
                    schedule: args.backup.schedule ?? "0 0 2 * * *",
                    backupOwnerReference: "self",
                    cluster: { name: cluster.metadata.name },
                    method: "barmanObjectStore",
                    immediate: true,
                },
            }, { parent: this });
        }
        this.namespace = namespace;
        this.clusterName = cluster.metadata.name;
        this.host = pulumi.all([cluster.metadata.name, namespace]).apply(([cluster_, ns_]) => serviceHost(`${cluster_}-rw`, ns_));
        this.registerOutputs({ namespace: this.namespace, clusterName: this.clusterName, host: this.host });
    }
}
