/**
 * The three tenant roles of an environment, as explicit PolicyRules. No rule uses a wildcard,
 * and none grants `escalate`, `bind` or `impersonate`: a tenant can only ever hold what is
 * written here. All functions are pure; tests read the rules directly.
 */

/** One RBAC rule (the shape of `rbac.authorization.k8s.io/v1` PolicyRule). */
export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[];
}

/** The roles a person or group can hold in an environment. */
export type TenantRole = "observer" | "admin" | "owner";

const READ = ["get", "list", "watch"];
const WRITE = [...READ, "create", "update", "patch", "delete", "deletecollection"];

/**
 * Read-only view of the running application. Deliberately absent: secrets (they hold
 * credentials) and pods/exec, pods/attach, pods/portforward (each is a shell or a tunnel into
 * a workload, i.e. access to everything the pod can read).
 */
export function observerRules(): PolicyRule[] {
    return [
        { apiGroups: [""], resources: ["pods", "pods/log", "services", "events", "configmaps"], verbs: READ },
        { apiGroups: ["apps"], resources: ["deployments", "replicasets"], verbs: READ },
        { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: READ },
        { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
    ];
}

/**
 * Runs the environment's workloads. The guard rails the platform set (ResourceQuota, LimitRange,
 * NetworkPolicies, Roles and RoleBindings) are readable but not writable, so an admin can neither
 * raise their own limits, open the network, nor grant themselves more. Secrets and the
 * interactive pod subresources are the owner's. Note: anyone who may create pods can mount a
 * Secret of the namespace into one; in production that is accepted for admins (they deploy),
 * which is why the admin list is short and explicit.
 */
export function adminRules(): PolicyRule[] {
    return [
        ...observerRules(),
        {
            apiGroups: [""],
            resources: ["pods", "services", "configmaps", "persistentvolumeclaims", "serviceaccounts"],
            verbs: WRITE,
        },
        { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
        { apiGroups: [""], resources: ["endpoints", "resourcequotas", "limitranges", "pods/status"], verbs: READ },
        {
            apiGroups: ["apps"],
            resources: ["deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"],
            verbs: WRITE,
        },
        { apiGroups: ["apps"], resources: ["controllerrevisions", "deployments/status", "statefulsets/status"], verbs: READ },
        { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: WRITE },
        { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: WRITE },
        { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: WRITE },
        { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: WRITE },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: READ },
        { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: READ },
        { apiGroups: ["postgresql.cnpg.io"], resources: ["clusters", "databases", "scheduledbackups"], verbs: READ },
        { apiGroups: ["postgresql.cnpg.io"], resources: ["backups"], verbs: [...READ, "create"] },
    ];
}

/**
 * The verb on `serviceaccounts` that lets a requester run pods as one; the platform's
 * `service-account-use` admission policy asks the API server's authorizer for it.
 */
export const SERVICE_ACCOUNT_USE_VERB = "use";

/**
 * Admin plus what a developer needs on their own environment: shells, attach and port-forward
 * into pods, the Secrets, and running pods as the namespace's ServiceAccounts.
 * `tokenServiceAccounts` are the ServiceAccounts whose short-lived tokens owners may request
 * (the owner kubeconfig's); limited by name, since a token of any other ServiceAccount could
 * carry other permissions.
 */
export function ownerRules(tokenServiceAccounts: string[] = []): PolicyRule[] {
    const rules: PolicyRule[] = [
        ...adminRules(),
        // `get` as well as `create`: kubectl's WebSocket streams open with a GET.
        { apiGroups: [""], resources: ["pods/exec", "pods/attach", "pods/portforward"], verbs: ["get", "create"] },
        { apiGroups: [""], resources: ["secrets"], verbs: WRITE },
        // Checked by the platform's `service-account-use` admission policy: only owners may run
        // pods as a ServiceAccount other than `default` (the workspace's holds the owner role).
        { apiGroups: [""], resources: ["serviceaccounts"], verbs: [SERVICE_ACCOUNT_USE_VERB] },
    ];
    if (tokenServiceAccounts.length > 0) {
        rules.push({
            apiGroups: [""],
            resources: ["serviceaccounts/token"],
            verbs: ["create"],
            resourceNames: [...tokenServiceAccounts],
        });
    }
    return rules;
}

/** The rules of `role`. */
export function rulesFor(role: TenantRole, tokenServiceAccounts: string[] = []): PolicyRule[] {
    switch (role) {
        case "observer":
            return observerRules();
        case "admin":
            return adminRules();
        case "owner":
            return ownerRules(tokenServiceAccounts);
    }
}

/** Verbs that let a holder grant or assume more than they have; never in a tenant role. */
export const FORBIDDEN_VERBS: readonly string[] = ["escalate", "bind", "impersonate", "*"];

/**
 * The problems of a rule set: wildcards anywhere, forbidden verbs, or write access to the
 * resources that fence a tenant in. Empty for every role this module builds.
 */
export function ruleProblems(rules: PolicyRule[]): string[] {
    const fences = ["resourcequotas", "limitranges", "networkpolicies", "roles", "rolebindings"];
    const problems: string[] = [];
    rules.forEach((rule, index) => {
        if ([...rule.apiGroups, ...rule.resources, ...rule.verbs].some((v) => v.includes("*"))) {
            problems.push(`rule ${index}: uses a wildcard`);
        }
        for (const verb of rule.verbs.filter((v) => FORBIDDEN_VERBS.includes(v))) {
            problems.push(`rule ${index}: grants ${verb}`);
        }
        const writes = rule.verbs.some((v) => !READ.includes(v));
        for (const resource of rule.resources.filter((r) => fences.includes(r))) {
            if (writes) {
                problems.push(`rule ${index}: may change ${resource}`);
            }
        }
    });
    return problems;
}
