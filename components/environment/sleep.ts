import * as pulumi from "@pulumi/pulumi";
import { SKIP_AWAIT_ANNOTATION } from "./labels";

export { SKIP_AWAIT_ANNOTATION };

/**
 * What an environment looks like asleep (`catalyst:sleep`, set by `catalyst preview sleep`):
 * every Deployment and StatefulSet at zero replicas, CronJobs suspended, a dedicated CloudNativePG
 * cluster hibernated, and every Ingress marked so that the platform answers its host. Volumes,
 * Secrets, Services, the database and the Ingress itself stay, so the same URL comes back on wake.
 *
 * One stack transform does it, so it reaches the objects of the app's chart or manifest directory
 * as much as the program's own: nothing in a component has to know about sleep. All pure.
 */

/** Annotation of every Ingress of a sleeping environment: since when it sleeps (ISO time). */
export const SLEEPING_SINCE_ANNOTATION = "catalyst.dev/sleeping-since";

/**
 * ingress-nginx: answers of the (scaled to zero, so endpoint-less) backend with these codes go to
 * the controller's default backend, which the platform points at its catalyst-api (the sleeping
 * page). A Low-risk annotation that names no address, so the admission rule that keeps an
 * environment's Ingress on its own namespace's Services (OFF_NAMESPACE_ANNOTATIONS) is untouched.
 */
export const CUSTOM_ERRORS_ANNOTATION = "nginx.ingress.kubernetes.io/custom-http-errors";

/** The status codes a sleeping environment's Ingress hands to the platform (no endpoints: 502, 503). */
export const SLEEPING_ERROR_CODES = "502,503";


/** CloudNativePG's hibernation annotation: the instances stop, the PVCs stay. */
export const CNPG_HIBERNATION_ANNOTATION = "cnpg.io/hibernation";

const SCALED_TYPES = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"];
const CRONJOB_TYPE = "kubernetes:batch/v1:CronJob";
const INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress";
const CNPG_CLUSTER_TYPE = "kubernetes:postgresql.cnpg.io/v1:Cluster";

type Props = Record<string, unknown> & { metadata?: Record<string, unknown>; spec?: Record<string, unknown> };

function annotate(props: Props, annotations: Record<string, string>): Props {
    const metadata = props.metadata ?? {};
    const existing = (metadata.annotations ?? {}) as Record<string, string>;
    return { ...props, metadata: { ...metadata, annotations: { ...existing, ...annotations } } };
}

/**
 * The properties of one object of a sleeping environment (`since`: ISO time), or undefined when
 * sleep does not change it. Exported for tests.
 */
export function sleepingProps(type: string, props: Props, since: string): Props | undefined {
    if (SCALED_TYPES.includes(type)) {
        return { ...props, spec: { ...(props.spec ?? {}), replicas: 0 } };
    }
    if (type === CRONJOB_TYPE) {
        return { ...props, spec: { ...(props.spec ?? {}), suspend: true } };
    }
    if (type === INGRESS_TYPE) {
        // No readiness await: the backends are at zero on purpose, and the provider's Ingress await
        // now and then recorded the Ingress as before the apply (a change in every later preview).
        return annotate(props, { [CUSTOM_ERRORS_ANNOTATION]: SLEEPING_ERROR_CODES, [SLEEPING_SINCE_ANNOTATION]: since, [SKIP_AWAIT_ANNOTATION]: "true" });
    }
    if (type === CNPG_CLUSTER_TYPE) {
        return annotate(props, { [CNPG_HIBERNATION_ANNOTATION]: "on" });
    }
    return undefined;
}

/** The stack transform of a sleeping environment (see {@link sleepingProps}). */
export function sleepTransform(since: string): pulumi.ResourceTransform {
    return (args) => {
        if (!args.custom) return undefined;
        const props = sleepingProps(args.type, args.props as Props, since);
        return props === undefined ? undefined : { props, opts: args.opts };
    };
}

/**
 * Puts the whole stack to sleep: every resource registered after this call passes through
 * {@link sleepTransform}. Called first thing by the environment program when `catalyst:sleep`
 * is set; a stack without it (awake) registers nothing, so waking restores the configured values.
 */
export function registerSleep(since: string): void {
    pulumi.runtime.registerResourceTransform(sleepTransform(since));
}
