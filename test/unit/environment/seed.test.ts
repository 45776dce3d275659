import { ResourceValidationPolicy } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import { parseStackName } from "../../../components/naming";
import { policies } from "../../../policy/policies";
import { violations } from "../policy/harness";
import { installMocks, ofType, recorded, resetRecorded, runEnvironmentProgram, settle, valueOf } from "./mocks";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
/* eslint-enable @typescript-eslint/no-explicit-any */

type Seed = typeof import("../../../components/environment/seed");
type Config = typeof import("../../../stacks/config/environment");
let seed: Seed;
let config: Config;

beforeAll(async () => {
    installMocks();
    seed = await import("../../../components/environment/seed");
    config = await import("../../../stacks/config/environment");
});
beforeEach(() => resetRecorded());

const IMAGE = "ghcr.io/acme/web:1.2.3";
const files: Record<string, string> = { "/repo/db/seed.sql": "create table t (id int);", "/repo/db/mask.sql": "update users set email = 'x';" };
const load = (stack: string, values: Record<string, unknown>) => {
    const all = Object.fromEntries(Object.entries({ image: IMAGE, ...values }).map(([k, v]) => [`catalyst:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
    return config.loadEnvironmentConfig(parseStackName(stack), all, {
        secretKeys: [], root: "/repo", exists: (f) => f in files || f === "/repo/big.sql", readFile: (f) => (f === "/repo/big.sql" ? "x".repeat(seed.MAX_SEED_BYTES + 1) : files[f]),
    });
};
const problems = (stack: string, values: Record<string, unknown>): string => {
    try {
        load(stack, values);
        return "";
    } catch (err) {
        return (err as Error).message;
    }
};

describe("catalyst:database.seed validation", () => {
    it("is empty by default, reads a file, resolves a copy with its default Secret", () => {
        expect(load("pr-1", {}).database.seed).toBeUndefined();
        expect(load("pr-1", { database: { seed: { file: "db/seed.sql" } } }).database).toMatchObject({ seed: { kind: "file", sql: files["/repo/db/seed.sql"] }, seedImage: seed.DEFAULT_SEED_IMAGE });
        expect(load("pr-1", { database: { seed: { copyFrom: "staging", mask: "db/mask.sql", image: "ghcr.io/cloudnative-pg/postgresql:17.5" } } }).database).toMatchObject({
            seed: { kind: "copy", from: "staging", secretName: "seed-staging", mask: files["/repo/db/mask.sql"], allowProduction: false },
            seedImage: "ghcr.io/cloudnative-pg/postgresql:17.5",
        });
    });

    it.each([
        [{ file: "db/seed.sql", copyFrom: "staging" }, "catalyst:database.seed: set exactly one of file (an SQL file of the repository) or copyFrom (the stack name of the environment to copy, e.g. staging)"],
        [{}, "catalyst:database.seed: set exactly one of file"],
        [{ file: "db/missing.sql" }, "catalyst:database.seed.file: no file at /repo/db/missing.sql"],
        [{ file: "big.sql" }, "catalyst:database.seed.file: /repo/big.sql is larger than 921600 bytes (it travels in a ConfigMap); load bigger data with copyFrom"],
        [{ file: "db/seed.sql", mask: "db/mask.sql" }, "catalyst:database.seed.mask: runs after a copy; set database.seed.copyFrom, or put the statements in the seed file"],
        [{ file: "db/seed.sql", sourceSecret: "reader" }, "catalyst:database.seed.sourceSecret: only a copy (database.seed.copyFrom) reads a source"],
        [{ copyFrom: "production" }, "catalyst:database.seed.copyFrom: production is a production database; copies from production are refused unless catalyst:database.seed.allowProduction is true"],
        [{ copyFrom: "production--shop" }, "catalyst:database.seed.copyFrom: production--shop is a production database"],
        [{ copyFrom: "pr-1" }, "catalyst:database.seed.copyFrom: an environment cannot copy its own database"],
        [{ copyFrom: "platform" }, "catalyst:database.seed.copyFrom: platform is the platform stack"],
        [{ copyFrom: "staging", mask: "db/nope.sql" }, "catalyst:database.seed.mask: no file at /repo/db/nope.sql"],
        [{ copyFrom: "staging", image: "postgres:latest" }, "catalyst:database.seed.image"],
        [{ copyFrom: "staging", extra: true }, "catalyst:database.seed"],
    ])("refuses %j, naming the key", (value, message) => {
        expect(problems("pr-1", { database: { seed: value } })).toContain(message);
    });

    it("refuses a seed without a database, and a dedicated cluster copying from the shared cluster", () => {
        expect(problems("pr-1", { database: { mode: "none", seed: { file: "db/seed.sql" } } })).toContain("catalyst:database.seed: needs a database, but catalyst:database.mode is none");
        expect(problems("pr-1", { database: { mode: "cluster", seed: { copyFrom: "dev-alice" } } }))
            .toContain("catalyst:database.seed.copyFrom: a dedicated cluster (database.mode cluster) imports from another dedicated cluster (staging or production); dev-alice is on the shared cluster");
    });

    it("allows production only when named explicitly", () => {
        expect(load("staging", { database: { seed: { copyFrom: "production", allowProduction: true } } }).database.seed).toMatchObject({ kind: "copy", from: "production", allowProduction: true });
    });
});

describe("seed helpers", () => {
    const identifier = (s: string) => `env_${s.replace(/-/g, "_")}`;
    it("locates a source: a dedicated cluster for staging and production, the shared cluster otherwise", () => {
        expect(seed.seedSource("staging", "shared-rw.postgres.svc", identifier)).toEqual({ host: "postgres-rw.env-staging.svc", database: "app" });
        expect(seed.seedSource("production--shop", "shared-rw.postgres.svc", identifier)).toEqual({ host: "postgres-rw.env-production--shop.svc", database: "app" });
        expect(seed.seedSource("dev-alice", "shared-rw.postgres.svc", identifier)).toEqual({ host: "shared-rw.postgres.svc", database: "env_dev_alice" });
        expect(seed.productionHosts("pr-7")).toEqual(["postgres-rw.env-production.svc", "postgres-rw.env-production.svc.cluster.local"]);
        expect(seed.productionHosts("pr-7--shop")).toEqual(["postgres-rw.env-production--shop.svc", "postgres-rw.env-production--shop.svc.cluster.local"]);
        expect(seed.defaultSourceSecret("staging")).toBe("seed-staging");
    });

    const copyJob = () => seed.seedJobSpec({
        stack: "pr-42", namespace: "postgres", image: seed.DEFAULT_SEED_IMAGE, configMapName: "env-pr-42-seed", targetSecretName: "env-pr-42-db-owner",
        targetHost: "shared-rw.postgres.svc", targetDatabase: "env_pr_42",
        seed: { kind: "copy", from: "staging", secretName: "seed-staging", mask: "update t set x = 1;", allowProduction: false },
        source: { host: "postgres-rw.env-staging.svc", database: "app" },
    }) as Any;

    it("builds a restricted Job whose credentials come only from Secrets", () => {
        const job = copyJob();
        const pod = job.template.spec;
        const container = pod.containers[0];
        expect(pod).toMatchObject({ restartPolicy: "Never", automountServiceAccountToken: false, securityContext: { runAsNonRoot: true, runAsUser: 26, seccompProfile: { type: "RuntimeDefault" } } });
        expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } });
        expect(container.resources.limits).toEqual({ cpu: "1", memory: "512Mi" });
        expect(container.command).toEqual(["bash", "/seed/seed.sh"]);
        const env = Object.fromEntries(container.env.map((e: Any) => [e.name, e.value ?? e.valueFrom.secretKeyRef]));
        expect(env).toMatchObject({
            SEED_MODE: "copy", TARGET_HOST: "shared-rw.postgres.svc", TARGET_DB: "env_pr_42",
            TARGET_USER: { name: "env-pr-42-db-owner", key: "username" }, TARGET_PASSWORD: { name: "env-pr-42-db-owner", key: "password" },
            SOURCE_HOST: "postgres-rw.env-staging.svc", SOURCE_DB: "app",
            SOURCE_USER: { name: "seed-staging", key: "username" }, SOURCE_PASSWORD: { name: "seed-staging", key: "password" },
            PRODUCTION_HOSTS: "postgres-rw.env-production.svc postgres-rw.env-production.svc.cluster.local", ALLOW_PRODUCTION: "false", MASK_FILE: "/seed/mask.sql",
        });
        expect(pod.volumes).toEqual([{ name: "seed", configMap: { name: "env-pr-42-seed", defaultMode: 0o444 } }, { name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
    });

    it("passes every policy of the pack (pod security, limits, pinned image, no secret values)", async () => {
        const job = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "env-pr-42-seed", namespace: "env-pr-42" }, spec: copyJob() };
        const found: string[] = [];
        for (const policy of policies as ResourceValidationPolicy[]) {
            if (typeof policy.validateResource !== "function") continue;
            found.push(...await violations(policy, "kubernetes:batch/v1:Job", job));
        }
        expect(found).toEqual([]);
    });

    it("a file seed mounts the file; the network policy reaches DNS, the instances and the source's namespace only", () => {
        const job = seed.seedJobSpec({
            stack: "pr-42", namespace: "postgres", image: IMAGE, configMapName: "c", targetSecretName: "s", targetHost: "h", targetDatabase: "d",
            seed: { kind: "file", sql: "select 1;" },
        }) as Any;
        const names = job.template.spec.containers[0].env.map((e: Any) => e.name);
        expect(names).toContain("SEED_FILE");
        expect(names).not.toContain("SOURCE_PASSWORD");
        const spec = seed.seedNetworkPolicySpec("pr-42", "postgres", "env-staging") as Any;
        expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
        expect(spec.ingress).toBeUndefined();
        expect(spec.egress.map((e: Any) => e.to[0])).toEqual([
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } },
            { podSelector: { matchLabels: { "cnpg.io/podRole": "instance" } } },
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "env-staging" } } },
        ]);
        expect((seed.seedNetworkPolicySpec("pr-42", "postgres", "") as Any).egress).toHaveLength(2);
    });

    it("bootstraps a dedicated cluster: the SQL file by reference, a copy by logical import with the mask after it", () => {
        expect(seed.clusterSeed({ kind: "file", sql: "x" }, undefined)).toEqual({ initdb: { postInitApplicationSQLRefs: { configMapRefs: [{ name: "postgres-seed", key: "seed.sql" }] } } });
        expect(seed.clusterSeed({ kind: "copy", from: "staging", secretName: "seed-staging", mask: "update t set x = 1;", allowProduction: false }, { host: "postgres-rw.env-staging.svc", database: "app" })).toEqual({
            initdb: { import: { type: "microservice", databases: ["app"], source: { externalCluster: "seed-source" }, postImportApplicationSQL: ["update t set x = 1;"] } },
            externalClusters: [{ name: "seed-source", connectionParameters: { host: "postgres-rw.env-staging.svc", port: "5432", dbname: "app", sslmode: "require" }, password: { name: "postgres-seed-source", key: "password" } }],
        });
    });
});

describe("the environment program with a seed (mocks)", () => {
    const inputsOf = (type: string, name: string) => ofType(type).find((r) => r.inputs.metadata?.name === name)?.inputs as Any;

    it("a preview on the shared cluster: ConfigMap, network policy and Job in the Postgres namespace; the app waits for the Job", async () => {
        const outputs = await runEnvironmentProgram("pr-42", { pr: "42", image: IMAGE, database: { seed: { copyFrom: "staging", mask: "test/fixtures/seed/mask.sql" } } });
        expect(await valueOf(outputs.databaseHost as pulumi.Input<string>)).toBe("shared-rw.postgres.svc");
        const files = inputsOf("core/v1:ConfigMap", "env-pr-42-seed");
        expect(files.metadata.namespace).toBe("postgres");
        expect(Object.keys(files.data).sort()).toEqual(["mask.sql", "seed.sh"]);
        const job = inputsOf("batch/v1:Job", "env-pr-42-seed");
        expect(job.metadata).toMatchObject({ namespace: "postgres", labels: { "catalyst.dev/environment": "pr-42", "catalyst.dev/component": "seed" } });
        expect(job.spec.template.spec.containers[0].image).toBe(seed.DEFAULT_SEED_IMAGE);
        const env = Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: Any) => [e.name, e.value ?? e.valueFrom.secretKeyRef.name]));
        expect(env).toMatchObject({ SOURCE_HOST: "postgres-rw.env-staging.svc", SOURCE_USER: "seed-staging", TARGET_USER: "env-pr-42-db-owner", TARGET_DB: "env_pr_42" });
        expect(inputsOf("networking.k8s.io/v1:NetworkPolicy", "env-pr-42-seed").metadata.namespace).toBe("postgres");
        // The source's credentials never enter the environment's namespace.
        expect(ofType("core/v1:Secret").filter((r) => r.inputs.metadata?.namespace === "env-pr-42").map((r) => r.inputs.metadata.name)).not.toContain("postgres-seed-source");
        expect(parseStackName("pr-42").kind).toBe("preview");
    });

    it("the Database component lists the seed Job among what the app waits for", async () => {
        const { Database } = await import("../../../components/environment/database");
        const database = new Database("db", {
            stack: "pr-5", mode: "shared", namespace: "env-pr-5", postgresNamespace: "postgres", postgresClusterName: "shared", postgresHost: "shared-rw.postgres.svc",
            passwordSource: "random", instances: 1, storage: "1Gi", operatorNamespace: "cnpg-system", apiServerCidrs: [], clusterCidrs: [],
            seed: { kind: "file", sql: "create table t (id int);" }, seedImage: IMAGE,
        });
        const jobs = database.ready.filter((r) => (r as Any).__pulumiType === "kubernetes:batch/v1:Job");
        expect(jobs).toHaveLength(1);
        expect(database.ready).toHaveLength(2);
        const plain = new Database("plain", {
            stack: "pr-6", mode: "shared", namespace: "env-pr-6", postgresNamespace: "postgres", postgresClusterName: "shared", postgresHost: "shared-rw.postgres.svc",
            passwordSource: "random", instances: 1, storage: "1Gi", operatorNamespace: "cnpg-system", apiServerCidrs: [], clusterCidrs: [],
        });
        expect(plain.ready).toHaveLength(1);
        await settle();
    });

    it("staging copying production (allowed by name): a Cluster that imports, waits for Ready, with the reader's Secret and egress", async () => {
        await runEnvironmentProgram("staging", { image: IMAGE, database: { seed: { copyFrom: "production", allowProduction: true, mask: "test/fixtures/seed/mask.sql" } } });
        const cluster = ofType("postgresql.cnpg.io/v1:Cluster")[0].inputs as Any;
        expect(cluster.metadata.annotations).toEqual({ "pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "3600" });
        expect(cluster.spec.bootstrap.initdb).toMatchObject({ database: "app", owner: "app", import: { type: "microservice", databases: ["app"], source: { externalCluster: "seed-source" } } });
        expect(cluster.spec.bootstrap.initdb.import.postImportApplicationSQL[0]).toContain("update");
        expect(cluster.spec.externalClusters).toEqual([{
            name: "seed-source",
            connectionParameters: { host: "postgres-rw.env-production.svc", port: "5432", dbname: "app", sslmode: "require", user: "reader" },
            password: { name: "postgres-seed-source", key: "password" },
        }]);
        const copied = inputsOf("core/v1:Secret", "postgres-seed-source");
        expect(copied.metadata.namespace).toBe("env-staging");
        expect(copied.type).toBe("kubernetes.io/basic-auth");
        expect(recorded.some((r) => r.type === "kubernetes:batch/v1:Job")).toBe(false);
        expect(inputsOf("networking.k8s.io/v1:NetworkPolicy", "postgres-seed-source").spec.egress[0].to[0]).toEqual({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "env-production" } } });
    });

    it("a source that allows copies admits the seed Jobs and imports on 5432 only; the shared cluster cannot", async () => {
        await runEnvironmentProgram("staging", { image: IMAGE, database: { allowCopies: true } });
        const spec = inputsOf("networking.k8s.io/v1:NetworkPolicy", "postgres-allow-copies").spec;
        expect(spec).toEqual(seed.copySourcePolicySpec("postgres", "postgres"));
        expect(spec.ingress[0].ports).toEqual([{ protocol: "TCP", port: 5432 }]);
        expect(spec.ingress[0].from[0]).toEqual({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "postgres" } }, podSelector: { matchLabels: { "catalyst.dev/component": "seed" } } });
        expect(spec.ingress[0].from[1].namespaceSelector.matchExpressions).toEqual([{ key: "catalyst.dev/type", operator: "In", values: ["preview", "development"] }]);
        expect(problems("pr-1", { database: { allowCopies: true } })).toContain("catalyst:database.allowCopies: applies to a dedicated cluster (database.mode cluster)");
    });

    it("a dedicated cluster seeded from a file references the file's ConfigMap", async () => {
        await runEnvironmentProgram("staging", { image: IMAGE, database: { seed: { file: "test/fixtures/seed/seed.sql" } } });
        const cluster = ofType("postgresql.cnpg.io/v1:Cluster")[0].inputs as Any;
        expect(cluster.spec.bootstrap.initdb.postInitApplicationSQLRefs).toEqual({ configMapRefs: [{ name: "postgres-seed", key: "seed.sql" }] });
        expect(inputsOf("core/v1:ConfigMap", "postgres-seed").data["seed.sql"]).toContain("create table");
        expect(cluster.spec.externalClusters).toBeUndefined();
    });
});
