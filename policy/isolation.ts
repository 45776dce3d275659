import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    describeObject,
    environmentObjectPolicy,
    hasEnvironmentLabel,
    inEnvironment,
    isEnvironmentNamespaceName,
    Json,
    kindOf,
    needsApi,
    NEEDS_API_LABEL,
    PolicyScope,
    scopeSchema,
    skipped,
} from "./kubernetes";
import { podPolicy } from "./podPolicy";

/**
 * Isolation of environments from each other and from the cluster: guard rails in every
 * environment namespace, no way out of the shared ingress, and no RBAC that reaches beyond the
 * namespace or lets a tenant grant itself more.
 */

/** Service types that expose pods outside the cluster without the shared ingress. */
const EXTERNAL_SERVICE_TYPES = ["LoadBalancer", "NodePort"];

/** No LoadBalancer or NodePort Service, and no externalIPs, in an environment namespace. */
export const noExternalServices: ResourceValidationPolicy = environmentObjectPolicy({
    name: "no-external-services",
    description: "Services in environment namespaces are ClusterIP: no LoadBalancer, NodePort or externalIPs.",
    remediationSteps: "Use a ClusterIP Service and reach it through the environment's Ingress.",
    kind: "Service",
    problems: (props) => [
        ...(EXTERNAL_SERVICE_TYPES.includes(props.spec?.type) ? [`type ${props.spec.type} exposes the environment outside the shared ingress`] : []),
        ...(Array.isArray(props.spec?.externalIPs) && props.spec.externalIPs.length > 0 ? ["externalIPs route node traffic into the environment"] : []),
    ],
});

/** Configuration of the RBAC policies. */
export interface TenantSubjectConfig {
    /** Prefixes of user and group names that belong to tenants (the OIDC prefix). */
    tenantPrefixes?: string[];
}

/** Tenants sign in through OIDC; the API server prefixes their names (`--oidc-username-prefix`). */
export const DEFAULT_TENANT_PREFIXES = ["oidc:"];

/** Why a RoleBinding or ClusterRoleBinding subject is a tenant, or undefined. */
export function tenantSubject(subject: Json, prefixes: string[]): string | undefined {
    const name = String(subject.name ?? "");
    if (subject.kind === "ServiceAccount" && isEnvironmentNamespaceName(subject.namespace)) {
        return `the ServiceAccount ${subject.namespace}/${name}`;
    }
    if (subject.kind === "Group" && /^system:serviceaccounts:env-/.test(name)) {
        return `the ServiceAccounts of ${name.slice("system:serviceaccounts:".length)}`;
    }
    if ((subject.kind === "User" || subject.kind === "Group") && prefixes.some((prefix) => prefix !== "" && name.startsWith(prefix))) {
        return `the ${subject.kind.toLowerCase()} ${name}`;
    }
    return undefined;
}

/** No ClusterRoleBinding grants a tenant anything: tenants' permissions end at their namespace. */
export const noTenantClusterRoleBindings: ResourceValidationPolicy = {
    name: "no-tenant-cluster-role-bindings",
    description: "No ClusterRoleBinding binds a tenant (an environment's ServiceAccount or an OIDC user or group), and environments create none.",
    remediationSteps: "Bind a namespaced Role with a RoleBinding in the environment's namespace instead.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            tenantPrefixes: {
                type: "array",
                items: { type: "string" },
                default: DEFAULT_TENANT_PREFIXES,
                description: "Prefixes of tenant user and group names (the API server's OIDC prefixes).",
            },
        },
    },
    validateResource: (args, report) => {
        if (kindOf(args.type) !== "ClusterRoleBinding") {
            return;
        }
        const props: Json = args.props;
        const subject = describeObject(args.type, props);
        if (hasEnvironmentLabel(props.metadata)) {
            report(`${subject}: environments may not create ClusterRoleBindings`);
        }
        const prefixes = args.getConfig<TenantSubjectConfig>()?.tenantPrefixes ?? DEFAULT_TENANT_PREFIXES;
        for (const entry of Array.isArray(props.subjects) ? props.subjects : []) {
            const tenant = tenantSubject(entry, prefixes);
            if (tenant !== undefined) {
                report(`${subject}: binds ${props.roleRef?.kind ?? "role"} ${props.roleRef?.name ?? ""} cluster-wide to ${tenant}`);
            }
        }
    },
};

/** Verbs that let their holder grant, or act as, more than it has. */
export const ESCALATING_VERBS = ["escalate", "bind", "impersonate"];

/** The problems of one RBAC rule: wildcards and escalating verbs. */
export function ruleProblems(rule: Json, index: number): string[] {
    const problems: string[] = [];
    const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
    for (const field of ["verbs", "resources", "apiGroups"]) {
        if (list(rule[field]).some((value) => value.includes("*"))) {
            problems.push(`rule ${index} uses a wildcard in ${field}`);
        }
    }
    const escalating = list(rule.verbs).filter((verb) => ESCALATING_VERBS.includes(verb));
    if (escalating.length > 0) {
        problems.push(`rule ${index} grants ${escalating.join(", ")}`);
    }
    return problems;
}

/**
 * Roles of tenants (Roles in environment namespaces, and any Role or ClusterRole an environment
 * creates) list verbs and resources explicitly and grant no escalate, bind or impersonate.
 */
export const tenantRoleRules: ResourceValidationPolicy = {
    name: "tenant-role-rules",
    description: "Tenant Roles use no wildcard verbs, resources or API groups and grant no escalate, bind or impersonate.",
    remediationSteps: "List the verbs and resources the role needs explicitly; leave RBAC changes to the platform.",
    enforcementLevel: "mandatory",
    configSchema: { properties: scopeSchema() },
    validateResource: (args, report) => {
        const kind = kindOf(args.type);
        const props: Json = args.props;
        const tenant = (kind === "Role" && inEnvironment(props)) || (kind === "ClusterRole" && hasEnvironmentLabel(props.metadata));
        if (!tenant || skipped(args.type, props, args.getConfig<PolicyScope>() ?? {})) {
            return;
        }
        const rules: Json[] = Array.isArray(props.rules) ? props.rules : [];
        rules.forEach((rule, index) => {
            for (const problem of ruleProblems(rule, index)) {
                report(`${describeObject(args.type, props)}: ${problem}`);
            }
        });
    },
};

/**
 * Environment pods run without a ServiceAccount token unless they say they call the API
 * (`catalyst.dev/needs-api: "true"` on the pod template or the workload).
 */
export const serviceAccountTokenOptIn = podPolicy({
    name: "service-account-token-opt-in",
    description: `Environment pods set automountServiceAccountToken: false unless labelled or annotated ${NEEDS_API_LABEL}: "true".`,
    remediationSteps: `Set automountServiceAccountToken: false in the pod spec, or label the pod template ${NEEDS_API_LABEL}: "true" if it calls the Kubernetes API.`,
    appliesTo: inEnvironment,
    pod: ({ template, props }) =>
        template.spec.automountServiceAccountToken === false || needsApi(template, props)
            ? []
            : [`the pod mounts a ServiceAccount token without opting in (automountServiceAccountToken: false, or ${NEEDS_API_LABEL}: "true")`],
});

/** Which guard rails a namespace has. */
interface Guardrails {
    quota: boolean;
    limitRange: boolean;
    denyIngress: boolean;
    denyEgress: boolean;
}

/** True for an empty label selector (it selects every pod). */
function selectsAll(selector: Json | undefined): boolean {
    if (selector === undefined || selector === null) {
        return true;
    }
    const labels = selector.matchLabels ?? {};
    const expressions = selector.matchExpressions ?? [];
    return Object.keys(labels).length === 0 && expressions.length === 0;
}

/**
 * The directions a NetworkPolicy denies by default: it selects every pod, names the direction
 * in policyTypes (Ingress is implied when absent) and allows nothing in it.
 */
export function defaultDenies(spec: Json | undefined): { ingress: boolean; egress: boolean } {
    if (!spec || !selectsAll(spec.podSelector)) {
        return { ingress: false, egress: false };
    }
    const types: string[] = Array.isArray(spec.policyTypes) ? spec.policyTypes : ["Ingress", ...(spec.egress ? ["Egress"] : [])];
    const empty = (rules: unknown) => !Array.isArray(rules) || rules.length === 0;
    return { ingress: types.includes("Ingress") && empty(spec.ingress), egress: types.includes("Egress") && empty(spec.egress) };
}

/** The environment namespaces a stack creates: named `env-*` or labelled as an environment. */
export function environmentNamespaces(resources: PolicyResource[]): string[] {
    return resources
        .filter((r) => kindOf(r.type) === "Namespace")
        .filter((r) => isEnvironmentNamespaceName(r.props.metadata?.name) || hasEnvironmentLabel(r.props.metadata))
        .map((r) => String(r.props.metadata?.name ?? r.name));
}

/**
 * Every environment Namespace the stack creates comes with a ResourceQuota, a LimitRange and
 * NetworkPolicies that deny all ingress and egress by default; and no Service in such a namespace
 * (also one only labelled as an environment) is a LoadBalancer or NodePort.
 */
export const environmentNamespaceGuardrails: StackValidationPolicy = {
    name: "environment-namespace-guardrails",
    description: "Every environment Namespace has a ResourceQuota, a LimitRange and a default-deny NetworkPolicy for ingress and egress.",
    remediationSteps: "Create environment namespaces with components/environment/namespace.ts (EnvironmentNamespace), which adds all three.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const namespaces = environmentNamespaces(args.resources);
        const found = new Map<string, Guardrails>(
            namespaces.map((ns) => [ns, { quota: false, limitRange: false, denyIngress: false, denyEgress: false }]),
        );
        for (const resource of args.resources) {
            const rails = found.get(String(resource.props.metadata?.namespace));
            if (rails === undefined) {
                continue;
            }
            const kind = kindOf(resource.type);
            if (kind === "ResourceQuota") {
                rails.quota = true;
            } else if (kind === "LimitRange") {
                rails.limitRange = true;
            } else if (kind === "NetworkPolicy") {
                const denies = defaultDenies(resource.props.spec);
                rails.denyIngress ||= denies.ingress;
                rails.denyEgress ||= denies.egress;
            } else if (kind === "Service" && !inEnvironment(resource.props) && EXTERNAL_SERVICE_TYPES.includes(resource.props.spec?.type)) {
                // Services of env-* namespaces, or labelled ones, no-external-services already reports.
                report(`${describeObject(resource.type, resource.props)}: type ${resource.props.spec.type} in an environment namespace`, resource.urn);
            }
        }
        for (const [namespace, rails] of found) {
            const missing = [
                rails.quota ? undefined : "a ResourceQuota",
                rails.limitRange ? undefined : "a LimitRange",
                rails.denyIngress ? undefined : "a default-deny ingress NetworkPolicy",
                rails.denyEgress ? undefined : "a default-deny egress NetworkPolicy",
            ].filter((item): item is string => item !== undefined);
            if (missing.length > 0) {
                const urn = args.resources.find((r) => kindOf(r.type) === "Namespace" && String(r.props.metadata?.name ?? r.name) === namespace)?.urn;
                report(`Namespace ${namespace}: environment namespace without ${missing.join(", ")}`, urn);
            }
        }
    },
};

/** The isolation policies, in the order they are listed. */
export const isolationPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    environmentNamespaceGuardrails,
    noExternalServices,
    noTenantClusterRoleBindings,
    tenantRoleRules,
    serviceAccountTokenOptIn,
];
