import * as pulumi from "@pulumi/pulumi";
import * as naming from "../../../components/naming";
import { captureTransforms, configMap, installMocks, ofType, recorded, resetRecorded, runEnvironmentProgram, settle, transforms, valueOf } from "./mocks";

type Program = typeof import("../../../stacks/environment");
let program: Program;

beforeAll(async () => {
    installMocks();
    captureTransforms();
    program = await import("../../../stacks/environment");
});

beforeEach(() => resetRecorded());

/** Runs the environment program of `stack` with `config` and returns its outputs once settled. */
async function run(stack: string, config: Record<string, unknown>, secretKeys: string[] = []) {
    const outputs = await runEnvironmentProgram(stack, config, secretKeys);
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(outputs)) {
        resolved[key] = await valueOf(value as pulumi.Input<unknown>);
    }
    return resolved;
}

const kinds = () => recorded.map((r) => r.type).filter((t) => t.startsWith("kubernetes:")).sort();
const count = (type: string) => ofType(type).length;

describe("environment inventory per tier", () => {
    it("builds a preview: namespace, guard rails, roles with owners, shared database, redis, app, route", async () => {
        const outputs = await run("pr-42", { pr: "42", branch: "feat/login", image: "ghcr.io/acme/web:sha-1234567" });
        expect(outputs.namespace).toBe("env-pr-42");
        expect(outputs.url).toBe("https://pr-42.preview.example.com");
        expect(outputs.databaseSecretName).toBe("database");
        expect(outputs.databaseHost).toBe("shared-rw.postgres.svc");
        expect(outputs.redisHost).toBe("redis.env-pr-42.svc");
        expect(outputs.redisSecretName).toBe("redis");
        expect(outputs.workspaceUrl).toBe("");
        expect(outputs.workspaceName).toBe("");
        expect(count("core/v1:Namespace")).toBe(1);
        expect(count("core/v1:ResourceQuota")).toBe(1);
        expect(count("core/v1:LimitRange")).toBe(1);
        expect(count("networking.k8s.io/v1:NetworkPolicy")).toBe(6);
        expect(ofType("rbac.authorization.k8s.io/v1:Role").map((r) => r.inputs.metadata.name).sort())
            .toEqual(["catalyst-admin", "catalyst-observer", "catalyst-owner"]);
        expect(count("postgresql.cnpg.io/v1:DatabaseRole")).toBe(1);
        expect(count("postgresql.cnpg.io/v1:Database")).toBe(1);
        expect(count("postgresql.cnpg.io/v1:Cluster")).toBe(0);
        expect(count("apps/v1:Deployment")).toBe(2);
        expect(count("networking.k8s.io/v1:Ingress")).toBe(1);
        expect(count("policy/v1:PodDisruptionBudget")).toBe(0);
        expect(count("core/v1:PersistentVolumeClaim")).toBe(0);
        expect(recorded.some((r) => r.type.startsWith("docker:"))).toBe(false);

        const namespace = ofType("core/v1:Namespace")[0].inputs;
        expect(namespace.metadata.labels).toMatchObject({
            "catalyst.dev/environment": "pr-42",
            "catalyst.dev/type": "preview",
            "catalyst.dev/pr": "42",
            "catalyst.dev/branch": naming.toLabelValue("feat/login"),
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "v1.36",
        });
        // The hosts its Ingresses may claim, for the platform's admission rule.
        expect(await valueOf(namespace.metadata.annotations["catalyst.dev/hosts"])).toBe("pr-42.preview.example.com");
        expect(ofType("core/v1:ResourceQuota")[0].inputs.spec.hard).toMatchObject({
            "requests.cpu": "2", "requests.memory": "4Gi", pods: "20", persistentvolumeclaims: "5",
            "requests.storage": "20Gi", "services.loadbalancers": "0", "services.nodeports": "0",
        });
    });

    it("builds a development environment with an agent workspace", async () => {
        const outputs = await run("dev-alice", {
            image: "ghcr.io/acme/web:1.0.0",
            workspace: { enabled: true, description: "fix the login form", features: { postgres: true } },
        });
        const name = (await import("../../../components/environment/workspace-spec")).workspaceInstanceName("fix the login form");
        expect(outputs.workspaceName).toBe(name);
        expect(outputs.workspaceUrl).toBe(`https://${name}.preview.example.com`);
        const hosts = await valueOf(ofType("core/v1:Namespace")[0].inputs.metadata.annotations["catalyst.dev/hosts"]);
        expect(hosts).toBe([`${name}.preview.example.com`, "dev-alice.preview.example.com"].sort().join(","));
        expect(count("apps/v1:Deployment")).toBe(3);
        expect(count("core/v1:PersistentVolumeClaim")).toBe(2);
        expect(count("networking.k8s.io/v1:Ingress")).toBe(2);
        expect(ofType("core/v1:ResourceQuota")[0].inputs.spec.hard["requests.cpu"]).toBe("4");
        expect(ofType("core/v1:ServiceAccount").map((r) => r.inputs.metadata.name).sort())
            .toEqual(["owner-kubeconfig", `workspace-${name}`]);
    });

    it("builds staging: no owners, a dedicated single-instance cluster, no PDB", async () => {
        const outputs = await run("staging", { app: { name: "web", image: "ghcr.io/acme/web:1.0.0" } });
        expect(outputs.url).toBe("https://web-staging.example.com");
        expect(outputs.databaseHost).toBe("postgres-rw.env-staging.svc");
        expect(ofType("rbac.authorization.k8s.io/v1:Role").map((r) => r.inputs.metadata.name).sort())
            .toEqual(["catalyst-admin", "catalyst-observer"]);
        const cluster = ofType("postgresql.cnpg.io/v1:Cluster")[0].inputs;
        expect(cluster.metadata.namespace).toBe("env-staging");
        expect(cluster.spec.instances).toBe(1);
        expect(count("postgresql.cnpg.io/v1:Database")).toBe(0);
        expect(count("policy/v1:PodDisruptionBudget")).toBe(0);
        expect(outputs.kubeconfig).toBe("");
    });

    it("builds production: 2 instances, backups, persistent redis, a PDB, autoscaling", async () => {
        const outputs = await run("production", {
            app: { name: "web", image: "ghcr.io/acme/web:1.0.0", autoscaling: { minReplicas: 2, maxReplicas: 6 } },
            database: { backup: { destinationPath: "s3://backups/web" } },
            databaseBackupCredentials: { accessKeyId: "AKIA", secretAccessKey: "s3cr3t" },
            access: { admins: { users: ["ops@example.com"] }, oidc: { issuerUrl: "https://login.example.com", clientId: "kubernetes" } },
        }, ["databaseBackupCredentials"]);
        expect(outputs.url).toBe("https://web.example.com");
        const cluster = ofType("postgresql.cnpg.io/v1:Cluster")[0].inputs;
        expect(cluster.spec.instances).toBe(2);
        expect(cluster.spec.backup.barmanObjectStore.destinationPath).toBe("s3://backups/web");
        expect(count("postgresql.cnpg.io/v1:ScheduledBackup")).toBe(1);
        expect(count("policy/v1:PodDisruptionBudget")).toBe(1);
        expect(count("autoscaling/v2:HorizontalPodAutoscaler")).toBe(1);
        const web = ofType("apps/v1:Deployment").find((d) => d.inputs.metadata.name === "web")!.inputs;
        expect(web.spec.replicas).toBeUndefined();
        expect(ofType("core/v1:PersistentVolumeClaim").map((r) => r.inputs.metadata.name)).toEqual(["redis-data"]);
        expect(String(outputs.kubeconfig)).toContain("kube-credential");
        expect(ofType("core/v1:ResourceQuota")[0].inputs.spec.hard["requests.cpu"]).toBe("8");
    });

    it("never creates a cluster-scoped RBAC object, for any tier", async () => {
        for (const [stack, extra] of [
            ["pr-7", { workspace: { enabled: true, description: "x" } }],
            ["dev-bob", { workspace: { enabled: true, description: "y" } }],
            ["staging", {}],
            ["production", {}],
        ] as const) {
            const owners = naming.parseStackName(stack).kind === "preview" || stack.startsWith("dev-") ? ["devs"] : [];
            await run(stack, { image: "ghcr.io/acme/web:1.0.0", access: { owners: { groups: owners }, admins: { groups: ["ops"] }, observers: { groups: ["all"] } }, ...extra });
        }
        expect(kinds().filter((t) => /ClusterRole/.test(t))).toEqual([]);
        for (const binding of ofType("rbac.authorization.k8s.io/v1:RoleBinding")) {
            expect(binding.inputs.roleRef.kind).toBe("Role");
            expect(binding.inputs.metadata.namespace).toMatch(/^env-/);
        }
    });

    it("binds people with the OIDC prefix, and the workspace only to its own namespace's owner role", async () => {
        await run("pr-8", {
            image: "ghcr.io/acme/web:1.0.0",
            access: { oidcPrefix: "corp:", owners: { users: ["alice@example.com"] }, observers: { groups: ["qa"] } },
            workspace: { enabled: true, description: "review" },
        });
        const bindings = ofType("rbac.authorization.k8s.io/v1:RoleBinding");
        const owners = bindings.find((b) => b.inputs.metadata.name === "catalyst-owner-people")!.inputs;
        expect(owners.subjects).toEqual([{ kind: "User", name: "corp:alice@example.com", apiGroup: "rbac.authorization.k8s.io" }]);
        const observers = bindings.find((b) => b.inputs.metadata.name === "catalyst-observer-people")!.inputs;
        expect(observers.subjects).toEqual([{ kind: "Group", name: "corp:qa", apiGroup: "rbac.authorization.k8s.io" }]);
        const workspace = bindings.find((b) => b.inputs.metadata.name.startsWith("workspace-"))!.inputs;
        expect(workspace.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "catalyst-owner" });
        expect(workspace.metadata.namespace).toBe("env-pr-8");
        expect(workspace.subjects[0]).toMatchObject({ kind: "ServiceAccount", namespace: "env-pr-8" });
    });

    it("keeps config secrets out of plain env values and injects service bindings from Secrets", async () => {
        await run("pr-9", {
            image: "ghcr.io/acme/web:1.0.0",
            app: { env: { LOG_LEVEL: "debug" }, generatedSecrets: ["SESSION_KEY"] },
            appSecrets: { API_KEY: "do-not-leak" },
        }, ["appSecrets"]);
        const app = ofType("apps/v1:Deployment").find((d) => d.inputs.metadata.name === "app")!.inputs;
        const env = app.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>;
        expect(env.find((e) => e.name === "LOG_LEVEL")).toEqual({ name: "LOG_LEVEL", value: "debug" });
        for (const name of ["API_KEY", "SESSION_KEY"]) {
            expect(env.find((e) => e.name === name)?.valueFrom?.secretKeyRef).toEqual({ name: "app-secrets", key: name });
        }
        expect(env.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef).toEqual({ name: "database", key: "DATABASE_URL" });
        expect(env.find((e) => e.name === "REDIS_URL")?.valueFrom?.secretKeyRef).toEqual({ name: "redis", key: "REDIS_URL" });
        expect(JSON.stringify(app)).not.toContain("do-not-leak");
        expect(app.spec.template.spec.imagePullSecrets).toEqual([{ name: "registry-pull" }]);
        const pull = ofType("core/v1:Secret").find((s) => s.inputs.metadata.name === "registry-pull")!.inputs;
        expect(pull.type).toBe("kubernetes.io/dockerconfigjson");
    });

    it("deploys a chart or a manifest directory instead of an image", async () => {
        await run("pr-10", { app: { chart: { path: "test/unit/environment/fixtures/chart" } } });
        const chart = ofType("helm.sh/v4:Chart")[0].inputs;
        expect(chart.namespace).toBe("env-pr-10");
        expect(chart.chart).toMatch(/fixtures\/chart$/);
        expect(count("apps/v1:Deployment")).toBe(1); // redis only
        resetRecorded();
        await run("pr-11", { app: { manifests: { directory: "test/unit/environment/fixtures/manifests" } } });
        expect(ofType("yaml/v2:ConfigGroup")[0].inputs.files[0]).toMatch(/fixtures\/manifests\/\*\.yaml$/);
        // Both carry the transform that keeps their objects in the namespace.
        expect(transforms.length).toBeGreaterThanOrEqual(2);
        const keep = transforms[transforms.length - 1];
        const moved = await keep({
            custom: true, type: "kubernetes:core/v1:ConfigMap", name: "x",
            props: { metadata: { name: "x", namespace: "kube-system" } }, opts: {},
        });
        expect((moved?.props as { metadata: { namespace: string } }).metadata.namespace).toBe("env-pr-11");
        expect(() => keep({ custom: true, type: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", name: "y", props: {}, opts: {} }))
            .toThrow("catalyst:app.manifests: creates a ClusterRoleBinding (y); an environment may only create objects inside its namespace");
    });

    it("creates nothing when the configuration is invalid", async () => {
        pulumi.runtime.setAllConfig(configMap({ image: "nginx", tier: "huge" }), []);
        expect(() => program.environmentProgram(naming.parseStackName("pr-12"))).toThrow(/catalyst:tier/);
        await settle();
        expect(recorded).toEqual([]);
    });
});

describe("generated passwords from the built-in generator", () => {
    // Regression: BuiltinPassword once declared its outputs as plain class fields, which ES2022
    // define semantics reset to undefined after super(); every password then read "undefined".
    it("puts a real value into the app's Secret and into REDIS_URL", async () => {
        await run("pr-13", { passwordSource: "builtin", image: "ghcr.io/acme/web:1.0.0", app: { generatedSecrets: ["SESSION_KEY"] } });
        const app = ofType("core/v1:Secret").find((s) => s.inputs.metadata.name === "app-secrets")!.inputs;
        expect(app.stringData.value?.SESSION_KEY ?? app.stringData.SESSION_KEY).toMatch(/^generated-/);
        const redis = ofType("core/v1:Secret").find((s) => s.inputs.metadata.name === "redis")!.inputs;
        expect(JSON.stringify(redis.stringData)).not.toContain("undefined");
    });
});

/*
 * The environment's Services skip the Kubernetes provider's Service await (SERVICE_ANNOTATIONS in
 * components/environment/labels.ts). What that await checked at run time, that the Service
 * targets ready pods, rests on these static facts instead (plus the Deployment's own await):
 * each Service selects exactly the pods of one Deployment of the environment, and each of its
 * target ports is a named port of that Deployment's container.
 */
function isSubset(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
    return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

describe("environment Services", () => {
    it.each([
        ["a preview (app and redis)", "pr-42", { pr: "42", branch: "feat/x", image: "ghcr.io/acme/web:1.0.0" }, 2],
        ["a development environment (app, redis, workspace)", "dev-alice", { image: "ghcr.io/acme/web:1.0.0", workspace: { enabled: true, description: "fix it" } }, 3],
    ])("in %s skip the provider's await and select one Deployment's pods and named ports", async (_what, stack, config, expected) => {
        await run(stack, config);
        const services = ofType("core/v1:Service");
        expect(services).toHaveLength(expected);
        const deployments = ofType("apps/v1:Deployment");
        for (const service of services) {
            expect(service.inputs.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
            const selector = service.inputs.spec.selector as Record<string, string>;
            const selected = deployments.filter((d) => isSubset(selector, d.inputs.spec.template.metadata.labels));
            expect(selected.map((d) => d.inputs.metadata.name)).toHaveLength(1);
            const deployment = selected[0].inputs;
            // The Deployment's own selector is the Service's: both come from componentSelector.
            expect(deployment.spec.selector.matchLabels).toEqual(selector);
            const portNames = (deployment.spec.template.spec.containers as { ports?: { name?: string }[] }[])
                .flatMap((c) => (c.ports ?? []).map((p) => p.name));
            for (const port of service.inputs.spec.ports as { targetPort: string | number }[]) {
                expect(portNames).toContain(port.targetPort);
            }
        }
    });
});
