import { StackKind } from "../../components/naming";
import { CatalystEvent, ChangeCounts, DriftedResource } from "./types";

/**
 * The messages between the automation layer and its worker processes (runner.ts starts them,
 * worker.ts answers): one request in, a stream of events and one result out, over Node's IPC
 * channel as JSON.
 */

/**
 * What the worker does to the stack. `recover` repairs a stack after a killed operation; `drift`
 * compares the state with the cluster (a refresh in preview mode) and changes nothing.
 */
export type WorkerAction = "up" | "destroy" | "recover" | "drift";

/** One stack operation for a worker. */
export interface WorkerRequest {
    action: WorkerAction;
    stack: string;
    /** The stack kinds this request may touch; the worker checks the name again. */
    allowedKinds: StackKind[];
    repoRoot: string;
    workRoot: string;
    /**
     * The checked-in stack file whose `config` the stack starts from, by its stack part
     * (`pr` reads the repository's `Pulumi.pr.yaml`); unset: none.
     */
    configTemplate?: string;
    /** Values set on top of the template (objects allowed); never secrets. */
    config: Record<string, unknown>;
    /** Stack tags to set. */
    tags: Record<string, string>;
    /** Tags set only when the stack has none yet (`catalyst:createdAt`). */
    keepTags: string[];
    /** Until when (epoch ms) to wait for the backend's stack lock before answering `busy`. */
    lockDeadline: number;
    /** Hosts whose backend locks are stale whatever their pid (executor.ts `CallOptions.deadLockHosts`). */
    deadLockHosts?: string[];
    /** For destroy: remove the stack once it holds no resources. */
    removeStack: boolean;
    /** For up: refresh the state from the cluster first, so that the up also reverts drift. */
    refresh?: boolean;
}

/** What a worker reports back. */
export interface WorkerResult {
    status: "succeeded" | "failed" | "busy";
    noop?: boolean;
    changes?: ChangeCounts;
    updateId?: string;
    /** Stack outputs, secrets replaced by "[secret]". */
    outputs?: Record<string, unknown>;
    /** True when a stale lock or interrupted operations were repaired. */
    recovered?: boolean;
    /** Resources left in the stack after a destroy. */
    resourceCount?: number;
    /** For drift: the resources whose objects differ from the state. */
    drift?: DriftedResource[];
    error?: string;
}

/** A message from a worker. */
export type WorkerMessage = { type: "event"; event: CatalystEvent } | { type: "result"; result: WorkerResult };

/** Replaces secret outputs by "[secret]" (outputs as the Automation API returns them). */
export function maskOutputs(outputs: Record<string, { value: unknown; secret: boolean }>): Record<string, unknown> {
    const masked: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(outputs)) {
        masked[key] = output.secret ? "[secret]" : output.value;
    }
    return masked;
}

/** Counts of changes other than `same`: zero means the operation changed nothing. */
export function changedCount(changes: ChangeCounts | undefined): number {
    return Object.entries(changes ?? {})
        .filter(([op]) => op !== "same")
        .reduce((sum, [, count]) => sum + count, 0);
}

/** Stack output names that hold an environment's namespace and public URL (first match wins). */
export const NAMESPACE_OUTPUTS = ["namespace", "namespaceName"];
export const URL_OUTPUTS = ["url", "appUrl", "publicUrl"];

/** The namespace and URL an environment stack exports, when it does. */
export function endpoints(outputs: Record<string, unknown> | undefined): { namespace?: string; url?: string } {
    const pick = (names: string[]) => {
        const value = names.map((n) => outputs?.[n]).find((v) => typeof v === "string" && v !== "" && v !== "[secret]");
        return value as string | undefined;
    };
    return { namespace: pick(NAMESPACE_OUTPUTS), url: pick(URL_OUTPUTS) };
}
