import { StackIdentity, toLabelValue } from "../naming";

/**
 * Labels every object of an environment carries. `catalyst.dev/environment` is what the
 * teardown check counts (`kubectl get ... -l catalyst.dev/environment=<stack>`), so every
 * object, including those the environment creates in platform namespaces, must carry it.
 */

/** The stack (environment) an object belongs to. */
export const ENVIRONMENT_LABEL = "catalyst.dev/environment";
/** The kind of environment: preview, development, staging or production. */
export const TYPE_LABEL = "catalyst.dev/type";
/** The pull request of a preview environment. */
export const PR_LABEL = "catalyst.dev/pr";
/** The git branch an environment was built from. */
export const BRANCH_LABEL = "catalyst.dev/branch";
/** The part of an environment a pod belongs to (app, redis, workspace); network policies select on it. */
export const COMPONENT_LABEL = "catalyst.dev/component";
/** `"true"` on a pod template that calls the Kubernetes API: the policy pack then allows its token. */
export const NEEDS_API_LABEL = "catalyst.dev/needs-api";

/** Labels of the environment's Namespace: environment, type, and PR and branch when known. */
export function namespaceLabels(identity: StackIdentity, branch?: string): Record<string, string> {
    const labels: Record<string, string> = {
        [ENVIRONMENT_LABEL]: toLabelValue(identity.stack),
        [TYPE_LABEL]: identity.kind,
    };
    if (identity.pr !== undefined) {
        labels[PR_LABEL] = String(identity.pr);
    }
    if (branch !== undefined && branch !== "") {
        labels[BRANCH_LABEL] = toLabelValue(branch);
    }
    return labels;
}

/** Labels of any object of the environment `stack`, optionally naming its component. */
export function objectLabels(stack: string, component?: string): Record<string, string> {
    const labels: Record<string, string> = {
        [ENVIRONMENT_LABEL]: toLabelValue(stack),
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "catalyst",
    };
    if (component !== undefined) {
        labels[COMPONENT_LABEL] = toLabelValue(component);
    }
    return labels;
}

/** The selector of the pods of one component (stable: never includes mutable labels). */
export function componentSelector(stack: string, component: string): Record<string, string> {
    return { [ENVIRONMENT_LABEL]: toLabelValue(stack), [COMPONENT_LABEL]: toLabelValue(component) };
}

/** The Kubernetes provider's annotation: apply without awaiting the object's readiness. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/**
 * Annotations of a Service that is created after the Deployment it selects (`dependsOn`). The
 * Kubernetes provider's own await for a Service waits until its Endpoints target a pod and then
 * 10 s more after the last Endpoints change ("settling"), a fixed 10 s per Service that ran
 * twice in series in every preview (docs/performance.md). It is skipped here because what it
 * would prove is already proven: the Deployment's await (Available: every replica Ready) has
 * finished before the Service is created, the selector is the pod template's own
 * {@link componentSelector} and the target ports are the container's named ports (both checked
 * by test/unit/environment/inventory.test.ts), and the Ingress await still waits for the
 * Endpoints of the Service it routes to.
 */
export const SERVICE_ANNOTATIONS: Readonly<Record<string, string>> = { [SKIP_AWAIT_ANNOTATION]: "true" };
