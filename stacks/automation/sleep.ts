import { existsSync, readFileSync } from "fs";
import * as yaml from "js-yaml";
import { TAGS, tagValue } from "./tags";
import { stackFileOf, workDirOf } from "./workspace";

/**
 * Sleep and wake of a preview as state the program knows: the config value `catalyst:sleep`
 * (since when it sleeps; the environment program then scales every workload to zero,
 * components/environment/sleep.ts) and, because a stack's config lives in a work dir that CI
 * throws away, the same fact in the stack's tags, which live in the backend. Every `up` of a
 * preview reads the tags and passes `catalyst:sleep` on, so a later deploy neither wakes a
 * sleeping preview nor shows a change. All pure but the read of the work dir's settings.
 */

/** The config key the environment program reads (stacks/config/environment-schema.ts `sleep`). */
export const SLEEP_CONFIG_KEY = "catalyst:sleep";

/** Why a preview sleeps. */
export type SleepReason = "manual" | "idle" | "schedule";

/** The reasons, for validation and help. */
export const SLEEP_REASONS: readonly SleepReason[] = ["manual", "idle", "schedule"];

/** A preview's sleep state as its tags record it. */
export interface SleepState {
    /** ISO time; undefined while awake. */
    since?: string;
    reason?: SleepReason;
}

/** The sleep state the tags hold (`catalyst:sleepingSince` empty or missing: awake). */
export function sleepStateOf(tags: Record<string, string> | undefined): SleepState {
    const since = tags?.[TAGS.sleepingSince];
    if (since === undefined || since === "") return {};
    const reason = tags?.[TAGS.sleepReason] as SleepReason | undefined;
    return { since, reason: reason !== undefined && SLEEP_REASONS.includes(reason) ? reason : "manual" };
}

/** The config value and tags that put a preview to sleep at `now` for `reason`. */
export function sleepSettings(now: Date, reason: SleepReason): { config: Record<string, unknown>; tags: Record<string, string> } {
    const since = now.toISOString();
    return {
        config: { [SLEEP_CONFIG_KEY]: since },
        tags: { [TAGS.sleepingSince]: since, [TAGS.sleepReason]: reason, [TAGS.updatedAt]: since },
    };
}

/**
 * The config value and tags that wake a preview at `now`. `updatedAt` is the wake, so the idle
 * clock (idle.ts) counts from it, not from before the sleep.
 */
export function wakeSettings(now: Date): { config: Record<string, unknown>; tags: Record<string, string> } {
    return {
        config: { [SLEEP_CONFIG_KEY]: "" },
        tags: { [TAGS.sleepingSince]: "", [TAGS.sleepReason]: "", [TAGS.updatedAt]: now.toISOString() },
    };
}

/** The config an up passes on so that a sleeping preview stays asleep (empty when awake). */
export function keepSleeping(tags: Record<string, string> | undefined): Record<string, unknown> {
    const { since } = sleepStateOf(tags);
    return since === undefined ? {} : { [SLEEP_CONFIG_KEY]: since };
}

/** The owners tag an up writes when it is given owners (sleep and wake read it back). */
export function ownersTag(owners: readonly string[] | undefined): Record<string, string> {
    return owners === undefined || owners.length === 0 ? {} : { [TAGS.owners]: tagValue(owners.join(",")) };
}

/**
 * The per-stack config of a preview's last up, for a sleep or wake that must change nothing else:
 * the plain `catalyst:` values of its settings in this machine's work dir when there are any (the
 * API server, the controller, a developer's machine), else what the tags recorded (a fresh CI
 * runner): the PR, branch, SHA, image and owners. Secure values stay in the work dir as they are
 * (the engine keeps them). Config an up was given beyond these (`config` of the library call) is
 * only kept through the work dir.
 */
export function previousPreviewConfig(workRoot: string, stack: string, pr: number, tags: Record<string, string>): Record<string, unknown> {
    const file = stackFileOf(workDirOf(workRoot, stack), stack);
    if (existsSync(file)) {
        const settings = yaml.load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | undefined;
        const plain = Object.entries(settings?.config ?? {}).filter(([key, value]) =>
            key.startsWith("catalyst:") && !(typeof value === "object" && value !== null && "secure" in value));
        if (plain.length > 0) return Object.fromEntries(plain);
    }
    const config: Record<string, unknown> = { "catalyst:pr": String(pr) };
    const copy = (tag: string, key: string) => {
        const value = tags[tag];
        if (value !== undefined && value !== "") config[key] = value;
    };
    copy(TAGS.branch, "catalyst:branch");
    copy(TAGS.sha, "catalyst:sha");
    copy(TAGS.image, "catalyst:image");
    const owners = (tags[TAGS.owners] ?? "").split(",").filter((o) => o !== "");
    if (owners.length > 0) config["catalyst:access"] = { owners: { users: owners } };
    return config;
}
