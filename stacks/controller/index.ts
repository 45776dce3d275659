import { hostname } from "os";
import { parseDuration } from "../automation/duration";
import type { ControllerSettings } from "./controller";

/**
 * `catalyst controller`: the control plane's reconciler as a process (docs/controller.md). A
 * thin adapter: Kubernetes resources in, automation library calls out. command.ts declares its
 * flags; this module turns them (then CATALYST_CONTROLLER_* variables, then built-in defaults)
 * into the controller's options and starts it.
 */

/** Parsed options of `catalyst controller`. */
export interface ControllerOptions extends Omit<ControllerSettings, "log" | "backoffMaxMs"> {
    metricsPort: number;
    metricsHost: string;
    platformStack?: string;
}

/** The flags of `catalyst controller`, as parsed by the command table (command.ts). */
export interface ControllerInput {
    namespace?: string;
    identity?: string;
    concurrency?: number;
    /** Milliseconds. */
    leaseDuration?: number;
    resync?: number;
    maxFailures?: number;
    backoff?: number;
    driftInterval?: number;
    metricsPort?: number;
    metricsHost?: string;
    platformStack?: string;
}

/** A whole number from `min` to `max`, or the reason it is not. */
export function parseWhole(text: string, flag: string, min: number, max: number): number {
    if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
        throw new Error(`${flag}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return Number(text);
}

/** A duration of at least a second (`30s`, `5m`), in milliseconds. */
export function parseSeconds(text: string, flag: string): number {
    const ms = parseDuration(text);
    if (ms === undefined || ms < 1000) throw new Error(`${flag}: must be a duration of at least 1s such as 30s or 5m, got ${JSON.stringify(text)}`);
    return ms;
}

/** The shortest drift interval: a check is a refresh of every object, seconds of work. */
export const MIN_DRIFT_INTERVAL_MS = 5_000;
/** The default drift interval. */
export const DEFAULT_DRIFT_INTERVAL_MS = 10 * 60_000;

/** A drift interval: `0` (no drift checks) or a duration of at least 5s, in milliseconds. */
export function parseDriftInterval(text: string, flag: string): number {
    const ms = parseDuration(text);
    if (ms === undefined || (ms !== 0 && ms < MIN_DRIFT_INTERVAL_MS)) {
        throw new Error(`${flag}: must be 0 (no drift checks) or a duration of at least 5s such as 10m or 1h, got ${JSON.stringify(text)}`);
    }
    return ms;
}

/** A namespace name. */
export function parseNamespace(text: string, flag: string): string {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text)) throw new Error(`${flag}: must be a namespace name, got ${JSON.stringify(text)}`);
    return text;
}

/** The options of a run: the flags, else the environment's CATALYST_* defaults, else built-in ones. */
export function controllerOptions(input: ControllerInput, env: NodeJS.ProcessEnv = process.env): ControllerOptions {
    const concurrency = input.concurrency ?? (env.CATALYST_CONCURRENCY === undefined ? undefined : parseWhole(env.CATALYST_CONCURRENCY, "CATALYST_CONCURRENCY", 1, 64));
    return {
        namespace: input.namespace ?? parseNamespace(env.CATALYST_CONTROLLER_NAMESPACE ?? "catalyst-system", "CATALYST_CONTROLLER_NAMESPACE"),
        identity: input.identity ?? env.CATALYST_CONTROLLER_IDENTITY ?? `${hostname()}-${process.pid}`,
        concurrency: concurrency ?? 2,
        leaseDurationSeconds: Math.round((input.leaseDuration ?? 30_000) / 1000),
        resyncMs: input.resync ?? 5 * 60_000,
        maxFailures: input.maxFailures ?? 3,
        backoffBaseMs: input.backoff ?? 10_000,
        driftIntervalMs: input.driftInterval ?? (env.CATALYST_CONTROLLER_DRIFT_INTERVAL === undefined
            ? DEFAULT_DRIFT_INTERVAL_MS
            : parseDriftInterval(env.CATALYST_CONTROLLER_DRIFT_INTERVAL, "CATALYST_CONTROLLER_DRIFT_INTERVAL")),
        metricsPort: input.metricsPort ?? 9090,
        metricsHost: input.metricsHost ?? "127.0.0.1",
        platformStack: input.platformStack ?? env.CATALYST_PLATFORM_STACK,
    };
}

/** Runs `catalyst controller` until SIGINT or SIGTERM; resolves with the exit code. */
export async function runControllerCommand(input: ControllerInput): Promise<number> {
    let options: ControllerOptions;
    try {
        options = controllerOptions(input);
    } catch (err) {
        process.stderr.write(`catalyst controller: ${(err as Error).message}\n`);
        return 2;
    }
    const { start } = await import("./process");
    return start(options);
}
