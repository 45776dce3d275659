import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { objectLabels } from "./labels";
import { internetEgressSpec } from "./network";

/*
 * Postgres for an environment, through CloudNativePG (CNPG).
 *
 * `shared` (previews and development): a database of its own on the platform's shared cluster.
 * The database's owner role is a CNPG `DatabaseRole` (postgresql.cnpg.io/v1, operator 1.30+),
 * the declarative alternative to `Cluster.spec.managed.roles`: that list belongs to the platform
 * stack and is one atomic array, so an environment could only edit it by overwriting every other
 * environment's entry. The role, its `kubernetes.io/basic-auth` password Secret (labelled
 * `cnpg.io/reload` so password changes are picked up) and the `Database` live next to the shared
 * cluster in the platform's postgres namespace, and carry the environment's label; both CRs use
 * reclaim policy `delete`, so destroying the environment drops its database and role.
 * What the platform operator must do: nothing with CNPG 1.30 or later. On an older operator
 * (no DatabaseRole CRD) the `pulumi up` fails on the unknown kind; then either upgrade the
 * operator or add, per environment, `{name: <role>, login: true, passwordSecret: {name:
 * <secret>}}` to the shared Cluster's `spec.managed.roles` and set `catalyst:database.mode` to
 * `cluster` meanwhile.
 *
 * `cluster` (staging and production, or any environment by config): a dedicated CNPG Cluster in
 * the environment's namespace, bootstrapped with an owner whose password this stack generates;
 * optional S3 backups with a ScheduledBackup.
 */

/** How an environment gets Postgres. */
export type DatabaseMode = "shared" | "cluster" | "none";

/** S3 backups of a dedicated cluster. */
export interface DatabaseBackup {
    /** `s3://bucket/prefix`. */
    destinationPath: string;
    /** S3 endpoint for S3-compatible stores. */
    endpointURL?: string;
    /** Six-field cron schedule of the ScheduledBackup. */
    schedule: string;
    /** How long backups are kept (`30d`). */
    retention: string;
    /** Access key id and secret access key (secret). */
    credentials: pulumi.Input<{ accessKeyId: string; secretAccessKey: string }>;
}

/** Arguments of {@link Database}. */
export interface DatabaseArgs {
    /** The environment's stack name, for labels and the database and role names. */
    stack: string;
    /** `shared` or `cluster` (see the file comment). */
    mode: "shared" | "cluster";
    /** The environment's namespace (the connection Secret goes there). */
    namespace: pulumi.Input<string>;
    /** Namespace of the platform's shared cluster. */
    postgresNamespace: pulumi.Input<string>;
    /** Name of the platform's shared CNPG Cluster. */
    postgresClusterName: pulumi.Input<string>;
    /** In-cluster host of the shared cluster's read-write service. */
    postgresHost: pulumi.Input<string>;
    /** Where the generated password comes from. */
    passwordSource: PasswordSource;
    /** Instances of a dedicated cluster. */
    instances: number;
    /** Volume size of each instance of a dedicated cluster. */
    storage: string;
    /** Pinned Postgres image of a dedicated cluster (operator default when absent). */
    imageName?: string;
    /** Namespace of the CNPG operator, which must reach a dedicated cluster's pods. */
    operatorNamespace: string;
    /** API server networks a dedicated cluster's pods must reach (their instance manager uses the API). */
    apiServerCidrs: string[];
    /** Pod, service and node networks, excluded from the backup egress. */
    clusterCidrs: string[];
    /** S3 backups of a dedicated cluster, when configured. */
    backup?: DatabaseBackup;
}

/** The Postgres identifier (database and role name) of an environment: `env_<stack>` with `_`. */
export function databaseIdentifier(stack: string): string {
    return `env_${stack.replace(/-/g, "_")}`.slice(0, 63);
}

/** A `postgresql://` URL; the parts are percent-encoded. */
export function databaseUrl(user: string, password: string, host: string, database: string): string {
    const e = encodeURIComponent;
    return `postgresql://${e(user)}:${e(password)}@${host}:5432/${e(database)}?sslmode=require`;
}

/** The in-namespace name of the connection Secret (DATABASE_URL and its parts). */
export const DATABASE_SECRET = "database";
/** The name of a dedicated cluster. */
export const DEDICATED_CLUSTER = "postgres";

/**
 * An environment's Postgres database and its connection Secret (`DATABASE_URL`, host, port,
 * dbname, user, password) in the environment's namespace.
 */
export class Database extends pulumi.ComponentResource {
    /** Name of the connection Secret in the environment's namespace. */
    public readonly secretName: pulumi.Output<string>;
    /** Host of the read-write service. */
    public readonly host: pulumi.Output<string>;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:Database", name, {}, opts);
        const password = new GeneratedPassword(`${name}-password`, { source: args.passwordSource }, { parent: this });
        const location = args.mode === "shared" ? this.shared(name, args, password) : this.dedicated(name, args, password);

        const url = pulumi.secret(pulumi.all([password.value, location.host]).apply(([pw, host]) =>
            databaseUrl(location.user, pw, host, location.database)));
        const secret = new k8s.core.v1.Secret(`${name}-connection`, {
            metadata: { name: DATABASE_SECRET, namespace: args.namespace, labels: objectLabels(args.stack, "database") },
            type: "Opaque",
            stringData: {
                DATABASE_URL: url,
                host: location.host,
                port: "5432",
                dbname: location.database,
                user: location.user,
                password: password.value,
            },
        }, { parent: this, dependsOn: location.dependsOn });

        this.secretName = secret.metadata.name;
        this.host = location.host;
        this.registerOutputs({ secretName: this.secretName, host: this.host });
    }

    private shared(name: string, args: DatabaseArgs, password: GeneratedPassword) {
        const identifier = databaseIdentifier(args.stack);
        const labels = objectLabels(args.stack, "database");
        const objectName = `env-${args.stack}`;
        const roleSecret = new k8s.core.v1.Secret(`${name}-role-secret`, {
            metadata: {
                name: `${objectName}-db-owner`,
                namespace: args.postgresNamespace,
                labels: { ...labels, "cnpg.io/reload": "true" },
            },
            type: "kubernetes.io/basic-auth",
            stringData: { username: identifier, password: password.value },
        }, { parent: this });
        const role = new k8s.apiextensions.CustomResource(`${name}-role`, {
            apiVersion: "postgresql.cnpg.io/v1",
            kind: "DatabaseRole",
            metadata: { name: objectName, namespace: args.postgresNamespace, labels },
            spec: {
                cluster: { name: args.postgresClusterName },
                name: identifier,
                login: true,
                connectionLimit: 20,
                passwordSecret: { name: roleSecret.metadata.name },
                databaseRoleReclaimPolicy: "delete",
                comment: `owner of the database of environment ${args.stack}`,
            },
        }, { parent: this });
        const database = new k8s.apiextensions.CustomResource(`${name}-database`, {
            apiVersion: "postgresql.cnpg.io/v1",
            kind: "Database",
            metadata: { name: objectName, namespace: args.postgresNamespace, labels },
            spec: {
                cluster: { name: args.postgresClusterName },
                name: identifier,
                owner: identifier,
                ensure: "present",
                databaseReclaimPolicy: "delete",
            },
        }, { parent: this, dependsOn: [role] });
        return { host: pulumi.output(args.postgresHost), user: identifier, database: identifier, dependsOn: [database] };
    }

    private dedicated(name: string, args: DatabaseArgs, password: GeneratedPassword) {
        const labels = objectLabels(args.stack, "database");
        const namespace = args.namespace;
        const owner = new k8s.core.v1.Secret(`${name}-owner-secret`, {
            metadata: { name: `${DEDICATED_CLUSTER}-app-credentials`, namespace, labels },
            type: "kubernetes.io/basic-auth",
            stringData: { username: "app", password: password.value },
        }, { parent: this });
        const spec: Record<string, unknown> = {
            instances: args.instances,
            storage: { size: args.storage },
            // Instance pods count against the namespace quota, so they declare their size.
            resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
            inheritedMetadata: { labels },
            bootstrap: { initdb: { database: "app", owner: "app", secret: { name: owner.metadata.name } } },
        };
        if (args.imageName) {
            spec.imageName = args.imageName;
        }
        const dependsOn: pulumi.Resource[] = [owner];
        if (args.backup) {
            const credentials = new k8s.core.v1.Secret(`${name}-backup-credentials`, {
                metadata: { name: `${DEDICATED_CLUSTER}-backup-credentials`, namespace, labels },
                stringData: {
                    ACCESS_KEY_ID: pulumi.secret(pulumi.output(args.backup.credentials).apply((c) => c.accessKeyId)),
                    ACCESS_SECRET_KEY: pulumi.secret(pulumi.output(args.backup.credentials).apply((c) => c.secretAccessKey)),
                },
            }, { parent: this });
            dependsOn.push(credentials);
            const ref = (key: string) => ({ name: credentials.metadata.name, key });
            spec.backup = {
                retentionPolicy: args.backup.retention,
                barmanObjectStore: {
                    destinationPath: args.backup.destinationPath,
                    ...(args.backup.endpointURL ? { endpointURL: args.backup.endpointURL } : {}),
                    s3Credentials: { accessKeyId: ref("ACCESS_KEY_ID"), secretAccessKey: ref("ACCESS_SECRET_KEY") },
                },
            };
        }
        const cluster = new k8s.apiextensions.CustomResource(`${name}-cluster`, {
            apiVersion: "postgresql.cnpg.io/v1",
            kind: "Cluster",
            metadata: { name: DEDICATED_CLUSTER, namespace, labels },
            spec,
        }, { parent: this, dependsOn });
        if (args.backup) {
            new k8s.apiextensions.CustomResource(`${name}-scheduled-backup`, {
                apiVersion: "postgresql.cnpg.io/v1",
                kind: "ScheduledBackup",
                metadata: { name: `${DEDICATED_CLUSTER}-daily`, namespace, labels },
                spec: {
                    schedule: args.backup.schedule,
                    cluster: { name: cluster.metadata.name },
                    backupOwnerReference: "self",
                    method: "barmanObjectStore",
                },
            }, { parent: this });
        }
        this.clusterPolicies(name, args, cluster);
        return {
            host: pulumi.interpolate`${DEDICATED_CLUSTER}-rw.${namespace}.svc`,
            user: "app",
            database: "app",
            dependsOn: [cluster],
        };
    }

    /** The paths a dedicated cluster's pods need beyond the namespace defaults. */
    private clusterPolicies(name: string, args: DatabaseArgs, cluster: pulumi.Resource) {
        const labels = objectLabels(args.stack, "database");
        const podSelector = { "cnpg.io/cluster": DEDICATED_CLUSTER };
        const policy = (suffix: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-${suffix}`, {
                metadata: { name: `${DEDICATED_CLUSTER}-${suffix}`, namespace: args.namespace, labels },
                spec,
            }, { parent: this, dependsOn: [cluster] });
        // The operator polls each instance's status endpoint (8000) and connects to Postgres.
        policy("allow-operator", {
            podSelector: { matchLabels: podSelector },
            policyTypes: ["Ingress"],
            ingress: [{
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.operatorNamespace } } }],
                ports: [{ protocol: "TCP", port: 8000 }, { protocol: "TCP", port: 5432 }],
            }],
        });
        if (args.apiServerCidrs.length > 0) {
            policy("allow-api-server", {
                podSelector: { matchLabels: podSelector },
                policyTypes: ["Egress"],
                egress: [{
                    to: args.apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } })),
                    ports: [{ protocol: "TCP", port: 443 }, { protocol: "TCP", port: 6443 }],
                }],
            });
        }
        if (args.backup) {
            policy("allow-backup", internetEgressSpec(podSelector, args.clusterCidrs));
        }
    }
}
