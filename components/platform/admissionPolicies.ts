import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ENVIRONMENT_LABEL } from "../environment/labels";
import { HOSTS_ANNOTATION, OFF_NAMESPACE_ANNOTATIONS } from "../environment/hosts";
import { SERVICE_ACCOUNT_USE_VERB } from "../environment/rbac";

/**
 * The second enforcement of the security baseline: ValidatingAdmissionPolicies (CEL, run by the
 * API server itself, no webhook to keep alive) that deny, in environment namespaces, what the
 * policy pack (policy/) refuses before an update. They also catch what never went through
 * Pulumi: `kubectl apply` by a tenant, a Helm release installed by hand, a controller's output.
 *
 * Each rule becomes one policy per place a pod spec lives (Pods; workloads with `spec.template`;
 * CronJobs), so every CEL expression type-checks against the kinds it matches. Ingress and Service
 * rules keep tenants from taking traffic that is not theirs through the shared ingress controller.
 * Every message starts with the rule's policy name. All functions but the component are pure.
 */

type Policy = k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicy;
type Binding = k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
type Validation = k8s.types.input.admissionregistration.v1.Validation;
type Variable = k8s.types.input.admissionregistration.v1.Variable;
type LabelSelector = k8s.types.input.meta.v1.LabelSelector;

/** The label every environment namespace carries (components/environment/labels.ts). */
export const ENVIRONMENT_NAMESPACE_LABEL = ENVIRONMENT_LABEL;

/** Selects every namespace that carries the environment label, whatever its value. */
export const ENVIRONMENT_NAMESPACE_SELECTOR: LabelSelector = {
    matchExpressions: [{ key: ENVIRONMENT_NAMESPACE_LABEL, operator: "Exists" }],
};

/** Where a pod spec lives in the objects one policy matches. */
export interface PodShape {
    /** Suffix of the policy's name. */
    suffix: string;
    /** The resources (group, version, plural names) of the shape. */
    rules: { apiGroups: string[]; apiVersions: string[]; resources: string[] }[];
    /** CEL: the pod spec inside `object`. */
    podSpec: string;
}

/** Pods, workloads whose pod template is `spec.template`, and CronJobs. */
export const POD_SHAPES: readonly PodShape[] = [
    { suffix: "pods", rules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }], podSpec: "object.spec" },
    {
        suffix: "workloads",
        rules: [
            { apiGroups: ["apps"], apiVersions: ["v1"], resources: ["deployments", "statefulsets", "daemonsets", "replicasets"] },
            { apiGroups: ["batch"], apiVersions: ["v1"], resources: ["jobs"] },
            { apiGroups: [""], apiVersions: ["v1"], resources: ["replicationcontrollers"] },
        ],
        podSpec: "object.spec.template.spec",
    },
    { suffix: "cronjobs", rules: [{ apiGroups: ["batch"], apiVersions: ["v1"], resources: ["cronjobs"] }], podSpec: "object.spec.jobTemplate.spec.template.spec" },
];

/** The variables every pod rule may use: `spec`, `containers` (with init containers) and `allContainers` (with ephemeral ones). */
export function podVariables(shape: PodShape): Variable[] {
    return [
        { name: "spec", expression: shape.podSpec },
        {
            name: "containers",
            expression: "variables.spec.containers + (has(variables.spec.initContainers) ? variables.spec.initContainers : [])",
        },
        {
            name: "allContainers",
            expression: "variables.containers + (has(variables.spec.ephemeralContainers) ? variables.spec.ephemeralContainers : [])",
        },
    ];
}

/** A rule of the baseline: a name, why, and its CEL. */
export interface AdmissionRule {
    /** The rule's name; the policy is `<prefix>-<name>[-<shape>]` and every message starts with `<prefix>-<name>`. */
    name: string;
    /** One sentence for the policy's annotation. */
    description: string;
    /** Extra variables after the pod variables. */
    variables: Variable[];
    /** CEL: true when the object passes. */
    expression: string;
    /** CEL string: what is wrong (appended to `<prefix>-<name>: `). */
    message: string;
    /** A fixed message when the expression above cannot be evaluated. */
    fallback: string;
}

/** CEL: a container image pinned to a digest, or to a tag other than latest. */
const PINNED = "(c.image.matches('@sha256:[a-f0-9]{64}$') || (c.image.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$') && !c.image.endsWith(':latest')))";

/** The rules over pod specs. */
export const POD_RULES: readonly AdmissionRule[] = [
    {
        name: "image-pinned",
        description: "Containers use images pinned to a version tag or a digest, never latest or untagged.",
        variables: [{ name: "unpinned", expression: `variables.allContainers.filter(c, !has(c.image) || !${PINNED})` }],
        expression: "size(variables.unpinned) == 0",
        message: "variables.unpinned.map(c, 'container ' + c.name + ' uses ' + (has(c.image) ? c.image : 'no image')).join(', ') + '; pin a version tag or a digest'",
        fallback: "every container image must be pinned to a version tag or a digest, never latest or untagged",
    },
    {
        name: "container-limits",
        description: "Containers and init containers set CPU and memory limits.",
        variables: [{
            name: "unlimited",
            expression: "variables.containers.filter(c, !has(c.resources) || !has(c.resources.limits) || !('cpu' in c.resources.limits) || !('memory' in c.resources.limits))",
        }],
        expression: "size(variables.unlimited) == 0",
        message: "variables.unlimited.map(c, 'container ' + c.name).join(', ') + ' must set resources.limits.cpu and resources.limits.memory'",
        fallback: "every container must set resources.limits.cpu and resources.limits.memory",
    },
    {
        name: "no-privileged-containers",
        description: "No container runs privileged.",
        variables: [{
            name: "privileged",
            expression: "variables.allContainers.filter(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged)",
        }],
        expression: "size(variables.privileged) == 0",
        message: "variables.privileged.map(c, 'container ' + c.name).join(', ') + ' must not run privileged'",
        fallback: "no container may run privileged",
    },
    {
        name: "no-host-access",
        description: "Pods use no host namespace (network, PID, IPC), hostPath volume or hostPort.",
        variables: [{
            name: "hostAccess",
            expression: "(has(variables.spec.hostNetwork) && variables.spec.hostNetwork ? ['hostNetwork'] : [])" +
                " + (has(variables.spec.hostPID) && variables.spec.hostPID ? ['hostPID'] : [])" +
                " + (has(variables.spec.hostIPC) && variables.spec.hostIPC ? ['hostIPC'] : [])" +
                " + (has(variables.spec.volumes) ? variables.spec.volumes.filter(v, has(v.hostPath)).map(v, 'hostPath volume ' + v.name) : [])" +
                " + variables.allContainers.filter(c, has(c.ports) && c.ports.exists(p, has(p.hostPort) && p.hostPort != 0)).map(c, 'hostPort of container ' + c.name)",
        }],
        expression: "size(variables.hostAccess) == 0",
        message: "'the pod must not use ' + variables.hostAccess.join(', ')",
        fallback: "pods must not use host namespaces, hostPath volumes or hostPorts",
    },
];

/**
 * Requesters that create pods from templates someone else wrote, and whose templates were already
 * admitted at the workload level: the built-in controllers (ReplicaSet, Job, StatefulSet, ...)
 * and the CloudNativePG operator, which runs a dedicated database's pods under its own account.
 */
export const DEFAULT_TRUSTED_REQUESTERS: readonly string[] = [
    "system:kube-controller-manager",
    "system:serviceaccount:kube-system:*",
    "system:serviceaccount:cnpg-system:cloudnative-pg",
];

/** CEL: whether the request's user matches one of `requesters` (a trailing `*` is a prefix). */
function requesterIn(requesters: readonly string[]): string {
    const tests = requesters.map((r) => (r.endsWith("*")
        ? `request.userInfo.username.startsWith(${JSON.stringify(r.slice(0, -1))})`
        : `request.userInfo.username == ${JSON.stringify(r)}`));
    return tests.length > 0 ? `(${tests.join(" || ")})` : "false";
}

/**
 * A pod runs with its ServiceAccount's rights, so whoever may create pods could otherwise borrow
 * any account of the namespace: an admin could start a pod as the workspace's account and hold
 * the owner role. Naming an account other than `default` therefore needs the `use` verb on it,
 * which only the owner role grants; the API server's own authorizer answers, inside the policy.
 */
export function serviceAccountRule(trustedRequesters: readonly string[]): AdmissionRule {
    return {
        name: "service-account-use",
        description: "Pods run as a ServiceAccount other than default only when the requester may use it (owners, trusted controllers).",
        variables: [{
            name: "account",
            expression: "has(variables.spec.serviceAccountName) && variables.spec.serviceAccountName != '' ? variables.spec.serviceAccountName : " +
                "(has(variables.spec.serviceAccount) && variables.spec.serviceAccount != '' ? variables.spec.serviceAccount : 'default')",
        }],
        expression: `variables.account == 'default' || ${requesterIn(trustedRequesters)} || ` +
            `authorizer.group('').resource('serviceaccounts').namespace(request.namespace).name(variables.account).check('${SERVICE_ACCOUNT_USE_VERB}').allowed()`,
        message: `request.userInfo.username + ' may not run pods as ServiceAccount ' + variables.account + '; that needs the ${SERVICE_ACCOUNT_USE_VERB} verb on serviceaccounts (the owner role)'`,
        fallback: `running pods as a ServiceAccount other than default needs the ${SERVICE_ACCOUNT_USE_VERB} verb on serviceaccounts (the owner role)`,
    };
}

/** The rule over Services. */
export const SERVICE_RULE: AdmissionRule = {
    name: "no-external-services",
    description: "Services are not LoadBalancer or NodePort and have no externalIPs: traffic enters through the shared ingress.",
    variables: [],
    expression: "(!has(object.spec.type) || !(object.spec.type in ['LoadBalancer', 'NodePort'])) && (!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0)",
    message: "'Service ' + object.metadata.name + ' must be ClusterIP without externalIPs (type ' + (has(object.spec.type) ? object.spec.type : 'ClusterIP') + '); use the environment Ingress'",
    fallback: "Services must be ClusterIP without externalIPs; use the environment Ingress",
};

/** A CEL string literal of `text`. */
const cel = (text: string) => JSON.stringify(text);

/** The variable every Ingress rule may use: `rules` (none when the Ingress has only a default backend). */
export const INGRESS_VARIABLES: readonly Variable[] = [
    { name: "rules", expression: "has(object.spec.rules) ? object.spec.rules : []" },
];

/**
 * The rules over Ingresses. The shared ingress controller routes by host, so an environment's
 * Ingress may name only the hosts its namespace records (annotation {@link HOSTS_ANNOTATION},
 * written by the environment stack, unreachable for tenants), must name one in every rule, must
 * not catch all hosts with a default backend, and must route only to Services of its own
 * namespace (no resource backends, no annotation that makes the controller call another address).
 * `reservedHosts` (the platform's own: the bare domain, the registry) are refused even where a
 * namespace records them, so no environment configuration can hand one to a tenant.
 */
export function ingressRules(reservedHosts: readonly string[]): AdmissionRule[] {
    return [
        {
            name: "ingress-host-required",
            description: "Every rule of an environment's Ingress names a host: a rule without one catches every host no other Ingress names.",
            variables: [{ name: "hostless", expression: "variables.rules.filter(r, !has(r.host) || r.host == '')" }],
            expression: "size(variables.hostless) == 0",
            message: `${cel("Ingress ")} + object.metadata.name + ${cel(" has a rule without a host; every rule must name one of the environment's hosts")}`,
            fallback: "every Ingress rule must name one of the environment's hosts",
        },
        {
            name: "ingress-own-hosts",
            description: `An environment's Ingress names only the hosts its namespace records in the annotation ${HOSTS_ANNOTATION}, in rules and in TLS.`,
            variables: [
                { name: "reserved", expression: `[${reservedHosts.map(cel).join(", ")}]` },
                {
                    name: "hosts",
                    expression: `has(namespaceObject.metadata.annotations) && ${cel(HOSTS_ANNOTATION)} in namespaceObject.metadata.annotations ` +
                        `? namespaceObject.metadata.annotations[${cel(HOSTS_ANNOTATION)}].split(',').filter(h, h != '' && !(h in variables.reserved)) : []`,
                },
                {
                    name: "foreign",
                    expression: "variables.rules.filter(r, has(r.host) && r.host != '' && !(r.host in variables.hosts)).map(r, r.host)" +
                        " + (has(object.spec.tls) ? object.spec.tls.filter(t, has(t.hosts) && t.hosts.exists(h, !(h in variables.hosts)))" +
                        ".map(t, t.hosts.filter(h, !(h in variables.hosts)).join(', ')) : [])",
                },
            ],
            expression: "size(variables.foreign) == 0",
            message: `${cel("Ingress ")} + object.metadata.name + ${cel(" names ")} + variables.foreign.join(', ') + ${cel(", not a host of this environment (")} + ` +
                `(size(variables.hosts) == 0 ? ${cel(`none recorded in annotation ${HOSTS_ANNOTATION} of namespace `)} + request.namespace : 'allowed: ' + variables.hosts.join(', ')) + ')'`,
            fallback: `an Ingress may name only the hosts its namespace records in the annotation ${HOSTS_ANNOTATION}`,
        },
        {
            name: "ingress-no-default-backend",
            description: "An environment's Ingress sets no default backend, which would catch every host no other Ingress names.",
            variables: [],
            expression: "!has(object.spec.defaultBackend)",
            message: `${cel("Ingress ")} + object.metadata.name + ${cel(" sets spec.defaultBackend, which would catch every host no other Ingress names; route the environment's own hosts in rules")}`,
            fallback: "an Ingress must not set spec.defaultBackend; route the environment's own hosts in rules",
        },
        {
            name: "ingress-local-backends",
            description: "An environment's Ingress routes to Services of its own namespace only: no resource backends, no annotations that make the controller call another address.",
            variables: [
                {
                    name: "found",
                    expression: "variables.rules.filter(r, has(r.http) && r.http.paths.exists(p, has(p.backend.resource)))" +
                        ".map(r, 'a resource backend for ' + (has(r.host) ? r.host : 'any host'))" +
                        ` + (has(object.metadata.annotations) ? ${JSON.stringify(OFF_NAMESPACE_ANNOTATIONS).replace(/"/g, "'")}` +
                        ".filter(a, a in object.metadata.annotations).map(a, 'annotation ' + a) : [])",
                },
            ],
            expression: "size(variables.found) == 0",
            message: `${cel("Ingress ")} + object.metadata.name + ${cel(" must route to Services of its namespace only (found: ")} + variables.found.join(', ') + ')'`,
            fallback: "an Ingress must route to Services of its namespace only",
        },
    ];
}

/** The rule over ExternalName Services: an Ingress could proxy through one to any address, past every NetworkPolicy. */
export const EXTERNAL_NAME_RULE: AdmissionRule = {
    name: "no-externalname-services",
    description: "No Service in an environment is ExternalName: an Ingress routed to one would proxy to any address, platform services included.",
    variables: [],
    expression: "!has(object.spec.type) || object.spec.type != 'ExternalName'",
    message: `${cel("Service ")} + object.metadata.name + ${cel(" must not be ExternalName (it points at ")} + (has(object.spec.externalName) ? object.spec.externalName : 'nothing') + ` +
        `${cel("); an Ingress could proxy through it past every NetworkPolicy")}`,
    fallback: "Services must not be ExternalName",
};

/** Options of {@link admissionObjects}. */
export interface AdmissionOptions {
    /** Prefix of every policy's name (`catalyst`). */
    prefix: string;
    /** Namespaces the bindings apply to. */
    namespaceSelector: LabelSelector;
    /** What a binding does on a violation: `Deny` (default), or `Warn`/`Audit` while rolling out. */
    validationActions: string[];
    /** Labels of every object. */
    labels: Record<string, string>;
    /** Requesters exempt from the ServiceAccount rule ({@link DEFAULT_TRUSTED_REQUESTERS}). */
    trustedRequesters: readonly string[];
    /** Hosts no environment's Ingress may name, recorded or not (the platform's own). */
    reservedHosts: readonly string[];
}

/** One policy and its binding, as plain objects. */
export interface AdmissionPair {
    /** The policy's (and its binding's) name. */
    name: string;
    policy: Policy;
    binding: Binding;
}

function pair(name: string, rule: AdmissionRule, options: AdmissionOptions, match: PodShape["rules"], variables: Variable[]): AdmissionPair {
    const ruleName = `${options.prefix}-${rule.name}`;
    const validation: Validation = {
        expression: rule.expression,
        messageExpression: `'${ruleName}: ' + ${rule.message}`,
        message: `${ruleName}: ${rule.fallback}`,
        reason: "Forbidden",
    };
    const metadata = { name, labels: options.labels, annotations: { "catalyst.dev/description": rule.description } };
    return {
        name,
        policy: {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicy",
            metadata,
            spec: {
                // An expression that cannot be evaluated denies: the baseline fails closed.
                failurePolicy: "Fail",
                matchConstraints: {
                    resourceRules: match.map((r) => ({ ...r, operations: ["CREATE", "UPDATE"] })),
                },
                variables: [...variables, ...rule.variables],
                validations: [validation],
            },
        },
        binding: {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicyBinding",
            metadata: { name, labels: options.labels },
            spec: {
                policyName: name,
                validationActions: options.validationActions,
                matchResources: { namespaceSelector: options.namespaceSelector },
            },
        },
    };
}

/** Every policy and binding of the baseline: each pod rule for each pod shape, then the Service and Ingress rules. */
export function admissionObjects(options: AdmissionOptions): AdmissionPair[] {
    const pairs: AdmissionPair[] = [];
    for (const rule of [...POD_RULES, serviceAccountRule(options.trustedRequesters)]) {
        for (const shape of POD_SHAPES) {
            pairs.push(pair(`${options.prefix}-${rule.name}-${shape.suffix}`, rule, options, shape.rules, podVariables(shape)));
        }
    }
    const services = [{ apiGroups: [""], apiVersions: ["v1"], resources: ["services"] }];
    for (const rule of [SERVICE_RULE, EXTERNAL_NAME_RULE]) {
        pairs.push(pair(`${options.prefix}-${rule.name}`, rule, options, services, []));
    }
    const ingresses = [{ apiGroups: ["networking.k8s.io"], apiVersions: ["v1"], resources: ["ingresses"] }];
    for (const rule of ingressRules(options.reservedHosts)) {
        pairs.push(pair(`${options.prefix}-${rule.name}`, rule, options, ingresses, [...INGRESS_VARIABLES]));
    }
    return pairs;
}

/** Arguments of {@link AdmissionPolicies}. */
export interface AdmissionPoliciesArgs {
    /** Prefix of the policies' cluster-wide names (default `catalyst`); one set per cluster. */
    prefix?: string;
    /** Namespaces to enforce in (default: those labelled `catalyst.dev/environment`). */
    namespaceSelector?: LabelSelector;
    /** `Deny` (default); `Warn` and/or `Audit` to observe before enforcing. */
    validationActions?: ("Deny" | "Warn" | "Audit")[];
    /** Labels of every object (the platform's stack labels). */
    labels?: Record<string, string>;
    /** Requesters that may run pods as any ServiceAccount (default {@link DEFAULT_TRUSTED_REQUESTERS}); `*` ends a prefix. */
    trustedRequesters?: string[];
    /** The platform's own hosts, which no environment's Ingress may name even where its namespace records them (default none). */
    reservedHosts?: string[];
}

/**
 * The baseline's ValidatingAdmissionPolicies and their bindings, cluster-wide objects that apply
 * to environment namespaces only: pinned images, container limits, no privileged containers, no
 * host namespaces/paths/ports, ServiceAccounts only for those who may use them, no
 * LoadBalancer, NodePort or ExternalName Services, and Ingresses only for the environment's own
 * hosts, with a host in every rule, no default backend and backends of their own namespace.
 */
export class AdmissionPolicies extends pulumi.ComponentResource {
    /** The names of the policies (equal to their bindings' names). */
    public readonly policyNames: pulumi.Output<string[]>;

    constructor(name: string, args: AdmissionPoliciesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:AdmissionPolicies", name, {}, opts);
        const pairs = admissionObjects({
            prefix: args.prefix ?? "catalyst",
            namespaceSelector: args.namespaceSelector ?? ENVIRONMENT_NAMESPACE_SELECTOR,
            validationActions: args.validationActions ?? ["Deny"],
            labels: args.labels ?? {},
            trustedRequesters: args.trustedRequesters ?? DEFAULT_TRUSTED_REQUESTERS,
            reservedHosts: args.reservedHosts ?? [],
        });
        for (const { name: objectName, policy, binding } of pairs) {
            // The logical names end in the rule and shape, so two instances never collide.
            const suffix = objectName.slice((args.prefix ?? "catalyst").length + 1);
            const created = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-${suffix}`, policy, { parent: this });
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-${suffix}-binding`, binding, {
                parent: this,
                dependsOn: [created],
            });
        }
        this.policyNames = pulumi.output(pairs.map((p) => p.name));
        this.registerOutputs({ policyNames: this.policyNames });
    }
}
