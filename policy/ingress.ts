import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { HOSTS_ANNOTATION, OFF_NAMESPACE_ANNOTATIONS, parseHosts } from "../components/environment/hosts";
import { describeObject, environmentObjectPolicy, inEnvironment, Json, kindOf } from "./kubernetes";

/**
 * Traffic that is not a tenant's: the pack's side of the platform's Ingress and Service admission
 * rules (components/platform/admissionPolicies.ts), checked before an update instead of at the
 * API server. Same names, same rules: every rule of an environment's Ingress names a host, only
 * hosts its namespace records, no default backend, only Services of its namespace as backends,
 * and no ExternalName Service.
 */

const list = (value: unknown): Json[] => (Array.isArray(value) ? value : []);

/** The problems of an environment's Ingress that need nothing but the Ingress itself. */
export function ingressShapeProblems(props: Json): { policy: string; message: string }[] {
    const rules = list(props.spec?.rules);
    const problems: { policy: string; message: string }[] = [];
    if (rules.some((rule) => typeof rule.host !== "string" || rule.host === "")) {
        problems.push({ policy: "ingress-host-required", message: "has a rule without a host; every rule must name one of the environment's hosts" });
    }
    if (props.spec?.defaultBackend !== undefined && props.spec?.defaultBackend !== null) {
        problems.push({ policy: "ingress-no-default-backend", message: "sets spec.defaultBackend, which would catch every host no other Ingress names" });
    }
    const found = [
        ...rules.filter((rule) => list(rule.http?.paths).some((path) => path.backend?.resource !== undefined)).map((rule) => `a resource backend for ${rule.host ?? "any host"}`),
        ...OFF_NAMESPACE_ANNOTATIONS.filter((name) => props.metadata?.annotations?.[name] !== undefined).map((name) => `annotation ${name}`),
    ];
    if (found.length > 0) {
        problems.push({ policy: "ingress-local-backends", message: `must route to Services of its namespace only (found: ${found.join(", ")})` });
    }
    return problems;
}

/** An Ingress policy of the shape checks, by name. */
function shapePolicy(name: string, description: string, remediationSteps: string): ResourceValidationPolicy {
    return environmentObjectPolicy({
        name,
        description,
        remediationSteps,
        kind: "Ingress",
        problems: (props) => ingressShapeProblems(props).filter((p) => p.policy === name).map((p) => p.message),
    });
}

export const ingressHostRequired = shapePolicy(
    "ingress-host-required",
    "Every rule of an environment's Ingress names a host.",
    "Give every rule the environment's host (its route's, or its workspace's).",
);
export const ingressNoDefaultBackend = shapePolicy(
    "ingress-no-default-backend",
    "An environment's Ingress sets no default backend.",
    "Route the environment's own hosts in spec.rules instead.",
);
export const ingressLocalBackends = shapePolicy(
    "ingress-local-backends",
    "An environment's Ingress routes to Services of its own namespace only.",
    `Use service backends; do not set ${OFF_NAMESPACE_ANNOTATIONS.join(" or ")}.`,
);

/** The hosts an Ingress names, in rules and in TLS. */
export function ingressHosts(props: Json): string[] {
    const fromRules = list(props.spec?.rules).map((rule) => rule.host).filter((host): host is string => typeof host === "string" && host !== "");
    const fromTls = list(props.spec?.tls).flatMap((tls): unknown[] => (Array.isArray(tls.hosts) ? tls.hosts : [])).filter((host): host is string => typeof host === "string");
    return [...new Set([...fromRules, ...fromTls])];
}

/**
 * An environment's Ingresses name only the hosts their Namespace records, where the stack creates
 * that Namespace too (otherwise only the API server can know, and its admission rule checks).
 */
export const ingressOwnHosts: StackValidationPolicy = {
    name: "ingress-own-hosts",
    description: `An environment's Ingresses name only the hosts its Namespace records in the annotation ${HOSTS_ANNOTATION}.`,
    remediationSteps: "Route the environment's own host; an environment's hosts come from its stack (components/environment/route.ts).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const recorded = new Map<string, string[]>();
        for (const resource of args.resources) {
            const annotation = resource.props.metadata?.annotations?.[HOSTS_ANNOTATION];
            if (kindOf(resource.type) === "Namespace" && typeof annotation === "string") {
                recorded.set(String(resource.props.metadata?.name), parseHosts(annotation));
            }
        }
        for (const resource of args.resources) {
            const allowed = recorded.get(String(resource.props.metadata?.namespace));
            if (kindOf(resource.type) !== "Ingress" || allowed === undefined || !inEnvironment(resource.props)) {
                continue;
            }
            const foreign = ingressHosts(resource.props).filter((host) => !allowed.includes(host));
            if (foreign.length > 0) {
                report(`${describeObject(resource.type, resource.props)}: names ${foreign.join(", ")}, not a host of this environment (allowed: ${allowed.length > 0 ? allowed.join(", ") : "none"})`, resource.urn);
            }
        }
    },
};

/** No ExternalName Service in an environment. */
export const noExternalNameServices: ResourceValidationPolicy = environmentObjectPolicy({
    name: "no-externalname-services",
    description: "No Service in an environment namespace is ExternalName.",
    remediationSteps: "Use a ClusterIP Service that selects the environment's own pods.",
    kind: "Service",
    problems: (props) => (props.spec?.type === "ExternalName"
        ? [`must not be ExternalName (it points at ${props.spec.externalName ?? "nothing"}); an Ingress could proxy through it past every NetworkPolicy`]
        : []),
});

/** The traffic policies, in the order they are listed. */
export const ingressPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    ingressHostRequired,
    ingressOwnHosts,
    ingressNoDefaultBackend,
    ingressLocalBackends,
    noExternalNameServices,
];
