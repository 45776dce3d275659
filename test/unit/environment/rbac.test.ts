import { adminRules, FORBIDDEN_VERBS, observerRules, ownerRules, PolicyRule, ruleProblems, rulesFor } from "../../../components/environment/rbac";
import { hasOwners, rolesFor, subjectsFor } from "../../../components/environment/access";
import { oidcKubeconfig, ownerKubeconfig } from "../../../components/environment/kubeconfig";

/** The verbs `rules` grant on `resource` (in any API group). */
function verbsOn(rules: PolicyRule[], resource: string): string[] {
    return [...new Set(rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs))].sort();
}

const interactive = ["pods/exec", "pods/attach", "pods/portforward"];

describe("tenant roles", () => {
    it("lets observers read the app but not secrets, exec, attach or port-forward", () => {
        const rules = observerRules();
        for (const resource of ["pods", "pods/log", "deployments", "replicasets", "services", "ingresses", "events", "configmaps"]) {
            expect(verbsOn(rules, resource)).toEqual(["get", "list", "watch"]);
        }
        for (const resource of ["secrets", ...interactive]) {
            expect(verbsOn(rules, resource)).toEqual([]);
        }
    });

    it("uses no wildcard and no escalate, bind or impersonate in any role", () => {
        for (const rules of [observerRules(), adminRules(), ownerRules(["owner-kubeconfig"])]) {
            expect(ruleProblems(rules)).toEqual([]);
            for (const rule of rules) {
                expect([...rule.apiGroups, ...rule.resources, ...rule.verbs].filter((v) => v.includes("*"))).toEqual([]);
                expect(rule.verbs.filter((v) => FORBIDDEN_VERBS.includes(v))).toEqual([]);
            }
        }
    });

    it("lets admins deploy but not change their quota, limits, policies or bindings, nor read secrets", () => {
        const rules = adminRules();
        expect(verbsOn(rules, "deployments")).toEqual(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]);
        for (const resource of ["resourcequotas", "limitranges", "networkpolicies", "roles", "rolebindings"]) {
            expect(verbsOn(rules, resource)).toEqual(["get", "list", "watch"]);
        }
        for (const resource of ["secrets", ...interactive, "serviceaccounts/token"]) {
            expect(verbsOn(rules, resource)).toEqual([]);
        }
    });

    it("gives owners exec, attach, port-forward, secrets and tokens of their kubeconfig account only", () => {
        const rules = ownerRules(["owner-kubeconfig"]);
        for (const resource of interactive) {
            expect(verbsOn(rules, resource)).toEqual(["create", "get"]);
        }
        expect(verbsOn(rules, "secrets")).toContain("get");
        const token = rules.find((r) => r.resources.includes("serviceaccounts/token"));
        expect(token).toEqual({ apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"], resourceNames: ["owner-kubeconfig"] });
        expect(verbsOn(rules, "rolebindings")).toEqual(["get", "list", "watch"]);
    });

    it("lets only owners run pods as the namespace's ServiceAccounts (the `use` verb of the admission policy)", () => {
        expect(verbsOn(ownerRules(), "serviceaccounts")).toContain("use");
        expect(verbsOn(adminRules(), "serviceaccounts")).not.toContain("use");
        expect(verbsOn(observerRules(), "serviceaccounts")).toEqual([]);
    });

    it("flags rules that would break the fences", () => {
        expect(ruleProblems([{ apiGroups: ["*"], resources: ["resourcequotas"], verbs: ["update", "bind"] }])).toEqual([
            "rule 0: uses a wildcard",
            "rule 0: grants bind",
            "rule 0: may change resourcequotas",
        ]);
    });

    it("has owners only in development and preview", () => {
        expect(rolesFor("preview")).toEqual(["observer", "admin", "owner"]);
        expect(rolesFor("development")).toEqual(["observer", "admin", "owner"]);
        expect(rolesFor("staging")).toEqual(["observer", "admin"]);
        expect(rolesFor("production")).toEqual(["observer", "admin"]);
        expect(hasOwners("production")).toBe(false);
        expect(rulesFor("observer")).toEqual(observerRules());
    });

    it("prefixes OIDC users and groups", () => {
        expect(subjectsFor({ users: ["a@x.com"], groups: ["devs"] }, "oidc:")).toEqual([
            { kind: "User", name: "oidc:a@x.com", apiGroup: "rbac.authorization.k8s.io" },
            { kind: "Group", name: "oidc:devs", apiGroup: "rbac.authorization.k8s.io" },
        ]);
    });
});

describe("kubeconfigs", () => {
    const cluster = { server: "https://k8s.example.com:6443", certificateAuthorityData: "Q0E=" };

    it("gets the owner a one-hour token through kubectl create token, never a stored one", () => {
        const config = JSON.parse(ownerKubeconfig("env-pr-1", "owner-kubeconfig", cluster));
        expect(config.contexts[0].context).toEqual({ cluster: "env-pr-1-owner", user: "env-pr-1-owner", namespace: "env-pr-1" });
        expect(config.clusters[0].cluster).toEqual({ server: cluster.server, "certificate-authority-data": "Q0E=" });
        const exec = config.users[0].user.exec;
        expect(exec.command).toBe("kubectl");
        expect(exec.args.slice(0, 6)).toEqual(["create", "token", "owner-kubeconfig", "-n", "env-pr-1", "--duration=1h"]);
        expect(exec.args[7]).toContain('"kind":"ExecCredential"');
        expect(exec.env).toEqual([{ name: "KUBECONFIG", value: "" }]);
        expect(config.users[0].user.token).toBeUndefined();
    });

    it("signs in through catalyst kube-credential when an OIDC issuer is configured", () => {
        const config = JSON.parse(oidcKubeconfig("env-staging", cluster, { issuerUrl: "https://login.example.com/oidc", clientId: "k8s" }));
        const exec = config.users[0].user.exec;
        expect(exec.command).toBe("catalyst");
        expect(exec.args).toEqual(["kube-credential", "--issuer=https://login.example.com/oidc", "--client-id=k8s"]);
        expect(exec.apiVersion).toBe("client.authentication.k8s.io/v1");
        // The plugin never prompts: when the sign-in has ended it says to run catalyst login.
        expect(exec.interactiveMode).toBe("Never");
        expect(config.contexts[0].context.namespace).toBe("env-staging");
    });

    it("passes the issuer's CA file and a chosen command to the plugin", () => {
        const config = JSON.parse(oidcKubeconfig("env-pr-3", cluster, { issuerUrl: "https://127.0.0.1:16543/oidc", clientId: "catalyst-cluster", caFile: "/x/ca.crt", command: "/repo/bin/catalyst.js" }));
        expect(config.users[0].user.exec.command).toBe("/repo/bin/catalyst.js");
        expect(config.users[0].user.exec.args).toContain("--ca-file=/x/ca.crt");
    });
});
