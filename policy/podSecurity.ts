import { ResourceValidationPolicy } from "@pulumi/policy";
import { Json } from "./kubernetes";
import { effective, podPolicy } from "./podPolicy";

/**
 * Pod security: the Kubernetes `restricted` profile and then some (a read-only root file
 * system), checked before anything reaches the cluster. The API server's Pod Security admission
 * enforces `restricted` again in environment namespaces, and the platform's
 * ValidatingAdmissionPolicies (components/platform/admissionPolicies.ts) a third time.
 */

/** Seccomp profile types that confine a container (`Unconfined` does not). */
const CONFINED_SECCOMP = ["RuntimeDefault", "Localhost"];
/** The only capability the restricted profile lets a container add. */
const ADDABLE_CAPABILITIES = ["NET_BIND_SERVICE"];

/** Containers run as a non-root user: runAsNonRoot true, and never runAsUser 0. */
export const runAsNonRoot = podPolicy({
    name: "run-as-non-root",
    description: "Every container runs as a non-root user (securityContext.runAsNonRoot: true on the container or the pod).",
    remediationSteps: "Set securityContext.runAsNonRoot: true on the pod or container, and a non-zero runAsUser if the image's user is root.",
    container: ({ container }, pod) => {
        const problems: string[] = [];
        if (effective(container, pod, (c) => c.runAsNonRoot) !== true) {
            problems.push("does not set runAsNonRoot: true");
        }
        if (effective(container, pod, (c) => c.runAsUser) === 0) {
            problems.push("runs as uid 0 (runAsUser: 0)");
        }
        return problems;
    },
});

/** Containers cannot gain more privileges than their parent process (no setuid binaries). */
export const noPrivilegeEscalation = podPolicy({
    name: "no-privilege-escalation",
    description: "Every container sets securityContext.allowPrivilegeEscalation: false.",
    remediationSteps: "Set securityContext.allowPrivilegeEscalation: false on every container.",
    container: ({ container }) =>
        container.securityContext?.allowPrivilegeEscalation === false ? [] : ["does not set allowPrivilegeEscalation: false"],
});

/** Containers drop every Linux capability and add back at most NET_BIND_SERVICE. */
export const dropAllCapabilities = podPolicy({
    name: "drop-all-capabilities",
    description: "Every container drops ALL capabilities and adds none but NET_BIND_SERVICE.",
    remediationSteps: 'Set securityContext.capabilities: { drop: ["ALL"] } on every container.',
    container: ({ container }) => {
        const capabilities: Json = container.securityContext?.capabilities ?? {};
        const problems: string[] = [];
        const drop: unknown[] = Array.isArray(capabilities.drop) ? capabilities.drop : [];
        if (!drop.includes("ALL")) {
            problems.push('does not drop ALL capabilities (capabilities.drop: ["ALL"])');
        }
        const added = (Array.isArray(capabilities.add) ? capabilities.add : []).filter((c: unknown) => !ADDABLE_CAPABILITIES.includes(String(c)));
        if (added.length > 0) {
            problems.push(`adds capabilities ${added.join(", ")}`);
        }
        return problems;
    },
});

/** Containers run under the container runtime's default seccomp profile (or a local one). */
export const seccompRuntimeDefault = podPolicy({
    name: "seccomp-runtime-default",
    description: "Every container runs with seccompProfile RuntimeDefault (or Localhost), set on the container or the pod.",
    remediationSteps: "Set securityContext.seccompProfile: { type: RuntimeDefault } on the pod.",
    container: ({ container }, pod) => {
        const type = effective(container, pod, (c) => c.seccompProfile?.type);
        return CONFINED_SECCOMP.includes(String(type)) ? [] : [`runs with seccomp profile ${type ?? "unset"}; use RuntimeDefault`];
    },
});

/** Containers cannot write to their image's file system; writable paths are volumes. */
export const readOnlyRootFilesystem = podPolicy({
    name: "read-only-root-filesystem",
    description: "Every container sets securityContext.readOnlyRootFilesystem: true; writable paths are emptyDir or PVC mounts.",
    remediationSteps: "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the program writes (/tmp).",
    container: ({ container }) =>
        container.securityContext?.readOnlyRootFilesystem === true ? [] : ["does not set readOnlyRootFilesystem: true"],
});

/** No privileged containers: they are root on the node. */
export const noPrivilegedContainers = podPolicy({
    name: "no-privileged-containers",
    description: "No container runs privileged.",
    remediationSteps: "Remove securityContext.privileged; grant a specific capability only where the platform allows it.",
    container: ({ container }) => (container.securityContext?.privileged === true ? ["runs privileged"] : []),
});

/** Pods never share the node's network, process or IPC namespaces. */
export const noHostNamespaces = podPolicy({
    name: "no-host-namespaces",
    description: "No pod uses hostNetwork, hostPID or hostIPC.",
    remediationSteps: "Remove hostNetwork, hostPID and hostIPC from the pod spec.",
    pod: ({ template }) =>
        ["hostNetwork", "hostPID", "hostIPC"].filter((field) => template.spec[field] === true).map((field) => `the pod sets ${field}: true`),
});

/** Pods never mount the node's file system. */
export const noHostPathVolumes = podPolicy({
    name: "no-host-path-volumes",
    description: "No pod mounts a hostPath volume.",
    remediationSteps: "Use an emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead of hostPath.",
    pod: ({ template }) =>
        (Array.isArray(template.spec.volumes) ? template.spec.volumes : [])
            .filter((volume: Json) => volume.hostPath !== undefined && volume.hostPath !== null)
            .map((volume: Json) => `volume "${volume.name}" mounts the host path ${volume.hostPath.path ?? "(unset)"}`),
});

/** Containers never bind ports on the node. */
export const noHostPorts = podPolicy({
    name: "no-host-ports",
    description: "No container binds a hostPort.",
    remediationSteps: "Remove hostPort; expose the container through a Service and the shared ingress.",
    container: ({ container }) =>
        (Array.isArray(container.ports) ? container.ports : [])
            .filter((port: Json) => typeof port.hostPort === "number" && port.hostPort !== 0)
            .map((port: Json) => `binds host port ${port.hostPort}`),
});

/** The pod security policies, in the order they are listed. */
export const podSecurityPolicies: ResourceValidationPolicy[] = [
    runAsNonRoot,
    noPrivilegeEscalation,
    dropAllCapabilities,
    seccompRuntimeDefault,
    readOnlyRootFilesystem,
    noPrivilegedContainers,
    noHostNamespaces,
    noHostPathVolumes,
    noHostPorts,
];
