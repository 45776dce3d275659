import { EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { defaultExemptions } from "./exemptions";
import { ContainerRef, containersOf, describeObject, Json, PodTemplate, podTemplateOf, PolicyScope, scopeSchema, skipped } from "./kubernetes";

/**
 * The shape shared by every policy that looks inside pods: find the pod spec of a Pod, workload
 * or CronJob (Helm-rendered ones included), skip excluded namespaces and exempt objects, and
 * report each problem with the object and container it is about.
 */

/** What a pod-level check sees. */
export interface PodContext {
    /** The resource's type token. */
    type: string;
    /** The whole object. */
    props: Json;
    template: PodTemplate;
    /** The policy's configuration (defaults applied by the engine from the schema). */
    config: Json;
}

/** Arguments of {@link podPolicy}. */
export interface PodPolicyArgs {
    /** Policy name (kebab case); also the name in messages and in policy configuration. */
    name: string;
    /** One sentence: what the policy requires. */
    description: string;
    /** How to fix a violation. */
    remediationSteps: string;
    /** Default level; configuration may change it. */
    enforcementLevel?: EnforcementLevel;
    /** Problems of one container, as phrases that follow its name ("runs privileged"). */
    container?: (ref: ContainerRef, pod: PodContext) => string[];
    /** Problems of the pod as a whole, as sentences. */
    pod?: (pod: PodContext) => string[];
    /** Only check objects this returns true for (all when absent). */
    appliesTo?: (props: Json) => boolean;
    /** Extra configuration properties besides `excludeNamespaces` and `exemptions`. */
    configSchema?: Record<string, PolicyConfigJSONSchema>;
}

/** Runs a pod policy's checks on one resource; exported for policies that reuse the walk. */
export function checkPods(args: PodPolicyArgs, resource: ResourceValidationArgs, report: ReportViolation): void {
    const template = podTemplateOf(resource.type, resource.props);
    if (template === undefined) {
        return;
    }
    const config: Json & PolicyScope = resource.getConfig<Json>() ?? {};
    if (skipped(resource.type, resource.props, config) || (args.appliesTo !== undefined && !args.appliesTo(resource.props))) {
        return;
    }
    const pod: PodContext = { type: resource.type, props: resource.props, template, config };
    const subject = describeObject(resource.type, resource.props);
    for (const problem of args.pod?.(pod) ?? []) {
        report(`${subject}: ${problem}`);
    }
    if (args.container) {
        for (const ref of containersOf(template.spec)) {
            for (const problem of args.container(ref, pod)) {
                report(`${subject}: ${ref.label} ${problem}`);
            }
        }
    }
}

/** A resource policy over the pods of every Pod, workload and CronJob. */
export function podPolicy(args: PodPolicyArgs): ResourceValidationPolicy {
    return {
        name: args.name,
        description: args.description,
        remediationSteps: args.remediationSteps,
        enforcementLevel: args.enforcementLevel ?? "mandatory",
        configSchema: {
            properties: { ...scopeSchema(defaultExemptions(args.name)), ...args.configSchema },
        },
        validateResource: (resource, report) => checkPods(args, resource, report),
    };
}

/** The effective value of a security setting: the container's, else the pod's. */
export function effective<T>(container: Json, pod: PodContext, read: (context: Json) => T | undefined): T | undefined {
    const own = container.securityContext ? read(container.securityContext) : undefined;
    if (own !== undefined && own !== null) {
        return own;
    }
    const podContext = pod.template.spec.securityContext;
    return podContext ? read(podContext) ?? undefined : undefined;
}
