import {
    defaultDenies,
    environmentNamespaceGuardrails,
    noExternalServices,
    noTenantClusterRoleBindings,
    serviceAccountTokenOptIn,
    tenantRoleRules,
} from "../../../policy/isolation";
import { compliantPodSpec, deployment, StackEntry, stackViolations, T, violations } from "./harness";

/** The objects EnvironmentNamespace creates for `name`, optionally without some kinds. */
function guardedNamespace(name: string, without: string[] = []): StackEntry[] {
    const entries: StackEntry[] = [
        { type: T.namespace, props: { metadata: { name, labels: { "catalyst.dev/environment": name.slice(4) } } } },
        { type: T.quota, props: { metadata: { name: "environment-quota", namespace: name }, spec: { hard: { pods: "20" } } } },
        { type: T.limitRange, props: { metadata: { name: "environment-limits", namespace: name }, spec: { limits: [] } } },
        { type: T.networkPolicy, props: { metadata: { name: "default-deny", namespace: name }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } } },
        {
            type: T.networkPolicy,
            props: { metadata: { name: "allow-dns", namespace: name }, spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{ ports: [{ port: 53, protocol: "UDP" }] }] } },
        },
    ];
    return entries.filter((entry) => !without.includes(entry.type));
}

describe("environment-namespace-guardrails", () => {
    it("passes a namespace with quota, limit range and default deny, and ignores other namespaces", async () => {
        const other = { type: T.namespace, props: { metadata: { name: "monitoring" } } };
        expect(await stackViolations(environmentNamespaceGuardrails, [...guardedNamespace("env-pr-1"), other])).toEqual([]);
    });

    it("reports what an environment namespace lacks", async () => {
        expect(await stackViolations(environmentNamespaceGuardrails, guardedNamespace("env-pr-2", [T.limitRange, T.networkPolicy]))).toEqual([
            "Namespace env-pr-2: environment namespace without a LimitRange, a default-deny ingress NetworkPolicy, a default-deny egress NetworkPolicy",
        ]);
    });

    it("treats a labelled namespace as an environment, LoadBalancer Services in it included", async () => {
        const labelled: StackEntry[] = [
            { type: T.namespace, props: { metadata: { name: "team-a", labels: { "catalyst.dev/environment": "team-a" } } } },
            { type: T.service, props: { metadata: { name: "web", namespace: "team-a" }, spec: { type: "LoadBalancer" } } },
        ];
        expect(await stackViolations(environmentNamespaceGuardrails, labelled)).toEqual([
            "Service team-a/web: type LoadBalancer in an environment namespace",
            "Namespace team-a: environment namespace without a ResourceQuota, a LimitRange, a default-deny ingress NetworkPolicy, a default-deny egress NetworkPolicy",
        ]);
    });

    it.each([
        ["deny all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }, { ingress: true, egress: true }],
        ["implied ingress", { podSelector: {} }, { ingress: true, egress: false }],
        ["allows something", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] }, { ingress: false, egress: false }],
        ["selects some pods", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress", "Egress"] }, { ingress: false, egress: false }],
    ])("defaultDenies: %s", (_what, spec, expected) => {
        expect(defaultDenies(spec)).toEqual(expected);
    });
});

describe("no-external-services", () => {
    const service = (namespace: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) =>
        ({ metadata: { name: "web", namespace, labels }, spec: { ports: [{ port: 80 }], ...spec } });

    it("passes ClusterIP Services, and LoadBalancers outside environments", async () => {
        expect(await violations(noExternalServices, T.service, service("env-pr-1", { type: "ClusterIP" }))).toEqual([]);
        expect(await violations(noExternalServices, T.service, service("ingress-nginx", { type: "LoadBalancer" }))).toEqual([]);
    });

    it("reports NodePort, LoadBalancer and externalIPs in environment namespaces or on environment objects", async () => {
        expect(await violations(noExternalServices, T.service, service("env-pr-1", { type: "NodePort" }))).toEqual([
            "Service env-pr-1/web: type NodePort exposes the environment outside the shared ingress",
        ]);
        expect(await violations(noExternalServices, T.service, service("team-a", { type: "LoadBalancer", externalIPs: ["203.0.113.9"] }, { "catalyst.dev/environment": "team-a" }))).toEqual([
            "Service team-a/web: type LoadBalancer exposes the environment outside the shared ingress",
            "Service team-a/web: externalIPs route node traffic into the environment",
        ]);
    });
});

describe("no-tenant-cluster-role-bindings", () => {
    const binding = (subjects: Record<string, string>[], labels: Record<string, string> = {}) => ({
        metadata: { name: "binding", labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects,
    });

    it("passes bindings of platform accounts", async () => {
        const platform = binding([{ kind: "ServiceAccount", name: "ingress-nginx", namespace: "ingress-nginx" }]);
        expect(await violations(noTenantClusterRoleBindings, T.clusterRoleBinding, platform)).toEqual([]);
    });

    it("reports tenant subjects and bindings an environment creates", async () => {
        const tenant = binding([
            { kind: "ServiceAccount", name: "workspace", namespace: "env-pr-1" },
            { kind: "Group", name: "oidc:developers", apiGroup: "rbac.authorization.k8s.io" },
            { kind: "Group", name: "system:serviceaccounts:env-pr-2", apiGroup: "rbac.authorization.k8s.io" },
        ], { "catalyst.dev/environment": "pr-1" });
        expect(await violations(noTenantClusterRoleBindings, T.clusterRoleBinding, tenant)).toEqual([
            "ClusterRoleBinding binding: environments may not create ClusterRoleBindings",
            "ClusterRoleBinding binding: binds ClusterRole view cluster-wide to the ServiceAccount env-pr-1/workspace",
            "ClusterRoleBinding binding: binds ClusterRole view cluster-wide to the group oidc:developers",
            "ClusterRoleBinding binding: binds ClusterRole view cluster-wide to the ServiceAccounts of env-pr-2",
        ]);
    });
});

describe("tenant-role-rules", () => {
    const role = (rules: Record<string, string[]>[], namespace = "env-pr-1") => ({ metadata: { name: "catalyst-admin", namespace }, rules });

    it("passes explicit rules, and platform roles outside environments", async () => {
        expect(await violations(tenantRoleRules, T.role, role([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }]))).toEqual([]);
        expect(await violations(tenantRoleRules, T.role, role([{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }], "cnpg-system"))).toEqual([]);
    });

    it("reports wildcards and escalating verbs", async () => {
        const rules = [
            { apiGroups: [""], resources: ["*"], verbs: ["get"] },
            { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate", "bind"] },
            { apiGroups: [""], resources: ["users"], verbs: ["impersonate"] },
        ];
        expect(await violations(tenantRoleRules, T.role, role(rules))).toEqual([
            "Role env-pr-1/catalyst-admin: rule 0 uses a wildcard in resources",
            "Role env-pr-1/catalyst-admin: rule 1 grants escalate, bind",
            "Role env-pr-1/catalyst-admin: rule 2 grants impersonate",
        ]);
    });

    it("checks ClusterRoles an environment creates", async () => {
        const clusterRole = { metadata: { name: "x", labels: { "catalyst.dev/environment": "pr-1" } }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["*"] }] };
        expect(await violations(tenantRoleRules, T.clusterRole, clusterRole)).toEqual(["ClusterRole x: rule 0 uses a wildcard in verbs"]);
    });
});

describe("service-account-token-opt-in", () => {
    it("passes pods without a token, pods that opt in, and pods outside environments", async () => {
        expect(await violations(serviceAccountTokenOptIn, T.deployment, deployment())).toEqual([]);
        const mounted = compliantPodSpec({ automountServiceAccountToken: true });
        expect(await violations(serviceAccountTokenOptIn, T.deployment, deployment(mounted, "env-pr-1", { labels: { "catalyst.dev/needs-api": "true" } }))).toEqual([]);
        expect(await violations(serviceAccountTokenOptIn, T.deployment, deployment(mounted, "cnpg-system"))).toEqual([]);
    });

    it("reports an environment pod that mounts a token without opting in", async () => {
        const unset = compliantPodSpec({ automountServiceAccountToken: undefined });
        expect(await violations(serviceAccountTokenOptIn, T.deployment, deployment(unset))).toEqual([
            'Deployment env-pr-1/web: the pod mounts a ServiceAccount token without opting in (automountServiceAccountToken: false, or catalyst.dev/needs-api: "true")',
        ]);
    });
});
