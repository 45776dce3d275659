import { randomInt } from "crypto";
import { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { workspaceInstanceName } from "../../components/environment/workspace-spec";
import {
    allowed,
    clusterEndpoint,
    conditionOf,
    configFromFile,
    entry,
    ENVIRONMENT_KINDS,
    PLATFORM_REFERENCE,
    podManifest,
    throwawayKey,
    waitGone,
} from "./environment-helpers";
import { countLabelled, previewChanges, ensurePlatform, kubectl, kubectlError, kubectlJson, quietOutput, repoRoot } from "./harness";

/*
 * A preview environment (`pr-<n>`, from Pulumi.pr.yaml) with an agent workspace, on the shared
 * platform stack of the local cluster, through the real engine. What the API server enforces is
 * real here (RBAC, Pod Security, quotas, limit ranges); NetworkPolicies are stored, not enforced,
 * and the CNPG operator never reconciles, so those are checked as objects only.
 */
jest.setTimeout(30 * 60_000);

const pr = randomInt(10_000, 99_999_999);
const stackName = `pr-${pr}`;
const namespace = `env-pr-${pr}`;
const selector = `catalyst.dev/environment=${stackName}`;
const description = `integration test of ${stackName}`;
const workspace = `workspace-${workspaceInstanceName(description)}`;
const people = { owner: "alice@example.com", admin: "bob@example.com", observerGroup: "reviewers" };
const prefix = "oidc:";

describe("preview environment on the local cluster", () => {
    let stack: Stack;
    let outputs: OutputMap;
    let destroyed = false;

    beforeAll(async () => {
        await ensurePlatform();
        stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: repoRoot });
        await stack.setAllConfig({
            ...configFromFile("Pulumi.pr.yaml"),
            "catalyst:platformStack": entry(PLATFORM_REFERENCE),
            "catalyst:pr": entry(String(pr)),
            "catalyst:branch": entry("feat/integration"),
            "catalyst:image": entry("nginxinc/nginx-unprivileged:1.27.4-alpine"),
            "catalyst:cluster": entry(clusterEndpoint()),
            "catalyst:access": entry({
                oidcPrefix: prefix,
                owners: { users: [people.owner] },
                admins: { users: [people.admin] },
                observers: { groups: [people.observerGroup] },
            }),
            "catalyst:workspace": entry({
                enabled: true,
                description,
                user: "alice",
                repository: { url: "https://github.com/acme/web.git" },
                features: { postgres: true },
            }),
            "catalyst:workspaceSecrets": entry({ githubToken: "ghp_not_a_real_token", sshPrivateKey: throwawayKey() }, true),
        });
        const up = await stack.up({ onOutput: quietOutput });
        expect(up.summary.result).toBe("succeeded");
        outputs = up.outputs;
    });

    afterAll(async () => {
        if (stack !== undefined) {
            try {
                if (!destroyed) {
                    await stack.destroy({ onOutput: quietOutput });
                }
            } finally {
                await stack.workspace.removeStack(stackName);
            }
        }
    });

    it("exports the environment contract", () => {
        expect(outputs.namespace.value).toBe(namespace);
        expect(outputs.url.value).toBe(`https://${stackName}.preview.catalyst.localhost`);
        expect(outputs.databaseSecretName.value).toBe("database");
        expect(outputs.databaseHost.value).toBe("shared-rw.database.svc.cluster.local");
        expect(outputs.redisHost.value).toBe(`redis.${namespace}.svc`);
        expect(outputs.workspaceName.value).toBe(workspaceInstanceName(description));
        expect(outputs.workspaceUrl.value).toBe(`https://${workspaceInstanceName(description)}.preview.catalyst.localhost`);
        expect(outputs.kubeconfig.secret).toBe(true);
        const kubeconfig = JSON.parse(outputs.kubeconfig.value as string);
        expect(kubeconfig.users[0].user.exec.args.slice(0, 5)).toEqual(["create", "token", "owner-kubeconfig", "-n", namespace]);
    });

    it("gives the namespace restricted Pod Security, its quota, limit range and network policies", () => {
        const ns = kubectlJson<{ metadata: { labels: Record<string, string> } }>(["get", "namespace", namespace]);
        expect(ns.metadata.labels).toMatchObject({
            "catalyst.dev/environment": stackName,
            "catalyst.dev/type": "preview",
            "catalyst.dev/pr": String(pr),
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "v1.36",
        });
        const quota = kubectlJson<{ spec: { hard: Record<string, string> } }>(["get", "resourcequota", "environment-quota", "-n", namespace]);
        expect(quota.spec.hard).toMatchObject({ "requests.cpu": "2", "requests.memory": "4Gi", pods: "20", "services.loadbalancers": "0" });
        expect(kubectl(["get", "limitrange", "environment-limits", "-n", namespace, "-o", "name"]).trim()).toBe("limitrange/environment-limits");
        const policies = kubectl(["get", "networkpolicies", "-n", namespace, "-o", "name"]).trim().split("\n").sort();
        expect(policies).toEqual(expect.arrayContaining([
            "networkpolicy.networking.k8s.io/default-deny",
            "networkpolicy.networking.k8s.io/allow-dns",
            "networkpolicy.networking.k8s.io/allow-ingress-controller",
            "networkpolicy.networking.k8s.io/allow-postgres",
            `networkpolicy.networking.k8s.io/${workspace}-internet-443`,
        ]));
    });

    it("authorises exactly what each role should (SubjectAccessReview matrix)", () => {
        const owner = { user: `${prefix}${people.owner}` };
        const admin = { user: `${prefix}${people.admin}` };
        const observer = { user: `${prefix}carol@example.com`, groups: [`${prefix}${people.observerGroup}`] };
        const sa = { user: `system:serviceaccount:${namespace}:${workspace}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`] };
        const elsewhere = `env-pr-${pr + 1}`;
        const matrix: Array<[string, boolean, boolean]> = [
            // [description, expected, actual]
            ["observer lists pods", true, allowed({ ...observer, namespace, verb: "list", resource: "pods" })],
            ["observer reads pod logs", true, allowed({ ...observer, namespace, verb: "get", resource: "pods", subresource: "log" })],
            ["observer reads secrets", false, allowed({ ...observer, namespace, verb: "get", resource: "secrets" })],
            ["observer execs", false, allowed({ ...observer, namespace, verb: "create", resource: "pods", subresource: "exec" })],
            ["observer port-forwards", false, allowed({ ...observer, namespace, verb: "create", resource: "pods", subresource: "portforward" })],
            ["admin creates deployments", true, allowed({ ...admin, namespace, verb: "create", resource: "deployments", group: "apps" })],
            ["admin reads secrets", false, allowed({ ...admin, namespace, verb: "get", resource: "secrets" })],
            ["admin raises the quota", false, allowed({ ...admin, namespace, verb: "update", resource: "resourcequotas" })],
            ["admin edits network policies", false, allowed({ ...admin, namespace, verb: "patch", resource: "networkpolicies", group: "networking.k8s.io" })],
            ["admin binds roles", false, allowed({ ...admin, namespace, verb: "create", resource: "rolebindings", group: "rbac.authorization.k8s.io" })],
            ["owner reads secrets", true, allowed({ ...owner, namespace, verb: "get", resource: "secrets" })],
            ["owner execs", true, allowed({ ...owner, namespace, verb: "create", resource: "pods", subresource: "exec" })],
            ["owner port-forwards", true, allowed({ ...owner, namespace, verb: "create", resource: "pods", subresource: "portforward" })],
            ["owner gets a kubeconfig token", true, allowed({ ...owner, namespace, verb: "create", resource: "serviceaccounts", subresource: "token", name: "owner-kubeconfig" })],
            ["owner gets another account's token", false, allowed({ ...owner, namespace, verb: "create", resource: "serviceaccounts", subresource: "token", name: workspace })],
            ["owner escalates", false, allowed({ ...owner, namespace, verb: "escalate", resource: "roles", group: "rbac.authorization.k8s.io" })],
            ["owner reads another environment's secrets", false, allowed({ ...owner, namespace: elsewhere, verb: "get", resource: "secrets" })],
            ["owner execs in another environment", false, allowed({ ...owner, namespace: elsewhere, verb: "create", resource: "pods", subresource: "exec" })],
            ["owner lists namespaces", false, allowed({ ...owner, namespace: "", verb: "list", resource: "namespaces" })],
            ["workspace reads its own secrets", true, allowed({ ...sa, namespace, verb: "get", resource: "secrets" })],
            ["workspace reads another environment's secrets", false, allowed({ ...sa, namespace: elsewhere, verb: "get", resource: "secrets" })],
        ];
        expect(matrix.map(([what, , actual]) => [what, actual])).toEqual(matrix.map(([what, expected]) => [what, expected]));
    });

    it("binds no tenant in any ClusterRoleBinding", () => {
        const bindings = kubectlJson<{ items: Array<{ metadata: { name: string }; subjects?: Array<{ kind: string; name: string; namespace?: string }> }> }>(
            ["get", "clusterrolebindings"],
        );
        const tenant = bindings.items.filter((binding) => (binding.subjects ?? []).some((s) =>
            s.name.startsWith(prefix) || s.namespace === namespace || s.name.includes(namespace)));
        expect(tenant.map((b) => b.metadata.name)).toEqual([]);
    });

    it("rejects privileged, hostPath and root pods and admits a compliant one (server-side dry run)", () => {
        const dryRun = (manifest: string) => kubectlError(["apply", "--dry-run=server", "-f", "-"], manifest);
        expect(dryRun(podManifest(namespace, "privileged", { container: { privileged: true, allowPrivilegeEscalation: true } })))
            .toMatch(/violates PodSecurity "restricted:v1.36".*privileged/);
        expect(dryRun(podManifest(namespace, "hostpath", { pod: { volumes: [{ name: "host", hostPath: { path: "/etc" } }] } })))
            .toMatch(/violates PodSecurity "restricted:v1.36".*hostPath/);
        expect(dryRun(podManifest(namespace, "root", { pod: { securityContext: { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } } }, container: { runAsNonRoot: false } })))
            .toMatch(/violates PodSecurity "restricted:v1.36".*(runAsNonRoot|runAsUser=0)/);
        expect(dryRun(podManifest(namespace, "compliant"))).toBe("");
    });

    it("rejects a pod over the namespace quota", () => {
        const big = podManifest(namespace, "too-big", {
            containers: 2,
            resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        });
        expect(kubectlError(["apply", "--dry-run=server", "-f", "-"], big)).toMatch(/exceeded quota: environment-quota/);
    });

    it("runs the app, Redis and the workspace, with bound volumes", () => {
        for (const name of ["app", "redis", workspace]) {
            expect([name, conditionOf("deployment", name, namespace, "Available")]).toEqual([name, "True"]);
        }
        for (const claim of [`${workspace}-workspace`, `${workspace}-home`]) {
            const pvc = kubectlJson<{ status: { phase: string } }>(["get", "pvc", claim, "-n", namespace]);
            expect([claim, pvc.status.phase]).toEqual([claim, "Bound"]);
        }
        const pod = kubectlJson<{ items: Array<{ spec: { automountServiceAccountToken?: boolean; serviceAccountName: string } }> }>(
            ["get", "pods", "-n", namespace, "-l", "catalyst.dev/component=workspace"],
        ).items[0];
        expect(pod.spec.automountServiceAccountToken).toBe(true);
        expect(pod.spec.serviceAccountName).toBe(workspace);
        const ingress = kubectlJson<{ spec: { rules: Array<{ host: string }> }; status: { loadBalancer: { ingress?: unknown[] } } }>(
            ["get", "ingress", "app", "-n", namespace],
        );
        expect(ingress.spec.rules[0].host).toBe(`${stackName}.preview.catalyst.localhost`);
        expect(ingress.status.loadBalancer.ingress?.length ?? 0).toBeGreaterThan(0);
    });

    it("creates the CNPG role and Database on the shared cluster and a connection Secret", () => {
        const database = kubectlJson<{ spec: { cluster: { name: string }; owner: string; name: string } }>(
            ["get", "databases.postgresql.cnpg.io", namespace, "-n", "database"],
        );
        expect(database.spec.cluster.name).toBe("shared");
        expect(database.spec.owner).toBe(database.spec.name);
        const databaseRole = kubectlJson<{ spec: { name: string; passwordSecret: { name: string } } }>(
            ["get", "databaseroles.postgresql.cnpg.io", namespace, "-n", "database"],
        );
        expect(databaseRole.spec.name).toBe(database.spec.owner);
        expect(databaseRole.spec.passwordSecret.name).toBe(`${namespace}-db-owner`);
        const secret = kubectlJson<{ data: Record<string, string> }>(["get", "secret", "database", "-n", namespace]);
        const url = Buffer.from(secret.data.DATABASE_URL, "base64").toString();
        // 32 generated characters: a password that failed to generate would read "undefined".
        expect(url).toMatch(new RegExp(`^postgresql://${database.spec.owner}:[A-Za-z0-9]{32}@shared-rw\\.database\\.svc\\.cluster\\.local:5432/${database.spec.name}\\?`));
        const role = Buffer.from(kubectlJson<{ data: Record<string, string> }>(["get", "secret", `${namespace}-db-owner`, "-n", "database"]).data.password, "base64").toString();
        expect(url).toContain(`:${role}@`);
        const redis = kubectlJson<{ data: Record<string, string> }>(["get", "secret", "redis", "-n", namespace]);
        expect(Buffer.from(redis.data.REDIS_URL, "base64").toString()).toMatch(new RegExp(`^redis://:[A-Za-z0-9]{32}@redis\\.${namespace}\\.svc:6379/0$`));
    });

    it("sleeps with catalyst:sleep: zero replicas everywhere, volumes, Secrets and the Ingress kept and marked for the platform's page; waking restores the counts", async () => {
        type Workload = { metadata: { name: string }; spec: { replicas?: number } };
        const workloads = () => Object.fromEntries(["deployments", "statefulsets"].flatMap((kind) =>
            kubectlJson<{ items: Workload[] }>(["get", kind, "-n", namespace]).items.map((w) => [`${kind}/${w.metadata.name}`, w.spec.replicas ?? 1])));
        const names = (kind: string) => kubectlJson<{ items: { metadata: { name: string; uid: string } }[] }>(["get", kind, "-n", namespace]).items.map((i) => `${i.metadata.name}/${i.metadata.uid}`).sort();
        const awake = workloads();
        expect(Object.keys(awake)).toEqual(expect.arrayContaining(["deployments/app", "deployments/redis", `deployments/${workspace}`]));
        expect(Object.values(awake).every((replicas) => replicas > 0)).toBe(true);
        const kept = { pvcs: names("pvc"), secrets: names("secrets"), ingresses: names("ingresses") };

        const since = new Date().toISOString();
        await stack.setConfig("catalyst:sleep", { value: since });
        const asleep = await stack.up({ onOutput: quietOutput });
        expect(asleep.summary.result).toBe("succeeded");
        expect(Object.values(workloads())).toEqual(Object.values(awake).map(() => 0));
        expect({ pvcs: names("pvc"), secrets: names("secrets"), ingresses: names("ingresses") }).toEqual(kept);
        for (const claim of [`${workspace}-workspace`, `${workspace}-home`]) {
            expect(kubectlJson<{ status: { phase: string } }>(["get", "pvc", claim, "-n", namespace]).status.phase).toBe("Bound");
        }
        // The route: the one Ingress of the host stays, its endpoint-less backend's errors go to the platform's default backend.
        const ingress = kubectlJson<{ metadata: { annotations: Record<string, string> }; spec: { rules: { host: string }[] } }>(["get", "ingress", "app", "-n", namespace]);
        expect(ingress.metadata.annotations).toMatchObject({ "nginx.ingress.kubernetes.io/custom-http-errors": "502,503", "catalyst.dev/sleeping-since": since });
        const hostRoutes = kubectlJson<{ items: { metadata: { namespace: string; name: string }; spec: { rules?: { host?: string }[] } }[] }>(["get", "ingresses", "-A"]).items
            .filter((i) => (i.spec.rules ?? []).some((r) => r.host === ingress.spec.rules[0].host)).map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
        expect(hostRoutes).toEqual([`${namespace}/app`]);
        const controller = kubectlJson<{ items: { spec: { template: { spec: { containers: { args: string[] }[] } } } }[] }>(["get", "deployments", "-n", "ingress-nginx", "-l", "app.kubernetes.io/component=controller"]).items;
        expect(controller[0].spec.template.spec.containers[0].args).toContain("--default-backend-service=catalyst-system/catalyst-api");
        expect(await previewChanges(stack)).toEqual([]);

        await stack.removeConfig("catalyst:sleep");
        const woken = await stack.up({ onOutput: quietOutput });
        expect(woken.summary.result).toBe("succeeded");
        expect(workloads()).toEqual(awake);
        expect(kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(["get", "ingress", "app", "-n", namespace]).metadata.annotations ?? {}).not.toHaveProperty(["catalyst.dev/sleeping-since"]);
    });

    it("previews no changes on a second run", async () => {
        expect(await previewChanges(stack)).toEqual([]);
    });

    it("leaves nothing labelled with the environment after destroy", async () => {
        expect(countLabelled(ENVIRONMENT_KINDS, selector)).toBeGreaterThan(20);
        const result = await stack.destroy({ onOutput: quietOutput });
        destroyed = true;
        expect(result.summary.result).toBe("succeeded");
        await waitGone(`namespace/${namespace}`);
        expect(countLabelled(ENVIRONMENT_KINDS, selector)).toBe(0);
    });
});
