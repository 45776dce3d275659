import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { createNamespace } from "./namespace";
import { dockerConfigJson, htpasswdLine, REGISTRY_METRICS_PORT, REGISTRY_PORT, registryConfigFile, registryHost, RegistryStorage } from "./registryConfig";
import { registryDeploymentSpec, registryGcCronJobSpec, RegistryWorkloadOptions } from "./registryWorkload";
import { ResourceRequests } from "./workload";

/** Arguments of {@link ImageRegistry}. */
export interface ImageRegistryArgs {
    /** Base domain; the registry is served at `registry.<domain>`. */
    domain: string;
    /** IngressClass of the registry's Ingress. */
    ingressClassName: pulumi.Input<string>;
    /** Where layers are stored (decides the resources created, so it is a plain value). */
    storage: RegistryStorage;
    /** Static S3 credentials (secrets); without them the pod's cloud identity is used. */
    s3Credentials?: { accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
    /** Namespace to create and run in; defaults to `registry`. */
    namespace?: string;
    /** The user that pushes and pulls; defaults to `catalyst`. */
    username?: string;
    /** Where the generated passwords come from; defaults to `random`. */
    passwordSource?: PasswordSource;
    /** Requests of the registry container; defaults to 50m CPU and 128Mi memory. */
    requests?: pulumi.Input<ResourceRequests>;
    /** Cron schedule of garbage collection (cluster time zone); defaults to 03:30 daily. */
    gcSchedule?: pulumi.Input<string>;
    /** The registry image; defaults to the pinned Distribution 3.x image. */
    image?: pulumi.Input<string>;
    /** Labels added to every object. */
    labels?: Record<string, string>;
}

/**
 * A private image registry (Docker Distribution) for the environments: htpasswd auth with a
 * generated password, a PVC or S3 for layers, an Ingress at `registry.<domain>`, a nightly
 * garbage collection, and a pull secret for environments. Its namespace enforces Pod Security
 * `restricted`: the registry needs no privilege, no root and no writable root file system.
 */
export class ImageRegistry extends pulumi.ComponentResource {
    /** Public host (`registry.<domain>`). */
    public readonly host: pulumi.Output<string>;
    /** Namespace the registry runs in. */
    public readonly namespace: pulumi.Output<string>;
    /** Name of the in-cluster Service. */
    public readonly serviceName: pulumi.Output<string>;
    /** `.dockerconfigjson` content for pulling (a secret). */
    public readonly pullSecret: pulumi.Output<string>;

    constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:platform:ImageRegistry", name, {}, opts);
        const host = registryHost(args.domain);
        const username = args.username ?? "catalyst";
        const labels = { ...args.labels, "app.kubernetes.io/name": "registry", "app.kubernetes.io/instance": name };
        const selector = { "app.kubernetes.io/name": "registry", "app.kubernetes.io/instance": name };
        const ns = createNamespace(name, { name: args.namespace ?? "registry", podSecurity: "restricted", labels: args.labels }, { parent: this });
        const namespace = ns.metadata.name;
        const meta = (suffix: string) => ({ name: suffix === "" ? name : `${name}-${suffix}`, namespace, labels });

        const password = new GeneratedPassword(`${name}-password`, { length: 32, source: args.passwordSource }, { parent: this });
        const httpSecret = new GeneratedPassword(`${name}-http-secret`, { length: 48, source: args.passwordSource }, { parent: this });
        const withS3Credentials = args.storage.kind === "s3" && args.s3Credentials !== undefined;

        new k8s.core.v1.Secret(`${name}-auth`, {
            metadata: meta("auth"),
            type: "Opaque",
            stringData: { htpasswd: password.bcryptHash.apply((hash) => htpasswdLine(username, hash)) },
        }, { parent: this });
        new k8s.core.v1.Secret(`${name}-http`, {
            metadata: meta("http"),
            type: "Opaque",
            stringData: {
                "http-secret": httpSecret.value,
                ...(withS3Credentials && args.s3Credentials
                    ? { "s3-access-key": args.s3Credentials.accessKeyId, "s3-secret-key": args.s3Credentials.secretAccessKey }
                    : {}),
            },
        }, { parent: this });
        const config = registryConfigFile(args.storage);
        new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: meta("config"), data: { "config.yml": config.text } }, { parent: this });
        if (args.storage.kind === "pvc") {
            new k8s.core.v1.PersistentVolumeClaim(`${name}-data`, {
                metadata: meta("data"),
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: args.storage.storageClass,
                    resources: { requests: { storage: args.storage.size } },
                },
            }, { parent: this });
        }

        const workload: RegistryWorkloadOptions = { name, storage: args.storage, withS3Credentials, labels, selector, image: args.image };
        const deployment = new k8s.apps.v1.Deployment(name, {
            metadata: meta(""),
            spec: registryDeploymentSpec(workload, config.hash, args.requests),
        }, { parent: this });
        const service = new k8s.core.v1.Service(name, {
            metadata: meta(""),
            spec: {
                type: "ClusterIP",
                selector,
                ports: [
                    { name: "http", port: REGISTRY_PORT, targetPort: "http" },
                    { name: "metrics", port: REGISTRY_METRICS_PORT, targetPort: "metrics" },
                ],
            },
        }, { parent: this });
        new k8s.networking.v1.Ingress(name, {
            metadata: {
                ...meta(""),
                // Image layers are large: no body size limit (a Medium-risk annotation, accepted by
                // the controller's risk level). Controllers other than nginx ignore it.
                annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "0" },
            },
            spec: {
                ingressClassName: args.ingressClassName,
                rules: [{
                    host,
                    http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service.metadata.name, port: { name: "http" } } } }] },
                }],
            },
        }, { parent: this });

        new k8s.batch.v1.CronJob(`${name}-gc`, {
            metadata: meta("gc"),
            spec: registryGcCronJobSpec(workload, args.gcSchedule),
        }, { parent: this, dependsOn: [deployment] });

        this.host = pulumi.output(host);
        this.namespace = namespace;
        this.serviceName = service.metadata.name;
        this.pullSecret = pulumi.secret(password.value.apply((value) => dockerConfigJson(host, username, value)));
        this.registerOutputs({ host: this.host, namespace: this.namespace, serviceName: this.serviceName, pullSecret: this.pullSecret });
    }
}
