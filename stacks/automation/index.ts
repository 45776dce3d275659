/**
 * The Automation API layer of Catalyst Environments: create, update, list, garbage-collect and
 * destroy preview environments (and named environments and the platform) programmatically and
 * concurrently. See docs/cli.md for the CLI built on it.
 *
 *     import { upPreview } from "./stacks/automation";
 *     const op = upPreview({ pr: 123, branch: "feat/x" });
 *     for await (const event of op) console.error(event.type);
 *     const result = await op; // { status, url, namespace, updateId, durations, ... }
 */
export { Automation, collectGarbage, defaultAutomation, destroy, destroyPreview, getEnvironment, listEnvironments, sleepPreview, status, up, upPreview, wakePreview } from "./operations";
export type { SleepReason } from "./sleep";
export type { AutomationOptions, CallOptions, CollectGarbageOptions, EnvironmentUpArgs, PreviewRef, PreviewUpArgs } from "./operations";
export { Operation } from "./events";
export { InputError } from "./validation";
export { driftSummary } from "./drift";
export { parseDuration, formatDuration } from "./duration";
export { DEFAULT_OPERATIONS_LIMIT, MAX_OPERATIONS_LIMIT, parseOperationsLimit } from "./history";
export type { GcCandidate, GcReport } from "./gc";
export * from "./types";
