import type * as OperatorModule from "../../../components/platform/postgresOperator";
import type * as PostgresModule from "../../../components/platform/sharedPostgres";
import { installMocks, MockRecorder, settle, valueOf } from "./mocks";

const CHART = "kubernetes:helm.sh/v4:Chart";
const CUSTOM = (kind: string) => `kubernetes:postgresql.cnpg.io/v1:${kind}`;

let mocks: MockRecorder;
let operator: typeof OperatorModule;
let postgres: typeof PostgresModule;

beforeAll(async () => {
    // Charts register slowly here, so that anything not waiting for them shows up first.
    mocks = installMocks({ delayed: [CHART] });
    operator = await import("../../../components/platform/postgresOperator");
    postgres = await import("../../../components/platform/sharedPostgres");
});

beforeEach(() => mocks.reset());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Values = Record<string, any>;

describe("cnpgValues", () => {
    it("keeps both admission webhooks and installs the CRDs by default", () => {
        const values = operator.cnpgValues({}) as Values;
        expect(values.webhook.mutating.create).toBe(true);
        expect(values.webhook.validating.create).toBe(true);
        expect(values.crds.create).toBe(true);
        expect(values.replicaCount).toBe(1);
        expect(values.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } });
        expect(values.monitoring.podMonitorEnabled).toBe(false);
    });

    it("drops both webhooks where no operator pod can answer them", () => {
        const values = operator.cnpgValues({ webhooks: false, labels: { "catalyst.dev/stack": "dev" } }) as Values;
        expect(values.webhook.mutating.create).toBe(false);
        expect(values.webhook.validating.create).toBe(false);
        expect(values.podLabels).toEqual({ "catalyst.dev/stack": "dev" });
    });
});

describe("clusterSpec", () => {
    it("describes a three-instance cluster without superuser access by default", () => {
        const spec = postgres.clusterSpec({}) as Values;
        expect(spec.instances).toBe(3);
        expect(spec.enableSuperuserAccess).toBe(false);
        expect(spec.storage).toEqual({ size: "20Gi" });
        expect(spec.resources).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } });
        expect(spec.backup).toBeUndefined();
        expect(spec.imageName).toBeUndefined();
    });

    it("passes only the stack label on to the objects the operator creates", () => {
        const spec = postgres.clusterSpec({ labels: { "catalyst.dev/stack": "platform", "app.kubernetes.io/managed-by": "pulumi" } }) as Values;
        expect(spec.inheritedMetadata).toEqual({ labels: { "catalyst.dev/stack": "platform" } });
    });

    it("backs up to S3 with static credentials or with the pods' IAM role", () => {
        const backup = { destinationPath: "s3://backups/shared", endpointUrl: "https://s3.example.com" };
        const withSecret = (postgres.clusterSpec({ backup }, "shared-backup-s3") as Values).backup;
        expect(withSecret.retentionPolicy).toBe("30d");
        expect(withSecret.barmanObjectStore.destinationPath).toBe("s3://backups/shared");
        expect(withSecret.barmanObjectStore.endpointURL).toBe("https://s3.example.com");
        expect(withSecret.barmanObjectStore.s3Credentials.accessKeyId).toEqual({ name: "shared-backup-s3", key: "ACCESS_KEY_ID" });
        const withRole = (postgres.clusterSpec({ backup }) as Values).backup;
        expect(withRole.barmanObjectStore.s3Credentials).toEqual({ inheritFromIAMRole: true });
    });
});

describe("PostgresOperator and SharedPostgres", () => {
    it("installs the operator chart pinned from upstream into a restricted namespace", async () => {
        new operator.PostgresOperator("pg-operator", {});
        await settle(mocks);
        const chart = mocks.get(CHART, "pg-operator-chart").inputs;
        expect(chart).toMatchObject({
            chart: "cloudnative-pg",
            version: "0.29.0",
            repositoryOpts: { repo: "https://cloudnative-pg.github.io/charts" },
            namespace: "cnpg-system",
            name: "cloudnative-pg",
            skipAwait: false,
        });
        const namespace = mocks.get("kubernetes:core/v1:Namespace", "pg-operator-namespace").inputs;
        expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });

    it("creates the Cluster only after the operator chart (and so its CRDs) is in place", async () => {
        const op = new operator.PostgresOperator("pg-operator", { chart: { kind: "local", path: "/charts/cloudnative-pg-0.29.0.tgz" }, webhooks: false });
        const db = new postgres.SharedPostgres("pg", { instances: 1, storageSize: "1Gi" }, { dependsOn: [op.chart] });
        await settle(mocks);
        const chartDone = mocks.completed.indexOf(`${CHART}::pg-operator-chart`);
        const clusterDone = mocks.completed.indexOf(`${CUSTOM("Cluster")}::pg-cluster`);
        expect(chartDone).toBeGreaterThanOrEqual(0);
        expect(clusterDone).toBeGreaterThan(chartDone);

        const cluster = mocks.get(CUSTOM("Cluster"), "pg-cluster").inputs;
        expect(cluster.apiVersion).toBe("postgresql.cnpg.io/v1");
        expect(cluster.metadata).toMatchObject({ name: "shared", namespace: "database" });
        expect(cluster.spec).toMatchObject({ instances: 1, enableSuperuserAccess: false, storage: { size: "1Gi" } });
        expect(mocks.ofType(CUSTOM("ScheduledBackup"))).toHaveLength(0);
        expect(await valueOf(db.host)).toBe("shared-rw.database.svc.cluster.local");
        expect(await valueOf(db.clusterName)).toBe("shared");
    });

    it("adds a credentials Secret and a daily ScheduledBackup when backups are configured", async () => {
        new postgres.SharedPostgres("pg", {
            backup: { destinationPath: "s3://backups/shared", credentials: { accessKeyId: "AKIA", secretAccessKey: "shh" } },
        });
        await settle(mocks);
        const secret = mocks.get("kubernetes:core/v1:Secret", "pg-backup-credentials");
        expect(secret.inputs.metadata.name).toBe("shared-backup-s3");
        expect(secret.inputs.stringData).toEqual({ ACCESS_KEY_ID: "AKIA", SECRET_ACCESS_KEY: "shh" });
        const scheduled = mocks.get(CUSTOM("ScheduledBackup"), "pg-scheduled-backup").inputs;
        expect(scheduled.spec).toMatchObject({ schedule: "0 0 2 * * *", cluster: { name: "shared" }, method: "barmanObjectStore" });
    });
});
