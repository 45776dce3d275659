import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { namespaceName } from "../naming";
import { objectLabels } from "./labels";
import { internetEgressSpec } from "./network";
import { clusterSeed, copySourcePolicySpec, DatabaseSeed, Seed, SEED_CONFIG_MAP, SEED_EXTERNAL_CLUSTER, SEED_KEYS, SEED_SOURCE_SECRET, seedSource } from "./seed";

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
    /** What the new database starts with; empty when unset (seed.ts). */
    seed?: Seed;
    /** Image of the seed Job (shared mode). */
    seedImage?: string;
    /** A dedicated cluster others may copy (admits the seed Jobs and imports of previews and development environments). */
    allowCopies?: boolean;
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

/** Pulumi waits for a seeded dedicated cluster to be Ready (its import done) before the app. */
export const SEEDED_CLUSTER_ANNOTATIONS: Readonly<Record<string, string>> = { "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "3600" };

/**
 * The namespace a copy reads from: a dedicated cluster's environment namespace, or "" for a
 * database on the shared cluster (the platform's Postgres namespace, known only as an Output).
 */
export function seedNamespace(from: string): string {
    const host = seedSource(from, "", databaseIdentifier).host;
    return host === "" ? "" : namespaceName(from);
}

/**
 * An environment's Postgres database and its connection Secret (`DATABASE_URL`, host, port,
 * dbname, user, password) in the environment's namespace.
 */
export class Database extends pulumi.ComponentResource {
    /** Name of the connection Secret in the environment's namespace. */
    public readonly secretName: pulumi.Output<string>;
    /** Host of the read-write service. */
    public readonly host: pulumi.Output<string>;
    /** What the app waits for: the connection Secret, and the seed when there is one. */
    public readonly ready: pulumi.Resource[];

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
        this.ready = [secret, ...location.seeded];
        this.registerOutputs({ secretName: this.secretName, host: this.host });
    }

    private shared(name: string, args: DatabaseArgs, password: GeneratedPassword) {
        const identifier = databaseIdentifier(args.stack);
        const labels = objectLabels(args.stack, "database");
        const objectName = namespaceName(args.stack);
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
        const seeded: pulumi.Resource[] = [];
        if (args.seed !== undefined) {
            const from = args.seed.kind === "copy" ? args.seed.from : undefined;
            seeded.push(new DatabaseSeed(`${name}-seed`, {
                stack: args.stack,
                postgresNamespace: args.postgresNamespace,
                postgresHost: args.postgresHost,
                targetSecretName: roleSecret.metadata.name,
                targetDatabase: identifier,
                seed: args.seed,
                sourceNamespace: from === undefined ? undefined : seedNamespace(from),
                source: from === undefined ? undefined : (host) => seedSource(from, host, databaseIdentifier),
                image: args.seedImage ?? "",
            }, { parent: this, dependsOn: [database] }).job);
        }
        return { host: pulumi.output(args.postgresHost), user: identifier, database: identifier, dependsOn: [database], seeded };
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
        if (args.seed !== undefined) dependsOn.push(...this.dedicatedSeed(name, args, args.seed, spec));
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
            // A seeded cluster is Ready only after its import or SQL ran: the app waits for that.
            metadata: { name: DEDICATED_CLUSTER, namespace, labels, ...(args.seed ? { annotations: SEEDED_CLUSTER_ANNOTATIONS } : {}) },
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
            seeded: [] as pulumi.Resource[],
        };
    }

    /**
     * A dedicated cluster's seed: the SQL file as a ConfigMap, or, for a copy, the source's
     * credentials (read from the platform's Secret by this stack, since CloudNativePG reads them
     * only from the Cluster's namespace) and the egress to the source. Adds the bootstrap
     * section to `spec`; returns what the Cluster depends on.
     */
    private dedicatedSeed(name: string, args: DatabaseArgs, seed: Seed, spec: Record<string, unknown>): pulumi.Resource[] {
        const labels = objectLabels(args.stack, "seed");
        const source = seed.kind === "copy" ? seedSource(seed.from, "", databaseIdentifier) : undefined;
        const bootstrap = clusterSeed(seed, source);
        const initdb = (spec.bootstrap as { initdb: Record<string, unknown> }).initdb;
        Object.assign(initdb, bootstrap.initdb);
        if (seed.kind === "file") {
            return [new k8s.core.v1.ConfigMap(`${name}-seed-sql`, {
                metadata: { name: SEED_CONFIG_MAP, namespace: args.namespace, labels },
                data: { [SEED_KEYS.file]: seed.sql },
            }, { parent: this })];
        }
        const platformSecret = k8s.core.v1.Secret.get(`${name}-seed-source-read`, pulumi.interpolate`${args.postgresNamespace}/${seed.secretName}`, { parent: this });
        const decode = (key: string) => platformSecret.data.apply((data) => Buffer.from(data?.[key] ?? "", "base64").toString("utf8"));
        const secret = new k8s.core.v1.Secret(`${name}-seed-source`, {
            metadata: { name: SEED_SOURCE_SECRET, namespace: args.namespace, labels },
            type: "kubernetes.io/basic-auth",
            stringData: { username: pulumi.secret(decode("username")), password: pulumi.secret(decode("password")) },
        }, { parent: this });
        const clusters = bootstrap.externalClusters ?? [];
        spec.externalClusters = clusters.map((c) => c.name === SEED_EXTERNAL_CLUSTER
            ? { ...c, connectionParameters: { ...(c.connectionParameters as Record<string, unknown>), user: decode("username") } }
            : c);
        const sourceNamespace = seedNamespace(seed.from);
        const policy = new k8s.networking.v1.NetworkPolicy(`${name}-seed-egress`, {
            metadata: { name: `${DEDICATED_CLUSTER}-seed-source`, namespace: args.namespace, labels },
            spec: {
                podSelector: { matchLabels: { "cnpg.io/cluster": DEDICATED_CLUSTER } },
                policyTypes: ["Egress"],
                egress: [{
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": sourceNamespace === "" ? args.postgresNamespace : sourceNamespace } } }],
                    ports: [{ protocol: "TCP", port: 5432 }],
                }],
            },
        }, { parent: this });
        return [secret, policy];
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
        if (args.allowCopies) {
            new k8s.networking.v1.NetworkPolicy(`${name}-allow-copies`, {
                metadata: { name: `${DEDICATED_CLUSTER}-allow-copies`, namespace: args.namespace, labels },
                spec: pulumi.output(args.postgresNamespace).apply((ns) => copySourcePolicySpec(ns, DEDICATED_CLUSTER)),
            }, { parent: this, dependsOn: [cluster] });
        }
    }
}
