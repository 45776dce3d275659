import { appendFileSync } from "fs";
import * as path from "path";
import { kubectl, kubectlJson, repoRoot } from "./harness";

/*
 * A pod whose log a test writes. On the local cluster no container runs; kwok answers logs from
 * files (tools/cluster/kwok-logs.yaml). A container named catalyst-log-probe reads the file below,
 * which tools/cluster.sh empties at cluster start and kwok follows, so lines appended to it arrive
 * in a followed log (`kubectl logs -f`, the dashboard's log view) while it is open.
 */

/** The container name kwok-logs.yaml gives the followed file. */
export const PROBE_CONTAINER = "catalyst-log-probe";
/** The file that container's log is read from (`$data/kwok/probe-logs.txt` in tools/cluster.sh). */
export const PROBE_LOGS = path.join(repoRoot, ".catalyst", "cluster", "kwok", "probe-logs.txt");

/** The first container image of the namespace's Deployments: an image the namespace's admission policies already allow. */
function namespaceImage(namespace: string): string {
    const deployments = kubectlJson<{ items: { spec: { template: { spec: { containers: { image: string }[] } } } }[] }>(["get", "deployments", "-n", namespace]);
    const image = deployments.items[0]?.spec.template.spec.containers[0]?.image;
    if (image === undefined) throw new Error(`no Deployment with an image in ${namespace}`);
    return image;
}

/**
 * Creates pod `name` with the probe container in `namespace` (admin kubeconfig) and waits until
 * it is Ready. Its spec passes Pod Security `restricted`, the quota and limit range and the
 * platform's admission policies: non-root, seccomp RuntimeDefault, no privilege escalation, ALL
 * capabilities dropped, small requests and limits, the environment's own pinned image.
 */
export function createLogProbe(namespace: string, name: string): void {
    const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, labels: { "app.kubernetes.io/name": name } },
        spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: PROBE_CONTAINER,
                image: namespaceImage(namespace),
                resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "50m", memory: "32Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            }],
        },
    };
    kubectl(["apply", "-f", "-"], JSON.stringify(pod));
    kubectl(["wait", "--for=condition=Ready", `pod/${name}`, "-n", namespace, "--timeout=120s"]);
}

/** Appends `lines` to the probe's log in one write (CRI log format, as the kubelet writes a container's log). */
export function appendProbeLines(lines: readonly string[]): void {
    const time = new Date().toISOString();
    appendFileSync(PROBE_LOGS, lines.map((line) => `${time} stdout F ${line}\n`).join(""));
}
