import { AnyCommand, defineCommand } from "../command";
import type { ControllerInput } from "./index";
import { parseDriftInterval, parseNamespace, parseSeconds, parseWhole } from "./index";

/**
 * `catalyst controller`, declared with the command kit of the other front ends; the controller
 * itself loads only when the command runs.
 */
export function controllerCommands(): AnyCommand[] {
    return [
        defineCommand<ControllerInput>({
            name: "controller",
            summary: "Reconciles Project and Environment resources into their stacks (docs/controller.md).",
            options: {
                namespace: { value: "<ns>", description: "Namespace of the resources and Leases (default catalyst-system; CATALYST_CONTROLLER_NAMESPACE)", parse: parseNamespace },
                identity: { value: "<name>", description: "This replica's name in Leases and Events (default: host name and pid; CATALYST_CONTROLLER_IDENTITY)" },
                concurrency: { value: "<n>", description: "Reconciles at once in this replica (default 2; CATALYST_CONCURRENCY)", parse: (t, f) => parseWhole(t, f, 1, 64) },
                leaseDuration: { value: "<duration>", description: "How long a replica's lease outlives it (default 30s)", parse: parseSeconds },
                resync: { value: "<duration>", description: "Look at every Environment again after this long (default 5m)", parse: parseSeconds },
                maxFailures: { value: "<n>", description: "Failures in a row before Stalled (default 3)", parse: (t, f) => parseWhole(t, f, 1, 100) },
                backoff: { value: "<duration>", description: "First retry delay after a failure, doubled each time up to 10m (default 10s)", parse: parseSeconds },
                driftInterval: { value: "<duration>", description: "Drift check (a refresh in preview mode) of each Ready Environment this often, jittered by ±10%; 0: none; at least 5s (default 10m; CATALYST_CONTROLLER_DRIFT_INTERVAL)", parse: parseDriftInterval },
                metricsPort: { value: "<port>", description: "/metrics, /healthz and /readyz on this port; 0: any free port (default 9090)", parse: (t, f) => parseWhole(t, f, 0, 65535) },
                metricsHost: { value: "<addr>", description: "Address of that endpoint (default 127.0.0.1; 0.0.0.0 in a pod)" },
                platformStack: { value: "<stack>", description: "The platform stack environments read (default: CATALYST_PLATFORM_STACK, else dev)" },
            },
            notes: [
                "Run any number of replicas against the same API server and state backend: one Lease per Environment decides who works on what.",
                "Environment: KUBECONFIG (or the in-cluster ServiceAccount), PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE, shared by every replica. Runs until SIGINT or SIGTERM.",
            ],
            run: async (input) => (await import("./index")).runControllerCommand(input),
        }),
    ];
}
