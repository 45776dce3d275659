import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./workload";

/**
 * The certificate of ingress-nginx's validating admission webhook. The chart makes it with two
 * Helm hook Jobs (kube-webhook-certgen `create`, then `patch`), but `helm.v4.Chart` renders charts
 * with hooks disabled: without this component the controller pods wait forever for the
 * `<release>-admission` Secret and the webhook has no CA bundle. It runs the same two steps as
 * ordinary Jobs, with the same least-privilege RBAC, under Pod Security `restricted`.
 */

/** kube-webhook-certgen as pinned by chart 4.15.1. */
export const CERTGEN_IMAGE =
    "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.9@sha256:01038e7de14b78d702d2849c3aad72fd25903c4765af63cf16aa3398f5d5f2dd";
/** The image's non-root user. */
const CERTGEN_UID = 65532;

/** The chart's fullname for `release` (the release name when it already names the chart). */
export function ingressNginxFullname(release: string): string {
    return release.includes("ingress-nginx") ? release : `${release}-ingress-nginx`;
}

/** Arguments of {@link IngressNginxAdmission}. */
export interface IngressNginxAdmissionArgs {
    /** Namespace of the controller. */
    namespace: pulumi.Input<string>;
    /** Helm release name of the controller. */
    release: string;
    /** The chart that renders the ValidatingWebhookConfiguration; the patch step waits for it. */
    chart: pulumi.Resource;
    /** Changes whenever the chart may have re-created the webhook, so the patch step runs again. */
    chartRevision: string;
    /** The webhook's failure policy, as the chart sets it. */
    failurePolicy?: "Fail" | "Ignore";
    /** Labels added to every object. */
    labels?: Record<string, string>;
    /** The certgen image; defaults to the pinned one. */
    image?: pulumi.Input<string>;
}

/** The args of the two kube-webhook-certgen steps for the controller of `release`. */
export function certgenArgs(release: string, failurePolicy: "Fail" | "Ignore" = "Fail"): { create: string[]; patch: string[] } {
    const fullname = ingressNginxFullname(release);
    const webhook = `${fullname}-admission`;
    const service = `${fullname}-controller-admission`;
    return {
        create: ["create", `--host=${service},${service}.$(POD_NAMESPACE).svc`, "--namespace=$(POD_NAMESPACE)", `--secret-name=${webhook}`],
        patch: [
            "patch",
            `--webhook-name=${webhook}`,
            "--namespace=$(POD_NAMESPACE)",
            "--patch-mutating=false",
            `--secret-name=${webhook}`,
            `--patch-failure-policy=${failurePolicy}`,
        ],
    };
}

/** A short hash that names a chart revision (source, version, values), for {@link IngressNginxAdmissionArgs.chartRevision}. */
export function revisionOf(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** Creates the admission webhook's certificate and gives its CA to the webhook. */
export class IngressNginxAdmission extends pulumi.ComponentResource {
    constructor(name: string, args: IngressNginxAdmissionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:IngressNginxAdmission", name, {}, opts);
        const webhook = `${ingressNginxFullname(args.release)}-admission`;
        const labels = { ...args.labels, "app.kubernetes.io/component": "admission-webhook" };
        const metadata = { name: webhook, namespace: args.namespace, labels };
        const steps = certgenArgs(args.release, args.failurePolicy);

        const account = new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata }, { parent: this });
        const role = new k8s.rbac.v1.Role(`${name}-role`, {
            metadata,
            rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "create"] }],
        }, { parent: this });
        const roleBinding = new k8s.rbac.v1.RoleBinding(`${name}-role`, {
            metadata,
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: args.namespace }],
        }, { parent: this });
        // Only this one webhook configuration, unlike the chart's rule over all of them.
        const clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-cluster-role`, {
            metadata: { name: webhook, labels },
            rules: [{ apiGroups: ["admissionregistration.k8s.io"], resources: ["validatingwebhookconfigurations"], resourceNames: [webhook], verbs: ["get", "update"] }],
        }, { parent: this });
        const clusterRoleBinding = new k8s.rbac.v1.ClusterRoleBinding(`${name}-cluster-role`, {
            metadata: { name: webhook, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
            subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: args.namespace }],
        }, { parent: this });

        const job = (step: "create" | "patch", revision: string): k8s.types.input.batch.v1.JobSpec => ({
            backoffLimit: 6,
            activeDeadlineSeconds: 600,
            template: {
                metadata: { labels, annotations: { "catalyst.dev/chart-revision": revision } },
                spec: {
                    restartPolicy: "OnFailure",
                    serviceAccountName: account.metadata.name,
                    securityContext: restrictedPodSecurityContext(CERTGEN_UID),
                    containers: [{
                        name: step,
                        image: args.image ?? CERTGEN_IMAGE,
                        args: steps[step],
                        env: [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
                        // A one-shot certificate generator: small, fixed limits.
                        resources: { requests: { cpu: "10m", memory: "20Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
                        securityContext: restrictedContainerSecurityContext(),
                    }],
                },
            },
        });
        // The Secret outlives the Job: `create` keeps an existing certificate, so it runs once. The
        // controller pods wait for the Secret meanwhile; the chart does not wait for this Job, as
        // the patch step below must wait for the chart.
        const createJob = new k8s.batch.v1.Job(`${name}-create`, {
            metadata: { ...metadata, name: `${webhook}-create` },
            spec: job("create", "initial"),
        }, { parent: this, dependsOn: [role, roleBinding] });
        new k8s.batch.v1.Job(`${name}-patch`, {
            metadata: { ...metadata, name: `${webhook}-patch` },
            spec: job("patch", args.chartRevision),
        }, { parent: this, dependsOn: [args.chart, createJob, clusterRoleBinding] });
        this.registerOutputs({});
    }
}
