import { hostname } from "os";
import { parseArgs } from "util";
import { parseDuration } from "../automation/duration";
import type { ControllerSettings } from "./controller";

/**
 * `catalyst controller`: the control plane's reconciler as a process (docs/controller.md). A
 * thin adapter: Kubernetes resources in, automation library calls out. Flags first, then the
 * environment's defaults (CATALYST_CONTROLLER_*), then the built-in ones.
 */

export const CONTROLLER_USAGE = `Usage: catalyst controller [options]

Reconciles the Project and Environment resources (catalyst.dev/v1alpha1) of one namespace into
their Pulumi stacks through the automation library. Run any number of replicas against the same
API server and state backend: per-Environment Leases decide who works on what.

Options:
  --namespace <ns>          namespace of the resources and Leases (default catalyst-system;
                            CATALYST_CONTROLLER_NAMESPACE)
  --identity <name>         this replica's name in Leases and Events (default: the host name
                            and pid; CATALYST_CONTROLLER_IDENTITY)
  --concurrency <n>         reconciles at once in this replica (default 2; CATALYST_CONCURRENCY)
  --lease-duration <d>      how long a replica's lease outlives it (default 30s)
  --resync <d>              look at every Environment again after this long (default 5m)
  --max-failures <n>        failures in a row before Stalled (default 3)
  --backoff <d>             first retry delay after a failure, doubled each time (default 10s)
  --metrics-port <port>     /metrics, /healthz, /readyz on this port (default 9090; 0: any)
  --metrics-host <host>     address of that endpoint (default 127.0.0.1; 0.0.0.0 in a pod)
  --platform-stack <name>   the platform stack environments read (default dev)
  -h, --help                this text

Environment: KUBECONFIG (or the in-cluster ServiceAccount), PULUMI_BACKEND_URL and
PULUMI_CONFIG_PASSPHRASE, shared by every replica.`;

/** Parsed options of `catalyst controller`. */
export interface ControllerOptions extends Omit<ControllerSettings, "log" | "backoffMaxMs"> {
    metricsPort: number;
    metricsHost: string;
    platformStack?: string;
}

/** A bad flag: exit code 2 with this message. */
export class ControllerUsageError extends Error {}

function whole(value: string | undefined, flag: string, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
        throw new ControllerUsageError(`${flag}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return Number(value);
}

function duration(value: string | undefined, flag: string): number | undefined {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined || ms < 1000) throw new ControllerUsageError(`${flag}: must be a duration of at least 1s such as 30s or 5m, got ${JSON.stringify(value)}`);
    return ms;
}

/** Parses the flags of `catalyst controller`; "help" for --help. */
export function parseControllerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ControllerOptions | "help" {
    let values: Record<string, string | boolean | undefined>;
    try {
        values = parseArgs({
            args: [...argv],
            options: {
                namespace: { type: "string" }, identity: { type: "string" }, concurrency: { type: "string" },
                "lease-duration": { type: "string" }, resync: { type: "string" }, "max-failures": { type: "string" },
                backoff: { type: "string" }, "metrics-port": { type: "string" }, "metrics-host": { type: "string" },
                "platform-stack": { type: "string" }, help: { type: "boolean", short: "h" },
            },
            strict: true,
            allowPositionals: false,
        }).values;
    } catch (err) {
        throw new ControllerUsageError(`catalyst controller: ${(err as Error).message}`);
    }
    if (values.help === true) return "help";
    const str = (name: string) => values[name] as string | undefined;
    const namespace = str("namespace") ?? env.CATALYST_CONTROLLER_NAMESPACE ?? "catalyst-system";
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw new ControllerUsageError(`--namespace: must be a namespace name, got ${JSON.stringify(namespace)}`);
    return {
        namespace,
        identity: str("identity") ?? env.CATALYST_CONTROLLER_IDENTITY ?? `${hostname()}-${process.pid}`,
        concurrency: whole(str("concurrency") ?? env.CATALYST_CONCURRENCY, "--concurrency", 1, 64) ?? 2,
        leaseDurationSeconds: Math.round((duration(str("lease-duration"), "--lease-duration") ?? 30_000) / 1000),
        resyncMs: duration(str("resync"), "--resync") ?? 5 * 60_000,
        maxFailures: whole(str("max-failures"), "--max-failures", 1, 100) ?? 3,
        backoffBaseMs: duration(str("backoff"), "--backoff") ?? 10_000,
        metricsPort: whole(str("metrics-port"), "--metrics-port", 0, 65535) ?? 9090,
        metricsHost: str("metrics-host") ?? "127.0.0.1",
        platformStack: str("platform-stack") ?? env.CATALYST_PLATFORM_STACK,
    };
}

/** Runs `catalyst controller` until SIGINT or SIGTERM; resolves with the exit code. */
export async function runControllerCommand(argv: readonly string[]): Promise<number> {
    let options: ControllerOptions | "help";
    try {
        options = parseControllerArgs(argv);
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 2;
    }
    if (options === "help") {
        process.stdout.write(`${CONTROLLER_USAGE}\n`);
        return 0;
    }
    const { start } = await import("./process");
    return start(options);
}
