import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { controllerClusterRules, controllerNamespaceRules } from "./controlPlaneRbac";
import { createNamespace } from "./namespace";
import { ResourceRequests, restrictedContainerSecurityContext, restrictedPodSecurityContext, spreadOverNodes } from "./workload";

/**
 * The control plane in the cluster: the Project and Environment CRDs, and `catalyst controller`
 * as a Deployment (replicas spread over nodes, a PodDisruptionBudget, Pod Security `restricted`,
 * requests and limits) under a ServiceAccount of its own with the rules of controlPlaneRbac.ts.
 * The replicas share the Pulumi state backend and passphrase through a Secret the operator
 * creates (`stateSecret`: keys `backendUrl` and `passphrase`); see README "The control plane".
 */

/** The UID the control-plane image runs as (the Dockerfile's `USER`). */
export const CONTROL_PLANE_UID = 10001;
/** Port of the controller's health and metrics endpoint. */
export const CONTROLLER_METRICS_PORT = 9090;

/**
 * A CRD schema in the Pulumi SDK's spelling: `x-kubernetes-*` keys become `x_kubernetes_*`
 * (Pulumi property names have no hyphens; the provider turns them back).
 */
export function pulumiSchemaKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(pulumiSchemaKeys);
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [
        key.startsWith("x-kubernetes-") ? key.replace(/-/g, "_") : key,
        // Property names under `properties` are the user's, never renamed; their schemas are.
        key === "properties"
            ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).map(([name, schema]) => [name, pulumiSchemaKeys(schema)]))
            : pulumiSchemaKeys(inner),
    ]));
}

/** Arguments of {@link ControlPlane}. */
export interface ControlPlaneArgs {
    /** The namespace of the control plane (`catalyst-system`), where Projects and Environments live. */
    namespace: string;
    /** The CustomResourceDefinitions to install (stacks/resources/crd.ts). */
    customResourceDefinitions: Record<string, unknown>[];
    /**
     * Resources of those CRDs to create with them (the default Project). Created once: their spec
     * is the operator's to change afterwards, and a later `up` leaves it.
     */
    seedResources?: Record<string, unknown>[];
    /** API group of the CRDs (for the controller's Role). */
    group: string;
    /** The control-plane image, pinned. */
    image: pulumi.Input<string>;
    /** Controller replicas. */
    replicas: number;
    /** Stack operations each replica runs at once. */
    concurrency: number;
    /** The Secret holding `backendUrl` and `passphrase` (created by the operator, never by this stack). */
    stateSecret: string;
    /** Requests of a replica. */
    requests: ResourceRequests;
    /** Limits of a replica. */
    limits: ResourceRequests;
    /** Labels of every object. */
    labels: Record<string, string>;
}

/** The control plane: CRDs, namespace, ServiceAccount and RBAC, controller Deployment and PDB. */
export class ControlPlane extends pulumi.ComponentResource {
    /** The control plane's namespace. */
    public readonly namespace: pulumi.Output<string>;
    /** The controller's ServiceAccount. */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** Names of the installed CRDs. */
    public readonly crdNames: pulumi.Output<string[]>;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:ControlPlane", name, {}, opts);
        const parent = { parent: this };
        const crds = args.customResourceDefinitions.map((definition) => {
            const crdName = (definition.metadata as { name: string }).name;
            return new k8s.apiextensions.v1.CustomResourceDefinition(`${name}-${crdName.split(".")[0]}`, {
                spec: pulumiSchemaKeys(definition.spec) as k8s.types.input.apiextensions.v1.CustomResourceDefinitionSpec,
                metadata: { name: crdName, labels: args.labels },
            }, parent);
        });
        const namespace = createNamespace(name, { name: args.namespace, podSecurity: "restricted", labels: args.labels }, parent);
        const ns = namespace.metadata.name;
        for (const seed of args.seedResources ?? []) {
            const { apiVersion, kind, metadata, ...rest } = seed as { apiVersion: string; kind: string; metadata: { name: string } };
            new k8s.apiextensions.CustomResource(`${name}-${kind.toLowerCase()}-${metadata.name}`, {
                apiVersion, kind,
                metadata: { ...metadata, namespace: ns, labels: args.labels },
                ...rest,
            }, { ...parent, dependsOn: crds, ignoreChanges: ["spec"] });
        }
        const selector = { "app.kubernetes.io/name": "catalyst-controller", "app.kubernetes.io/instance": name };
        const labels = { ...args.labels, ...selector };

        const account = new k8s.core.v1.ServiceAccount(`${name}-controller`, {
            metadata: { name: "catalyst-controller", namespace: ns, labels },
            // Mounted only into the controller's pods, which opt in below.
            automountServiceAccountToken: false,
        }, parent);
        const subject = [{ kind: "ServiceAccount", name: account.metadata.name, namespace: ns }];
        const role = new k8s.rbac.v1.Role(`${name}-controller`, {
            metadata: { name: "catalyst-controller", namespace: ns, labels },
            rules: controllerNamespaceRules(args.group),
        }, parent);
        new k8s.rbac.v1.RoleBinding(`${name}-controller`, {
            metadata: { name: "catalyst-controller", namespace: ns, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: subject,
        }, parent);
        const clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-controller`, {
            metadata: { name: "catalyst-controller", labels },
            rules: controllerClusterRules(),
        }, parent);
        new k8s.rbac.v1.ClusterRoleBinding(`${name}-controller`, {
            metadata: { name: "catalyst-controller", labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
            subjects: subject,
        }, parent);

        const fromSecret = (key: string) => ({ secretKeyRef: { name: args.stateSecret, key } });
        new k8s.apps.v1.Deployment(`${name}-controller`, {
            metadata: { name: "catalyst-controller", namespace: ns, labels },
            spec: {
                replicas: args.replicas,
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels },
                    spec: {
                        serviceAccountName: account.metadata.name,
                        automountServiceAccountToken: true,
                        securityContext: restrictedPodSecurityContext(CONTROL_PLANE_UID),
                        affinity: spreadOverNodes(selector),
                        containers: [{
                            name: "controller",
                            image: args.image,
                            args: ["controller", "--namespace", args.namespace, "--concurrency", String(args.concurrency), "--metrics-port", String(CONTROLLER_METRICS_PORT)],
                            env: [
                                { name: "CATALYST_CONTROLLER_IDENTITY", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                                { name: "PULUMI_BACKEND_URL", valueFrom: fromSecret("backendUrl") },
                                { name: "PULUMI_CONFIG_PASSPHRASE", valueFrom: fromSecret("passphrase") },
                                { name: "CATALYST_WORK_ROOT", value: "/work" },
                                { name: "HOME", value: "/work/home" },
                            ],
                            ports: [{ name: "metrics", containerPort: CONTROLLER_METRICS_PORT }],
                            readinessProbe: { httpGet: { path: "/readyz", port: "metrics" }, periodSeconds: 10 },
                            livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 20, failureThreshold: 3 },
                            resources: { requests: args.requests, limits: args.limits },
                            securityContext: restrictedContainerSecurityContext(),
                            volumeMounts: [{ name: "work", mountPath: "/work" }, { name: "tmp", mountPath: "/tmp" }],
                        }],
                        volumes: [{ name: "work", emptyDir: { sizeLimit: "4Gi" } }, { name: "tmp", emptyDir: { sizeLimit: "1Gi" } }],
                    },
                },
            },
        }, { ...parent, dependsOn: crds });
        new k8s.policy.v1.PodDisruptionBudget(`${name}-controller`, {
            metadata: { name: "catalyst-controller", namespace: ns, labels },
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        }, parent);

        this.namespace = ns;
        this.serviceAccountName = account.metadata.name;
        this.crdNames = pulumi.all(crds.map((crd) => crd.metadata.name));
        this.registerOutputs({ namespace: this.namespace, serviceAccountName: this.serviceAccountName, crdNames: this.crdNames });
    }
}
