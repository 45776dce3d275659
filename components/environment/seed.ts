import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { namedStackName, namespaceName, parseStackName } from "../naming";
import { COMPONENT_LABEL, objectLabels, TYPE_LABEL } from "./labels";
import { SEED_SCRIPT } from "./seed-script";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";

/*
 * What a new environment's database starts with (issue 17 section 1): empty (no seed), an SQL
 * file of the repository, or a copy of another environment's database with an optional masking
 * script. The app waits for it: stacks/environment.ts makes the app depend on the seed.
 *
 * - A database on the shared cluster is filled by a one-shot Job (seed-script.ts) in the
 *   platform's Postgres namespace, next to the shared cluster and the database's owner Secret.
 *   The source's credentials are a Secret the platform operator puts in that namespace: the
 *   environment's namespace never holds them, and its people (who may read their own Secrets)
 *   never see them. Pulumi waits for the Job to complete before it creates the app.
 * - A dedicated cluster (database.mode cluster) is bootstrapped by CloudNativePG itself: an SQL
 *   file through `bootstrap.initdb.postInitApplicationSQLRefs`, a copy through
 *   `bootstrap.initdb.import` (logical import, type microservice) from an `externalClusters`
 *   entry, with the masking statements as `postImportApplicationSQL`. The operator needs the
 *   source's password in the Cluster's own namespace, so the stack copies that one key from the
 *   platform's Secret into a Secret of the environment; the Cluster waits for Ready
 *   (`pulumi.com/waitFor`), so the app still starts after the import.
 */

/** Default image of the seed Job: psql and pg_dump of the newest major, which read every older server. */
export const DEFAULT_SEED_IMAGE = "ghcr.io/cloudnative-pg/postgresql:18.1-standard-trixie";
/** The uid and gid of the `postgres` user of the CloudNativePG images. */
export const SEED_UID = 26;
/** The ConfigMap keys the Job mounts under {@link SEED_MOUNT}. */
export const SEED_KEYS = { script: "seed.sh", file: "seed.sql", mask: "mask.sql" } as const;
/** Where the Job mounts its ConfigMap. */
export const SEED_MOUNT = "/seed";
/** Name of the externalClusters entry of a dedicated cluster's import. */
export const SEED_EXTERNAL_CLUSTER = "seed-source";
/** The dedicated cluster's Secret holding the source's password. */
export const SEED_SOURCE_SECRET = "postgres-seed-source";
/** The dedicated cluster's ConfigMap holding the SQL seed file. */
export const SEED_CONFIG_MAP = "postgres-seed";
/** A ConfigMap holds at most 1 MiB; the seed files share it with the script. */
export const MAX_SEED_BYTES = 900 * 1024;

/** A seed, resolved from configuration (file contents read, the source located). */
export type Seed =
    | { kind: "file"; sql: string }
    | {
        kind: "copy";
        /** The source environment's stack name. */
        from: string;
        /** Secret (`username`, `password`) of a reader of the source, in the platform's Postgres namespace. */
        secretName: string;
        /** The masking SQL, run after the copy and before the app starts. */
        mask?: string;
        /** Copying from a production database is allowed (catalyst:database.seed.allowProduction). */
        allowProduction: boolean;
    };

/** Where a source environment's database is, by its stack name. */
export interface SeedSource {
    host: string;
    database: string;
}

/** The default name of the Secret with a reader of `from`'s database. */
export function defaultSourceSecret(from: string): string {
    return `seed-${from}`.slice(0, 63).replace(/-+$/, "");
}

/**
 * Where the database of environment `from` lives: staging and production have a dedicated
 * cluster (`postgres-rw.<namespace>.svc`, database `app`), the others a database of their own
 * on the shared cluster.
 */
export function seedSource(from: string, sharedHost: string, databaseIdentifier: (stack: string) => string): SeedSource {
    const kind = parseStackName(from).kind;
    if (kind === "production" || kind === "staging") {
        return { host: `postgres-rw.${namespaceName(from)}.svc`, database: "app" };
    }
    return { host: sharedHost, database: databaseIdentifier(from) };
}

/** The hosts of the production databases of `stack`'s project, which a copy refuses unless allowed. */
export function productionHosts(stack: string): string[] {
    const project = parseStackName(stack).project;
    const namespace = namespaceName(namedStackName("production", project));
    return [`postgres-rw.${namespace}.svc`, `postgres-rw.${namespace}.svc.cluster.local`];
}

/** What the seed Job's container gets, besides the target's credentials. */
export interface SeedJobInput {
    stack: string;
    namespace: string;
    image: string;
    configMapName: string;
    /** The Secret (`username`, `password`) of the database's owner. */
    targetSecretName: string;
    targetHost: string;
    targetDatabase: string;
    seed: Seed;
    source?: SeedSource;
}

/** The seed Job's name in the Postgres namespace (unique per environment). */
export function seedJobName(stack: string): string {
    return `${namespaceName(stack)}-seed`;
}

/** The seed Job's spec: restricted, read-only, limited, no ServiceAccount token, never restarted in place. */
export function seedJobSpec(input: SeedJobInput): k8s.types.input.batch.v1.JobSpec {
    const ref = (name: string, key: string) => ({ valueFrom: { secretKeyRef: { name, key } } });
    const env: k8s.types.input.core.v1.EnvVar[] = [
        { name: "SEED_MODE", value: input.seed.kind },
        { name: "TARGET_HOST", value: input.targetHost },
        { name: "TARGET_DB", value: input.targetDatabase },
        { name: "TARGET_USER", ...ref(input.targetSecretName, "username") },
        { name: "TARGET_PASSWORD", ...ref(input.targetSecretName, "password") },
    ];
    if (input.seed.kind === "file") {
        env.push({ name: "SEED_FILE", value: `${SEED_MOUNT}/${SEED_KEYS.file}` });
    } else {
        if (input.source === undefined) throw new Error("a copy needs its source");
        env.push(
            { name: "SOURCE_HOST", value: input.source.host },
            { name: "SOURCE_DB", value: input.source.database },
            { name: "SOURCE_USER", ...ref(input.seed.secretName, "username") },
            { name: "SOURCE_PASSWORD", ...ref(input.seed.secretName, "password") },
            { name: "PRODUCTION_HOSTS", value: productionHosts(input.stack).join(" ") },
            { name: "ALLOW_PRODUCTION", value: String(input.seed.allowProduction) },
        );
        if (input.seed.mask !== undefined) env.push({ name: "MASK_FILE", value: `${SEED_MOUNT}/${SEED_KEYS.mask}` });
    }
    const labels = objectLabels(input.stack, "seed");
    return {
        backoffLimit: 2,
        // A copy of a large database takes time; one that hangs must not hold the up forever.
        activeDeadlineSeconds: 3600,
        template: {
            metadata: { labels },
            spec: {
                restartPolicy: "Never",
                automountServiceAccountToken: false,
                securityContext: restrictedPodSecurityContext(SEED_UID, SEED_UID),
                containers: [{
                    name: "seed",
                    image: input.image,
                    command: ["bash", `${SEED_MOUNT}/${SEED_KEYS.script}`],
                    env: [...env, { name: "HOME", value: "/tmp" }],
                    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
                    securityContext: restrictedContainerSecurityContext(),
                    volumeMounts: [{ name: "seed", mountPath: SEED_MOUNT, readOnly: true }, { name: "tmp", mountPath: "/tmp" }],
                }],
                volumes: [
                    { name: "seed", configMap: { name: input.configMapName, defaultMode: 0o444 } },
                    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                ],
            },
        },
    };
}

/** The seed pod's network: DNS, the shared cluster in its own namespace, and the source's namespace, on 5432. */
export function seedNetworkPolicySpec(stack: string, postgresNamespace: string, sourceNamespace?: string): k8s.types.input.networking.v1.NetworkPolicySpec {
    const postgres = [{ protocol: "TCP", port: 5432 }];
    const egress: k8s.types.input.networking.v1.NetworkPolicyEgressRule[] = [
        { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
        { to: [{ podSelector: { matchLabels: { "cnpg.io/podRole": "instance" } } }], ports: postgres },
    ];
    if (sourceNamespace !== undefined && sourceNamespace !== "" && sourceNamespace !== postgresNamespace) {
        egress.push({ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": sourceNamespace } } }], ports: postgres });
    }
    return { podSelector: { matchLabels: objectLabels(stack, "seed") }, policyTypes: ["Ingress", "Egress"], egress };
}

/** What a dedicated cluster's spec gains from a seed. */
export interface ClusterSeed {
    /** `spec.bootstrap.initdb` additions. */
    initdb: Record<string, unknown>;
    /** `spec.externalClusters`, for a copy. */
    externalClusters?: Record<string, unknown>[];
}

/**
 * The bootstrap section of a dedicated cluster: the SQL file through a ConfigMap reference, or a
 * logical import of the source's database with the masking statements after it.
 */
export function clusterSeed(seed: Seed, source: SeedSource | undefined): ClusterSeed {
    if (seed.kind === "file") {
        return { initdb: { postInitApplicationSQLRefs: { configMapRefs: [{ name: SEED_CONFIG_MAP, key: SEED_KEYS.file }] } } };
    }
    if (source === undefined) throw new Error("a copy needs its source");
    return {
        initdb: {
            import: {
                type: "microservice",
                databases: [source.database],
                source: { externalCluster: SEED_EXTERNAL_CLUSTER },
                ...(seed.mask === undefined ? {} : { postImportApplicationSQL: [seed.mask] }),
            },
        },
        externalClusters: [{
            name: SEED_EXTERNAL_CLUSTER,
            connectionParameters: { host: source.host, port: "5432", dbname: source.database, sslmode: "require" },
            // The user name is read from the same Secret by the stack (see DedicatedSeedSecret).
            password: { name: SEED_SOURCE_SECRET, key: "password" },
        }],
    };
}

/** Arguments of {@link DatabaseSeed}. */
export interface DatabaseSeedArgs {
    /** The environment's stack name. */
    stack: string;
    /** The platform's Postgres namespace (where the Job runs and the source Secret is). */
    postgresNamespace: pulumi.Input<string>;
    /** Host of the shared cluster's read-write service. */
    postgresHost: pulumi.Input<string>;
    /** The database's owner Secret in the Postgres namespace. */
    targetSecretName: pulumi.Input<string>;
    /** The environment's database on the shared cluster. */
    targetDatabase: string;
    /** What to fill it with. */
    seed: Seed;
    /** The namespace a copy reads from (undefined for a file, "" for the shared cluster itself). */
    sourceNamespace?: string;
    /** Pinned image with bash, psql and pg_dump. */
    image: string;
    /** Resolves the source's location from the shared host. */
    source?: (sharedHost: string) => SeedSource;
}

/**
 * The one-shot seed of a database on the shared cluster: the script and SQL as a ConfigMap, the
 * Job's network policy and the Job, all in the platform's Postgres namespace. Complete (and so
 * ready for the app) once the Job has succeeded.
 */
export class DatabaseSeed extends pulumi.ComponentResource {
    /** The Job; depend on it to start after the seed. */
    public readonly job: k8s.batch.v1.Job;

    constructor(name: string, args: DatabaseSeedArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:DatabaseSeed", name, {}, opts);
        const labels = objectLabels(args.stack, "seed");
        const objectName = seedJobName(args.stack);
        const data: Record<string, string> = { [SEED_KEYS.script]: SEED_SCRIPT };
        if (args.seed.kind === "file") data[SEED_KEYS.file] = args.seed.sql;
        if (args.seed.kind === "copy" && args.seed.mask !== undefined) data[SEED_KEYS.mask] = args.seed.mask;
        const files = new k8s.core.v1.ConfigMap(`${name}-files`, {
            metadata: { name: objectName, namespace: args.postgresNamespace, labels },
            data,
        }, { parent: this });
        const policy = new k8s.networking.v1.NetworkPolicy(`${name}-network`, {
            metadata: { name: objectName, namespace: args.postgresNamespace, labels },
            spec: pulumi.output(args.postgresNamespace).apply((ns) => seedNetworkPolicySpec(args.stack, ns, args.sourceNamespace)),
        }, { parent: this });
        const spec = pulumi.all([args.postgresHost, args.targetSecretName, files.metadata.name, args.postgresNamespace]).apply(([host, secret, configMap, ns]) =>
            seedJobSpec({
                stack: args.stack, namespace: ns, image: args.image, configMapName: configMap, targetSecretName: secret,
                targetHost: host, targetDatabase: args.targetDatabase, seed: args.seed, source: args.source?.(host),
            }));
        this.job = new k8s.batch.v1.Job(`${name}-job`, {
            metadata: { name: objectName, namespace: args.postgresNamespace, labels },
            spec,
        }, { parent: this, dependsOn: [files, policy], customTimeouts: { create: "60m", update: "60m" } });
        this.registerOutputs({});
    }
}

/**
 * The source side of a copy (`catalyst:database.allowCopies` on staging or production): its
 * dedicated cluster admits, on 5432 only, the seed Jobs in the platform's Postgres namespace and
 * the dedicated clusters of preview and development namespaces importing from it. Its
 * namespace's default deny refuses them otherwise.
 */
export function copySourcePolicySpec(postgresNamespace: string, clusterName: string): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: { "cnpg.io/cluster": clusterName } },
        policyTypes: ["Ingress"],
        ingress: [{
            from: [
                { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": postgresNamespace } }, podSelector: { matchLabels: { [COMPONENT_LABEL]: "seed" } } },
                {
                    namespaceSelector: { matchExpressions: [{ key: TYPE_LABEL, operator: "In", values: ["preview", "development"] }] },
                    podSelector: { matchLabels: { "cnpg.io/cluster": clusterName } },
                },
            ],
            ports: [{ protocol: "TCP", port: 5432 }],
        }],
    };
}
