import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartSource, chartLocation, INGRESS_NGINX_CHART, mergeValues, repositorySource } from "./charts";
import { IngressControllerOutputs } from "./ingressController";
import { IngressNginxAdmission, ingressNginxFullname, revisionOf } from "./ingressNginxAdmission";
import { createNamespace, serviceHost } from "./namespace";
import { ResourceLimits, ResourceRequests } from "./workload";

/**
 * How much an Ingress annotation may change nginx's configuration. ingress-nginx refuses
 * annotations above the configured level (https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#annotations-risk-level).
 */
export type AnnotationsRiskLevel = "Low" | "Medium" | "High" | "Critical";

/** Arguments of {@link IngressNginx}. */
export interface IngressNginxArgs {
    /** Where the chart comes from; defaults to the upstream repository at the pinned version. */
    chart?: ChartSource;
    /** Namespace to create and install into; defaults to `ingress-nginx`. */
    namespace?: string;
    /** Helm release name, the prefix of every object the chart names; defaults to `ingress-nginx`. */
    releaseName?: string;
    /** IngressClass to create and mark as the cluster default; defaults to `nginx`. */
    className?: string;
    /** Controller replicas; defaults to 2. With more than one, the chart adds a PodDisruptionBudget. */
    replicas?: pulumi.Input<number>;
    /** Type of the controller Service: `ClusterIP` behind the Cloudflare tunnel, or `LoadBalancer`. */
    serviceType?: pulumi.Input<"ClusterIP" | "LoadBalancer">;
    /**
     * Whether the validating admission webhook is installed, with the Jobs that make its
     * certificate; defaults to true. A plain value: it decides which resources exist.
     */
    admissionWebhooks?: boolean;
    /** Highest annotation risk level the controller accepts; defaults to `Medium`. */
    annotationsRiskLevel?: pulumi.Input<AnnotationsRiskLevel>;
    /** Controller requests; defaults to 100m CPU and 128Mi memory. */
    requests?: pulumi.Input<ResourceRequests>;
    /** Controller limits; defaults to {@link DEFAULT_INGRESS_LIMITS}. */
    limits?: pulumi.Input<ResourceLimits>;
    /**
     * Whether the controller's root file system is read-only, its writable paths being emptyDir
     * volumes (see {@link readOnlyRootValues}); defaults to true. A plain value: it decides the pod's shape.
     */
    readOnlyRootFilesystem?: boolean;
    /** Labels added to every object the chart renders (`commonLabels`) and to the controller pods. */
    labels?: Record<string, string>;
    /**
     * The controller's default backend (`<namespace>/<service>`): it answers hosts no Ingress
     * names and, for Ingresses marked with `custom-http-errors`, their backends' errors. The
     * platform points it at its catalyst-api, which shows a sleeping preview's page
     * (components/environment/sleep.ts). Unset: the controller's built-in 404.
     */
    defaultBackendService?: string;
    /** Escape hatch: chart values merged over the computed ones, for settings not modelled here. */
    values?: Record<string, unknown>;
}

const DEFAULT_RELEASE = "ingress-nginx";

/** Production limits of the controller: nginx workers grow with connections and configuration size. */
export const DEFAULT_INGRESS_LIMITS: ResourceLimits = { cpu: "1", memory: "1Gi" };

/** The controller image the pinned chart runs (its values' tag and digest); the init container copies from it. */
export const INGRESS_NGINX_CONTROLLER_IMAGE =
    "registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1";

/** The controller image's user and group (www-data); the chart says they must not change. */
const CONTROLLER_UID = 101;
const CONTROLLER_GID = 82;

/**
 * What the controller writes at run time, each an emptyDir so that the root file system can be
 * read-only: the nginx configuration it renders (`/etc/nginx/nginx.conf`, `lua/cfg.json`; the
 * directory also holds the image's templates and Lua code, which an init container copies in
 * first), the certificates and auth files it materialises from Secrets (`/etc/ingress-controller`),
 * and nginx's temporary files and sockets (`/tmp`). Upstream does not test this mode (it is not
 * the chart's default); containers do not run on the local cluster, so a real cluster is where
 * it is proven (docs/security.md).
 */
export const CONTROLLER_WRITABLE_PATHS: readonly { name: string; mountPath: string; sizeLimit: string }[] = [
    { name: "etc-nginx", mountPath: "/etc/nginx", sizeLimit: "64Mi" },
    { name: "ingress-controller", mountPath: "/etc/ingress-controller", sizeLimit: "64Mi" },
    { name: "tmp", mountPath: "/tmp", sizeLimit: "1Gi" },
];

/** Chart values that make the controller's root file system read-only (see {@link CONTROLLER_WRITABLE_PATHS}). */
export function readOnlyRootValues(): Record<string, unknown> {
    const seed = "/seed/etc-nginx";
    return {
        image: { readOnlyRootFilesystem: true },
        extraVolumes: CONTROLLER_WRITABLE_PATHS.map((p) => ({ name: p.name, emptyDir: { sizeLimit: p.sizeLimit } })),
        extraVolumeMounts: CONTROLLER_WRITABLE_PATHS.map((p) => ({ name: p.name, mountPath: p.mountPath })),
        extraInitContainers: [{
            name: "copy-nginx-config",
            image: INGRESS_NGINX_CONTROLLER_IMAGE,
            // The image's /etc/nginx (templates, Lua, mime types) into the writable volume.
            command: ["cp", "-R", "/etc/nginx/.", `${seed}/`],
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
            securityContext: {
                runAsNonRoot: true,
                runAsUser: CONTROLLER_UID,
                runAsGroup: CONTROLLER_GID,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
            },
            volumeMounts: [{ name: "etc-nginx", mountPath: seed }],
        }],
    };
}
const DEFAULT_CLASS = "nginx";

/** Name of the controller Service the chart creates for release `release`. */
export function ingressNginxServiceName(release: string): string {
    return `${ingressNginxFullname(release)}-controller`;
}

/**
 * The chart values of the hardened controller. Why each setting:
 * - snippet annotations off and annotation validation on: snippets inject raw nginx config, and
 *   tenants (every preview environment) can write Ingresses;
 * - annotations risk level `Medium` (upstream default `Critical`): keeps the everyday annotations
 *   (body size, timeouts, rewrites of the Low/Medium kind) and refuses the High and Critical ones,
 *   the classes behind the past configuration-injection CVEs; raise it per cluster if a trusted
 *   team needs more;
 * - the IngressClass is the default, so Ingresses without a class are not silently ignored;
 * - requests and limits set, metrics on, pods spread over nodes, and with >= 2 replicas the chart's
 *   PodDisruptionBudget (minAvailable 1) keeps one controller through node drains;
 * - a read-only root file system with emptyDir volumes for what the controller writes;
 * - liveness and readiness stay the chart's: the controller offers one health endpoint (`/healthz`).
 */
export function ingressNginxValues(args: IngressNginxArgs): Record<string, unknown> {
    const release = args.releaseName ?? DEFAULT_RELEASE;
    const className = args.className ?? DEFAULT_CLASS;
    const labels = args.labels ?? {};
    const readOnly = args.readOnlyRootFilesystem ?? true;
    const computed: Record<string, unknown> = {
        commonLabels: labels,
        controller: {
            ...(readOnly ? readOnlyRootValues() : {}),
            replicaCount: args.replicas ?? 2,
            minAvailable: 1,
            ingressClass: className,
            ingressClassResource: { name: className, enabled: true, default: true },
            watchIngressWithoutClass: false,
            allowSnippetAnnotations: false,
            enableAnnotationValidations: true,
            config: {
                "annotations-risk-level": args.annotationsRiskLevel ?? "Medium",
                "strict-validate-path-type": "true",
                "server-tokens": "false",
            },
            resources: { requests: args.requests ?? { cpu: "100m", memory: "128Mi" }, limits: args.limits ?? DEFAULT_INGRESS_LIMITS },
            metrics: { enabled: true },
            service: { type: args.serviceType ?? "ClusterIP" },
            admissionWebhooks: { enabled: args.admissionWebhooks ?? true },
            ...(args.defaultBackendService === undefined ? {} : { extraArgs: { "default-backend-service": args.defaultBackendService } }),
            podLabels: labels,
            topologySpreadConstraints: [
                {
                    maxSkew: 1,
                    topologyKey: "kubernetes.io/hostname",
                    whenUnsatisfiable: "ScheduleAnyway",
                    labelSelector: {
                        matchLabels: {
                            "app.kubernetes.io/name": "ingress-nginx",
                            "app.kubernetes.io/instance": release,
                            "app.kubernetes.io/component": "controller",
                        },
                    },
                },
            ],
        },
        defaultBackend: { enabled: false },
    };
    return mergeValues(computed, args.values);
}

/**
 * ingress-nginx installed from its Helm chart with hardened defaults, in its own namespace, plus
 * (with the admission webhook on) the Jobs that make the webhook's certificate, which the chart
 * would make with Helm hooks that `helm.v4.Chart` does not run. The namespace enforces Pod
 * Security `restricted`: the controller runs as user 101 without privilege escalation, drops
 * every capability but NET_BIND_SERVICE (which `restricted` allows) and uses the RuntimeDefault
 * seccomp profile; the certificate Jobs run as a non-root user with nothing added.
 */
export class IngressNginx extends pulumi.ComponentResource implements IngressControllerOutputs {
    /** IngressClass that Ingresses attach to. */
    public readonly className: pulumi.Output<string>;
    /** Namespace of the controller. */
    public readonly namespace: pulumi.Output<string>;
    /** Name of the controller Service. */
    public readonly serviceName: pulumi.Output<string>;
    /** In-cluster DNS name of the controller Service. */
    public readonly serviceHost: pulumi.Output<string>;
    /** The Helm chart; other resources may depend on it. */
    public readonly chart: k8s.helm.v4.Chart;

    constructor(name: string, args: IngressNginxArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:IngressNginx", name, {}, opts);
        const namespaceName = args.namespace ?? "ingress-nginx";
        const release = args.releaseName ?? DEFAULT_RELEASE;
        const namespace = createNamespace(
            name,
            { name: namespaceName, podSecurity: "restricted", labels: args.labels },
            { parent: this },
        );
        const location = chartLocation(args.chart ?? repositorySource(INGRESS_NGINX_CHART));
        this.chart = new k8s.helm.v4.Chart(
            `${name}-chart`,
            {
                ...location,
                name: release,
                namespace: namespace.metadata.name,
                values: ingressNginxValues(args),
                skipAwait: false,
            },
            { parent: this },
        );
        if (args.admissionWebhooks ?? true) {
            new IngressNginxAdmission(`${name}-admission`, {
                namespace: namespace.metadata.name,
                release,
                chart: this.chart,
                chartRevision: revisionOf(location),
                labels: args.labels,
            }, { parent: this });
        }
        // Every output is derived from the chart, so whatever uses the class or the Service
        // waits for the controller to be installed.
        const installed = pulumi.all([namespace.metadata.name, this.chart.urn]);
        const service = ingressNginxServiceName(release);
        this.className = installed.apply(() => args.className ?? DEFAULT_CLASS);
        this.namespace = installed.apply(([ns]) => ns);
        this.serviceName = installed.apply(() => service);
        this.serviceHost = installed.apply(([ns]) => serviceHost(service, ns));
        this.registerOutputs({
            className: this.className,
            namespace: this.namespace,
            serviceName: this.serviceName,
            serviceHost: this.serviceHost,
        });
    }
}
