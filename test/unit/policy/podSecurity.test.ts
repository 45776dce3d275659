import { ResourceValidationPolicy } from "@pulumi/policy";
import {
    dropAllCapabilities,
    noHostNamespaces,
    noHostPathVolumes,
    noHostPorts,
    noPrivilegedContainers,
    noPrivilegeEscalation,
    readOnlyRootFilesystem,
    runAsNonRoot,
    seccompRuntimeDefault,
} from "../../../policy/podSecurity";
import { compliantContainer, compliantPodSpec, deployment, T, violations } from "./harness";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Props = Record<string, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

const cases: Array<[string, ResourceValidationPolicy, Props, string]> = [
    // [policy, a pod spec that breaks it, the message]
    ["run-as-non-root", runAsNonRoot,
        compliantPodSpec({ securityContext: { seccompProfile: { type: "RuntimeDefault" } } }, { securityContext: { ...compliantContainer().securityContext, runAsNonRoot: undefined } }),
        'Deployment env-pr-1/web: container "web" does not set runAsNonRoot: true'],
    ["no-privilege-escalation", noPrivilegeEscalation,
        compliantPodSpec({}, { securityContext: { ...compliantContainer().securityContext, allowPrivilegeEscalation: true } }),
        'Deployment env-pr-1/web: container "web" does not set allowPrivilegeEscalation: false'],
    ["drop-all-capabilities", dropAllCapabilities,
        compliantPodSpec({}, { securityContext: { ...compliantContainer().securityContext, capabilities: { drop: ["NET_RAW"] } } }),
        'Deployment env-pr-1/web: container "web" does not drop ALL capabilities (capabilities.drop: ["ALL"])'],
    ["seccomp-runtime-default", seccompRuntimeDefault,
        compliantPodSpec({ securityContext: { runAsNonRoot: true } }, { securityContext: { ...compliantContainer().securityContext, seccompProfile: undefined } }),
        'Deployment env-pr-1/web: container "web" runs with seccomp profile unset; use RuntimeDefault'],
    ["read-only-root-filesystem", readOnlyRootFilesystem,
        compliantPodSpec({}, { securityContext: { ...compliantContainer().securityContext, readOnlyRootFilesystem: false } }),
        'Deployment env-pr-1/web: container "web" does not set readOnlyRootFilesystem: true'],
    ["no-privileged-containers", noPrivilegedContainers,
        compliantPodSpec({}, { securityContext: { ...compliantContainer().securityContext, privileged: true } }),
        'Deployment env-pr-1/web: container "web" runs privileged'],
    ["no-host-namespaces", noHostNamespaces,
        compliantPodSpec({ hostNetwork: true }),
        "Deployment env-pr-1/web: the pod sets hostNetwork: true"],
    ["no-host-path-volumes", noHostPathVolumes,
        compliantPodSpec({ volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }] }),
        'Deployment env-pr-1/web: volume "docker" mounts the host path /var/run/docker.sock'],
    ["no-host-ports", noHostPorts,
        compliantPodSpec({}, { ports: [{ containerPort: 8080, hostPort: 80 }] }),
        'Deployment env-pr-1/web: container "web" binds host port 80'],
];

describe("pod security policies", () => {
    it.each(cases)("%s passes a compliant Deployment", async (_name, policy) => {
        expect(await violations(policy, T.deployment, deployment())).toEqual([]);
    });

    it.each(cases)("%s reports a Deployment that breaks it", async (_name, policy, spec, message) => {
        expect(await violations(policy, T.deployment, deployment(spec))).toEqual([message]);
    });

    it("takes runAsNonRoot and seccomp from the pod when the container does not set them", async () => {
        const container = compliantContainer({ securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } });
        const spec = compliantPodSpec({}, container);
        expect(await violations(runAsNonRoot, T.deployment, deployment(spec))).toEqual([]);
        expect(await violations(seccompRuntimeDefault, T.deployment, deployment(spec))).toEqual([]);
    });

    it("refuses uid 0 even with runAsNonRoot, and added capabilities besides NET_BIND_SERVICE", async () => {
        const root = compliantPodSpec({ securityContext: { runAsNonRoot: true, runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } } });
        expect(await violations(runAsNonRoot, T.deployment, deployment(root))).toEqual(['Deployment env-pr-1/web: container "web" runs as uid 0 (runAsUser: 0)']);
        const caps = (add: string[]) => compliantPodSpec({}, { securityContext: { ...compliantContainer().securityContext, capabilities: { drop: ["ALL"], add } } });
        expect(await violations(dropAllCapabilities, T.deployment, deployment(caps(["NET_BIND_SERVICE"])))).toEqual([]);
        expect(await violations(dropAllCapabilities, T.deployment, deployment(caps(["NET_ADMIN"])))).toEqual(['Deployment env-pr-1/web: container "web" adds capabilities NET_ADMIN']);
    });

    it("reports every host namespace the pod shares", async () => {
        const spec = compliantPodSpec({ hostNetwork: true, hostPID: true, hostIPC: true });
        expect(await violations(noHostNamespaces, T.deployment, deployment(spec))).toEqual([
            "Deployment env-pr-1/web: the pod sets hostNetwork: true",
            "Deployment env-pr-1/web: the pod sets hostPID: true",
            "Deployment env-pr-1/web: the pod sets hostIPC: true",
        ]);
    });

    const privileged = compliantPodSpec(
        { initContainers: [compliantContainer({ name: "setup", securityContext: { privileged: true } })] },
    );
    const where: Array<[string, string, Props, string]> = [
        ["a Pod", T.pod, { metadata: { name: "p", namespace: "env-pr-1" }, spec: privileged }, "Pod env-pr-1/p"],
        ["a StatefulSet", T.statefulSet, { metadata: { name: "s", namespace: "env-pr-1" }, spec: { template: { spec: privileged } } }, "StatefulSet env-pr-1/s"],
        ["a DaemonSet", T.daemonSet, { metadata: { name: "d", namespace: "kube-system" }, spec: { template: { spec: privileged } } }, "DaemonSet kube-system/d"],
        ["a ReplicaSet", T.replicaSet, { metadata: { name: "r", namespace: "env-pr-1" }, spec: { template: { spec: privileged } } }, "ReplicaSet env-pr-1/r"],
        ["a Job", T.job, { metadata: { name: "j", namespace: "env-pr-1" }, spec: { template: { spec: privileged } } }, "Job env-pr-1/j"],
        ["a CronJob", T.cronJob, { metadata: { name: "c", namespace: "env-pr-1" }, spec: { jobTemplate: { spec: { template: { spec: privileged } } } } }, "CronJob env-pr-1/c"],
        // What a Helm v4 Chart registers: the rendered object, as an ordinary resource of its kind.
        ["a Helm-rendered Deployment", T.deployment, {
            apiVersion: "apps/v1", kind: "Deployment",
            metadata: { name: "release-web", namespace: "env-pr-1", labels: { "helm.sh/chart": "web-1.0.0", "app.kubernetes.io/managed-by": "Helm" } },
            spec: { template: { spec: privileged } },
        }, "Deployment env-pr-1/release-web"],
    ];
    it.each(where)("finds the pods of %s, init containers included", async (_what, type, props, subject) => {
        expect(await violations(noPrivilegedContainers, type, props)).toEqual([`${subject}: init container "setup" runs privileged`]);
    });

    it("skips objects without pods, Helm Chart components and patches", async () => {
        const spec = compliantPodSpec({ hostPID: true });
        expect(await violations(noHostNamespaces, T.service, { metadata: { name: "s" }, spec: { type: "ClusterIP" } })).toEqual([]);
        expect(await violations(noHostNamespaces, "kubernetes:helm.sh/v4:Chart", { chart: "web", values: { spec } })).toEqual([]);
        expect(await violations(noHostNamespaces, "kubernetes:apps/v1:DeploymentPatch", deployment(spec))).toEqual([]);
    });

    it("skips excluded namespaces and exempt objects", async () => {
        const spec = compliantPodSpec({ hostNetwork: true });
        expect(await violations(noHostNamespaces, T.deployment, deployment(spec, "monitoring"), { excludeNamespaces: ["monitoring"] })).toEqual([]);
        expect(await violations(noHostNamespaces, T.deployment, deployment(spec, "monitoring"), { exemptions: ["Deployment monitoring/web"] })).toEqual([]);
        expect(await violations(noHostNamespaces, T.deployment, deployment(spec, "monitoring"), { exemptions: ["Deployment monitoring/other"] })).toHaveLength(1);
    });

    it("holds the platform's ingress controller to a read-only root file system too, unless configured", async () => {
        const writable = compliantPodSpec({}, { name: "controller", securityContext: { ...compliantContainer().securityContext, readOnlyRootFilesystem: false } });
        const controller = { ...deployment(writable, "ingress-nginx"), metadata: { name: "ingress-nginx-controller", namespace: "ingress-nginx" } };
        expect(await violations(readOnlyRootFilesystem, T.deployment, controller)).toEqual([
            "Deployment ingress-nginx/ingress-nginx-controller: container \"controller\" does not set readOnlyRootFilesystem: true",
        ]);
        expect(await violations(readOnlyRootFilesystem, T.deployment, controller, { exemptions: ["Deployment ingress-nginx/ingress-nginx-controller"] })).toEqual([]);
    });
});
