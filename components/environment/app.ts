import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { namespaceName } from "../naming";
import { GeneratedPassword, PasswordSource } from "../common/password";
import { namespacedOnly } from "./app-source";
import { AppPodSettings, appPodSpec, SecretEnv, SecretFile } from "./app-spec";
import { componentSelector, objectLabels, SERVICE_ANNOTATIONS } from "./labels";
import { EgressRule, extraEgressSpec } from "./network";

/** Where an application comes from: exactly one of an image, a Helm chart or a manifest directory. */
export type AppSource =
    | { kind: "image"; image: pulumi.Input<string> }
    | { kind: "chart"; chart: string; repo?: string; version?: string; values?: Record<string, unknown> }
    | { kind: "manifests"; directory: string };

/** Horizontal autoscaling of an image-based app. */
export interface Autoscaling {
    minReplicas: number;
    maxReplicas: number;
    /** Target average CPU utilisation in percent of the request. */
    cpuUtilization: number;
}

/** Arguments of {@link App}. */
/** The container settings an app shares with its pod spec (documented on AppPodSettings). */
type SharedPodSettings = Pick<AppPodSettings, "port" | "command" | "args" | "readinessPath" | "livenessPath"
    | "resources" | "env" | "runAsUser" | "runAsGroup" | "readOnlyRootFilesystem">;

export interface AppArgs extends SharedPodSettings {
    /** The environment's stack name, for labels and selectors. */
    stack: string;
    /** The environment's namespace. */
    namespace: pulumi.Input<string>;
    /** The app's name: names its Deployment, Service and Secrets (a DNS label). */
    appName: string;
    /** Where the app comes from. */
    source: AppSource;
    /** Replicas (ignored when autoscaling is on: the HPA owns the count). */
    replicas: number;
    /** Secret variables from config (`catalyst:appSecrets`, a Pulumi secret), by variable name. */
    secretValues: pulumi.Input<Record<string, string>>;
    /** Names of the variables in `secretValues`. */
    secretNames: string[];
    /** Variables whose values are generated passwords, kept in the stack as secrets. */
    generatedSecrets: string[];
    /** Where generated passwords come from. */
    passwordSource: PasswordSource;
    /** Files from `catalyst:appSecretFiles` (a Pulumi secret) to mount read-only. */
    files: SecretFile[];
    /** Contents of the secret files, by key. */
    fileValues: pulumi.Input<Record<string, string>>;
    /** A PVC mounted read-write (for example an SQLite file). */
    dataVolume?: { mountPath: string; size: string };
    /** Autoscaling, when wanted. */
    autoscaling?: Autoscaling;
    /** Create a PodDisruptionBudget (production). */
    disruptionBudget: boolean;
    /** `.dockerconfigjson` of the platform registry (secret): becomes the pod's pull secret. */
    pullSecret?: pulumi.Input<string>;
    /** Service bindings: variable name to the Secret and key holding it (DATABASE_URL, REDIS_URL). */
    bindings: SecretEnv[];
    /** Extra destinations the app's pods may reach. */
    extraEgress: EgressRule[];
}

/**
 * The application of an environment. From an image: a Deployment with a restricted security
 * context, probes, secrets through secretKeyRef only, the registry pull secret, a Service, and
 * optionally an HPA, a PDB, a data PVC and extra egress. From a chart (`helm.v4.Chart`) or a
 * manifest directory (`yaml.v2.ConfigGroup`): their objects, kept inside the namespace.
 */
export class App extends pulumi.ComponentResource {
    /** The Service the route points at. */
    public readonly serviceName: pulumi.Output<string>;
    /** Its port. */
    public readonly servicePort: number;

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("catalyst:environment:App", name, {}, opts);
        this.servicePort = 80;
        switch (args.source.kind) {
            case "image":
                this.serviceName = this.fromImage(name, args, args.source.image);
                break;
            case "chart": {
                const source = args.source;
                const key = "catalyst:app.chart";
                new k8s.helm.v4.Chart(`${name}-chart`, {
                    chart: source.chart,
                    namespace: args.namespace,
                    repositoryOpts: source.repo ? { repo: source.repo } : undefined,
                    version: source.version,
                    values: source.values ?? {},
                }, { parent: this, transforms: [this.keepInNamespace(args, key)] });
                this.serviceName = pulumi.output(args.appName);
                break;
            }
            case "manifests": {
                const key = "catalyst:app.manifests";
                new k8s.yaml.v2.ConfigGroup(`${name}-manifests`, {
                    files: [`${args.source.directory}/*.yaml`, `${args.source.directory}/*.yml`],
                }, { parent: this, transforms: [this.keepInNamespace(args, key)] });
                this.serviceName = pulumi.output(args.appName);
                break;
            }
        }
        this.registerOutputs({ serviceName: this.serviceName });
    }

    private keepInNamespace(args: AppArgs, key: string): pulumi.ResourceTransform {
        // The name is known without waiting for the Namespace: it derives from the stack name.
        return namespacedOnly(namespaceName(args.stack), key);
    }

    private fromImage(name: string, args: AppArgs, image: pulumi.Input<string>): pulumi.Output<string> {
        const namespace = args.namespace;
        const labels = objectLabels(args.stack, "app");
        const selector = componentSelector(args.stack, "app");
        const child = { parent: this };

        // Secret values only ever travel as Pulumi secrets into a Secret, and reach the container
        // through secretKeyRef: never as a plain `value`, so they never show in the Deployment.
        const generated: Record<string, pulumi.Output<string>> = {};
        for (const variable of args.generatedSecrets) {
            generated[variable] = new GeneratedPassword(
                `${name}-${variable.toLowerCase().replace(/_/g, "-")}`,
                { source: args.passwordSource, length: 48 },
                child,
            ).value;
        }
        const secretEnv: SecretEnv[] = [...args.bindings];
        if (args.secretNames.length + args.generatedSecrets.length > 0) {
            const values = pulumi.secret(pulumi.all([pulumi.output(args.secretValues), pulumi.all(generated)]).apply(
                ([configured, made]) => ({ ...pick(configured, args.secretNames), ...made })));
            const secret = new k8s.core.v1.Secret(`${name}-secrets`, {
                metadata: { name: `${args.appName}-secrets`, namespace, labels },
                stringData: values,
            }, child);
            for (const variable of [...args.secretNames, ...args.generatedSecrets]) {
                secretEnv.push({ name: variable, secretName: secret.metadata.name, key: variable });
            }
        }

        let filesSecretName: pulumi.Output<string> | undefined;
        if (args.files.length > 0) {
            const keys = args.files.map((file) => file.key);
            filesSecretName = new k8s.core.v1.Secret(`${name}-files`, {
                metadata: { name: `${args.appName}-files`, namespace, labels },
                stringData: pulumi.secret(pulumi.output(args.fileValues).apply((files) => pick(files, keys))),
            }, child).metadata.name;
        }

        let pullSecretName: pulumi.Output<string> | undefined;
        if (args.pullSecret !== undefined) {
            pullSecretName = new k8s.core.v1.Secret(`${name}-pull-secret`, {
                metadata: { name: "registry-pull", namespace, labels },
                type: "kubernetes.io/dockerconfigjson",
                stringData: { ".dockerconfigjson": pulumi.secret(args.pullSecret) },
            }, child).metadata.name;
        }

        let data: { claimName: pulumi.Input<string>; mountPath: string } | undefined;
        if (args.dataVolume) {
            const claim = new k8s.core.v1.PersistentVolumeClaim(`${name}-data`, {
                metadata: { name: `${args.appName}-data`, namespace, labels },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: args.dataVolume.size } } },
            }, child);
            data = { claimName: claim.metadata.name, mountPath: args.dataVolume.mountPath };
        }

        const podSpec = appPodSpec({
            name: args.appName,
            image,
            port: args.port,
            command: args.command,
            args: args.args,
            readinessPath: args.readinessPath,
            livenessPath: args.livenessPath,
            resources: args.resources,
            env: args.env,
            secretEnv,
            filesSecretName,
            files: args.files,
            data,
            pullSecretName,
            runAsUser: args.runAsUser,
            runAsGroup: args.runAsGroup,
            readOnlyRootFilesystem: args.readOnlyRootFilesystem,
        });
        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: { name: args.appName, namespace, labels },
            spec: {
                // With an HPA the replica count is its field: setting it here would fight it on every update.
                replicas: args.autoscaling ? undefined : args.replicas,
                // A ReadWriteOnce data volume cannot be mounted by the old and the new pod at once.
                strategy: args.dataVolume ? { type: "Recreate" } : { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                selector: { matchLabels: selector },
                template: { metadata: { labels: { ...labels, ...selector } }, spec: podSpec },
            },
        }, child);

        const service = new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: args.appName, namespace, labels, annotations: SERVICE_ANNOTATIONS },
            spec: { selector, ports: [{ name: "http", port: this.servicePort, targetPort: "http" }] },
        }, { parent: this, dependsOn: [deployment] });

        if (args.autoscaling) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, {
                metadata: { name: args.appName, namespace, labels },
                spec: {
                    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
                    minReplicas: args.autoscaling.minReplicas,
                    maxReplicas: args.autoscaling.maxReplicas,
                    metrics: [{
                        type: "Resource",
                        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: args.autoscaling.cpuUtilization } },
                    }],
                },
            }, child);
        }
        if (args.disruptionBudget) {
            // maxUnavailable rather than minAvailable: with a single replica a minAvailable of 1
            // would block every node drain forever.
            new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
                metadata: { name: args.appName, namespace, labels },
                spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
            }, child);
        }
        if (args.extraEgress.length > 0) {
            new k8s.networking.v1.NetworkPolicy(`${name}-extra-egress`, {
                metadata: { name: `${args.appName}-extra-egress`, namespace, labels },
                spec: extraEgressSpec(selector, args.extraEgress),
            }, child);
        }
        return service.metadata.name;
    }
}

function pick(values: Record<string, string>, keys: string[]): Record<string, string> {
    return Object.fromEntries(keys.filter((key) => key in values).map((key) => [key, values[key]]));
}
