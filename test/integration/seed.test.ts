import { execFileSync, spawnSync } from "child_process";
import { randomInt } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { DEDICATED_CLUSTER } from "../../components/environment/database";
import { clusterSeed, seedJobName } from "../../components/environment/seed";
import { SEED_SCRIPT } from "../../components/environment/seed-script";
import { Automation } from "../../stacks/automation/operations";
import { ensurePlatform, kubectl, kubectlJson, PLATFORM_STACK, repoRoot, requireTestEnvironment } from "./harness";

/*
 * Seeded databases (issue 17 section 1).
 * - The seed step itself, for real: the script the seed Job runs (seed-script.ts), run with
 *   Debian's psql and pg_dump against a throwaway PostgreSQL (tools/postgres.sh): it copies a
 *   source database into a target, masks it in the same transaction, refuses a production source,
 *   seeds from an SQL file, and leaves a seeded database alone.
 * - On the local cluster, where no Postgres runs: a preview seeded from a file gets its Job in
 *   the platform's Postgres namespace (admitted under Pod Security restricted and the policy
 *   pack), kwok completes it, and the app's Deployment is created after the Job completed. A
 *   dedicated cluster's bootstrap section (logical import) is accepted by the real CRD schema.
 */
jest.setTimeout(15 * 60_000);

const fixtures = path.join(repoRoot, "test", "fixtures", "seed");
const port = String(Number(process.env.CATALYST_POSTGRES_PORT ?? "31310") + 7);
const pgEnv = { ...process.env, CATALYST_POSTGRES_PORT: port, CATALYST_POSTGRES_DIR: path.join(repoRoot, ".catalyst", `postgres-seed-${port}`) };
const bin = process.env.CATALYST_POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin";
const postgres = (command: string) => execFileSync("bash", [path.join(repoRoot, "tools", "postgres.sh"), command], { env: pgEnv, encoding: "utf8" });

/** psql as the superuser on `database`; returns the unaligned, tuples-only output. */
function sql(database: string, statement: string): string {
    return execFileSync(path.join(bin, "psql"), ["-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", database, "-c", statement], { encoding: "utf8" }).trim();
}

describe("the seed Job's script against a real PostgreSQL", () => {
    let dir: string;
    let script: string;

    beforeAll(() => {
        postgres("up");
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-seed-"));
        script = path.join(dir, "seed.sh");
        writeFileSync(script, SEED_SCRIPT, { mode: 0o755 });
        sql("postgres", "create role reader login password 'source-pass'");
        sql("postgres", "create role env_pr_1 login password 'target-pass'");
        for (const db of ["app_staging", "app_production"]) {
            sql("postgres", `create database ${db}`);
            execFileSync(path.join(bin, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db, "-f", path.join(fixtures, "source.sql")]);
        }
        sql("postgres", "grant pg_read_all_data to reader");
    });

    afterAll(() => {
        postgres("down");
        rmSync(dir, { recursive: true, force: true });
    });

    /** A fresh, empty target database owned by the environment's role. */
    function target(name: string): string {
        sql("postgres", `create database ${name} owner env_pr_1`);
        return name;
    }

    function seed(env: Record<string, string>) {
        const result = spawnSync("bash", [script], {
            encoding: "utf8",
            env: {
                PATH: `${bin}:${process.env.PATH}`, SEED_SSLMODE: "disable", SEED_WAIT_SECONDS: "20",
                TARGET_HOST: "127.0.0.1", TARGET_PORT: port, TARGET_USER: "env_pr_1", TARGET_PASSWORD: "target-pass",
                SOURCE_HOST: "127.0.0.1", SOURCE_PORT: port, SOURCE_USER: "reader", SOURCE_PASSWORD: "source-pass",
                ...env,
            },
        });
        return { status: result.status, stderr: result.stderr, stdout: result.stdout };
    }

    it("copies the source, masks it in the same transaction, and leaves a seeded database alone", () => {
        const db = target("env_copy");
        const copied = seed({ SEED_MODE: "copy", TARGET_DB: db, SOURCE_DB: "app_staging", MASK_FILE: path.join(fixtures, "mask.sql"), PRODUCTION_HOSTS: "postgres-rw.env-production.svc" });
        expect(copied.stderr).toContain("catalyst seed: copied app_staging from 127.0.0.1 into env_copy, masked with mask.sql");
        expect(copied.status).toBe(0);
        expect(sql(db, "select id, name, email, coalesce(phone, '-') from customers order by id")).toBe(
            "1|Customer 1|customer-1@example.invalid|-\n2|Customer 2|customer-2@example.invalid|-");
        expect(sql(db, "select count(*), sum(total_cents) from orders")).toBe("3|6349");
        // --no-owner: the environment's role owns what was copied, so its app can migrate it.
        expect(sql(db, "select string_agg(distinct tableowner, ',') from pg_tables where schemaname = 'public'")).toBe("env_pr_1");
        // The source is untouched.
        expect(sql("app_staging", "select email from customers order by id")).toBe("ada@example.com\nalan@example.com");

        const again = seed({ SEED_MODE: "copy", TARGET_DB: db, SOURCE_DB: "app_staging" });
        expect(again.status).toBe(0);
        expect(again.stderr).toContain("catalyst seed: env_copy already has 2 table(s): seeded before, nothing to do");
        expect(sql(db, "select email from customers where id = 1")).toBe("customer-1@example.invalid");
    });

    it("commits nothing when the masking script fails: no unmasked row ever lands", () => {
        const db = target("env_badmask");
        const bad = path.join(dir, "bad-mask.sql");
        writeFileSync(bad, "update customers set email = null; -- violates NOT NULL\n");
        const failed = seed({ SEED_MODE: "copy", TARGET_DB: db, SOURCE_DB: "app_staging", MASK_FILE: bad });
        expect(failed.status).not.toBe(0);
        expect(failed.stderr).toMatch(/null value in column "email"/);
        expect(sql(db, "select count(*) from pg_tables where schemaname = 'public'")).toBe("0");
    });

    it("refuses a production source unless allowed by name", () => {
        const db = target("env_prod");
        const refused = seed({ SEED_MODE: "copy", TARGET_DB: db, SOURCE_DB: "app_production", PRODUCTION_HOSTS: "127.0.0.1 postgres-rw.env-production.svc" });
        expect(refused.status).toBe(3);
        expect(refused.stderr).toContain("catalyst seed: refused: 127.0.0.1 is a production database and this environment does not allow copies from production (catalyst:database.seed.allowProduction)");
        expect(sql(db, "select count(*) from pg_tables where schemaname = 'public'")).toBe("0");
        const allowed = seed({ SEED_MODE: "copy", TARGET_DB: db, SOURCE_DB: "app_production", PRODUCTION_HOSTS: "127.0.0.1", ALLOW_PRODUCTION: "true", MASK_FILE: path.join(fixtures, "mask.sql") });
        expect(allowed.status).toBe(0);
        expect(sql(db, "select count(*) from customers where email like '%@example.invalid'")).toBe("2");
    });

    it("seeds from an SQL file", () => {
        const db = target("env_file");
        const seeded = seed({ SEED_MODE: "file", TARGET_DB: db, SEED_FILE: path.join(fixtures, "seed.sql") });
        expect(seeded.status).toBe(0);
        expect(seeded.stderr).toContain("catalyst seed: seeded env_file from seed.sql");
        expect(sql(db, "select text from greetings order by id")).toBe("hello\nbonjour");
    });
});

describe("a seeded preview on the local cluster", () => {
    const run = randomInt(100, 999);
    const pr = run * 100 + 71;
    const workRoot = path.join(repoRoot, ".catalyst", `test-work-seed-${run}`);
    const auditLog = path.join(repoRoot, ".catalyst", "test-results", `seed-audit-${run}.log`);
    let automation: Automation;

    beforeAll(async () => {
        requireTestEnvironment();
        await ensurePlatform();
        automation = new Automation({ repoRoot, workRoot, auditLog, platformStack: PLATFORM_STACK, actor: "integration-test", previewLimits: {} });
    });

    afterAll(async () => {
        if (automation) expect((await automation.destroyPreview(pr).result).status).toBe("succeeded");
        rmSync(workRoot, { recursive: true, force: true });
    });

    it("runs the seed Job in the Postgres namespace and creates the app only after it completed", async () => {
        const config = { "catalyst:redis": { enabled: false }, "catalyst:database": { mode: "shared", seed: { file: "test/fixtures/seed/seed.sql" } } };
        const up = await automation.upPreview({ pr, branch: "feat/seed", owners: "alice", ttl: "2h", config }).result;
        expect([up.status, up.error]).toEqual(["succeeded", undefined]);

        const postgresNamespace = kubectl(["get", "databases.postgresql.cnpg.io", "-A", "-l", `catalyst.dev/environment=pr-${pr}`, "-o", "jsonpath={.items[0].metadata.namespace}"]);
        type Job = { metadata: { namespace: string }; status: { succeeded?: number; completionTime?: string }; spec: { template: { spec: { containers: { image: string }[] } } } };
        const job = kubectlJson<Job>(["get", "job", "-n", postgresNamespace, seedJobName(`pr-${pr}`)]);
        expect(job.status.succeeded).toBe(1);
        const files = kubectlJson<{ data: Record<string, string> }>(["get", "configmap", "-n", postgresNamespace, seedJobName(`pr-${pr}`)]);
        expect(files.data["seed.sql"]).toBe(readFileSync(path.join(fixtures, "seed.sql"), "utf8"));
        expect(files.data["seed.sh"]).toBe(SEED_SCRIPT);
        const app = kubectlJson<{ metadata: { creationTimestamp: string } }>(["get", "deployment", "-n", `env-pr-${pr}`, "app"]);
        expect(Date.parse(app.metadata.creationTimestamp)).toBeGreaterThanOrEqual(Date.parse(job.status.completionTime as string));
        // The namespace of the environment holds no credential of the seed.
        expect(kubectl(["get", "secrets", "-n", `env-pr-${pr}`, "-o", "name"])).not.toContain("seed");
    });

    it("the CRD accepts a dedicated cluster's bootstrap by logical import with masking", () => {
        const seed = clusterSeed({ kind: "copy", from: "staging", secretName: "seed-staging", mask: readFileSync(path.join(fixtures, "mask.sql"), "utf8"), allowProduction: false }, { host: "postgres-rw.env-staging.svc", database: "app" });
        const cluster = {
            apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster",
            metadata: { name: DEDICATED_CLUSTER, namespace: "default" },
            spec: {
                instances: 1, storage: { size: "1Gi" },
                bootstrap: { initdb: { database: "app", owner: "app", secret: { name: "postgres-app-credentials" }, ...seed.initdb } },
                externalClusters: seed.externalClusters?.map((c) => ({ ...c, connectionParameters: { ...(c.connectionParameters as object), user: "reader" } })),
            },
        };
        const out = kubectl(["apply", "--dry-run=server", "-o", "json", "-f", "-"], JSON.stringify(cluster));
        const applied = JSON.parse(out) as { spec: { bootstrap: { initdb: { import: { type: string; postImportApplicationSQL: string[] } } }; externalClusters: { name: string }[] } };
        expect(applied.spec.bootstrap.initdb.import.type).toBe("microservice");
        expect(applied.spec.bootstrap.initdb.import.postImportApplicationSQL[0]).toContain("update customers");
        expect(applied.spec.externalClusters[0].name).toBe("seed-source");
        // A misspelt field is refused by the schema: the check above is not vacuous.
        expect(() => kubectl(["apply", "--dry-run=server", "--validate=strict", "-f", "-"], JSON.stringify({ ...cluster, spec: { ...cluster.spec, bootstrap: { initdb: { ...cluster.spec.bootstrap.initdb, imports: {} } } } }))).toThrow(/imports/);
    });
});
