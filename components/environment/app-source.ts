import * as pulumi from "@pulumi/pulumi";

/**
 * Keeps what a Helm chart or a manifest directory creates inside the environment's namespace.
 * The deployer's credentials can create anything, so the program, not the chart, decides where
 * objects go: namespaced objects are moved into the environment's namespace, and cluster-scoped
 * ones (a ClusterRoleBinding above all) are refused.
 */

/** Kinds that exist outside namespaces; an environment's app may create none of them. */
export const CLUSTER_SCOPED_KINDS: readonly string[] = [
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CSIDriver", "CSINode", "VolumeAttachment",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService", "PriorityClass",
    "RuntimeClass", "IngressClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding", "CertificateSigningRequest", "FlowSchema", "PriorityLevelConfiguration",
    "ClusterTrustBundle", "DeviceClass",
];

/** The Kubernetes kind of a resource type token (`kubernetes:rbac.authorization.k8s.io/v1:ClusterRole`). */
export function kindOfType(type: string): string {
    return type.split(":").pop() ?? type;
}

/**
 * A resource transform for the children of a chart or manifest set, for `key` (the config key
 * named in errors): sets `metadata.namespace` of every Kubernetes object, and throws for
 * cluster-scoped kinds. Resources other than Kubernetes objects pass unchanged.
 */
export function namespacedOnly(namespace: string, key: string): pulumi.ResourceTransform {
    return (args) => {
        if (!args.custom || !args.type.startsWith("kubernetes:") || args.type.startsWith("kubernetes:helm.sh")) {
            return undefined;
        }
        const kind = kindOfType(args.type);
        if (CLUSTER_SCOPED_KINDS.includes(kind)) {
            // A RunError: a configuration mistake is shown as its message, without a stack trace.
            throw new pulumi.RunError(
                `${key}: creates a ${kind} (${args.name}); an environment may only create objects inside its ` +
                    `namespace. Turn it off in the chart values or remove it from the manifests.`,
            );
        }
        const props = args.props as { metadata?: Record<string, unknown> };
        return { props: { ...props, metadata: { ...(props.metadata ?? {}), namespace } }, opts: args.opts };
    };
}
