import { formatDuration } from "./duration";
import type { Automation, CallOptions } from "./operations";
import { COMMAND_PREFIX, CommentCommand } from "./pr-commands";
import type { EnvironmentRecord, OperationResult } from "./types";
import { DEFAULT_WAKE_LINK_TTL_MS, signWakeToken, wakeKeyFromEnv, wakeLink } from "./wake-link";

/**
 * What an accepted `/catalyst` command does to a preview, for every front end that reads
 * comments: `catalyst github command` (the preview workflow) and the webhook of `catalyst serve`.
 */

/** The pull request a command is about, and what to deploy when no preview exists yet. */
export interface CommandTarget {
    pr: number;
    /** The pull request's author: the owner of a new preview. */
    author: string;
    headRef?: string;
    headSha?: string;
    image?: string;
}

/**
 * Runs an accepted command on the preview of `input.pr`; `record` is the preview as listed before
 * (undefined: none). Returns the operation's result, or one line saying why nothing ran.
 */
export async function runCommentCommand(
    automation: Pick<Automation, "upPreview" | "destroyPreview" | "sleepPreview" | "wakePreview">,
    call: CallOptions,
    command: Extract<CommentCommand, { kind: "command" }>,
    input: CommandTarget,
    record: EnvironmentRecord | undefined,
): Promise<OperationResult | string> {
    if (command.verb === "destroy") return await automation.destroyPreview(input.pr, call);
    if (command.verb === "sleep" || command.verb === "wake") {
        if (record === undefined) return `there is no preview to ${command.verb === "sleep" ? "put to sleep" : "wake"}`;
        return await (command.verb === "sleep" ? automation.sleepPreview(input.pr, {}, call) : automation.wakePreview(input.pr, call));
    }
    if (record === undefined && command.verb === "extend") return "there is no preview to extend; push a commit or comment /catalyst redeploy first";
    // An existing preview keeps what it runs (branch, commit, image, owner): redeploy repeats its
    // last up with a refresh first, so it also reverts drift; extend changes only its expiry.
    const owner = (record?.owner ?? input.author).replace(/\[bot\]$/, "");
    const base = record !== undefined
        ? { branch: record.branch ?? input.headRef, sha: record.sha, image: record.image }
        : { branch: input.headRef, sha: input.headSha, image: input.image };
    if (base.branch === undefined) return "no preview exists and the pull request's head branch is unknown: nothing to deploy";
    return await automation.upPreview({ pr: input.pr, branch: base.branch, sha: base.sha, image: base.image, owners: [owner], ttl: command.ttlMs, refresh: command.verb === "redeploy" || undefined }, call);
}

/** The command as people typed it, rebuilt from what was parsed (never the raw text). */
export function shownCommand(command: Extract<CommentCommand, { kind: "command" }>): string {
    return `\`${COMMAND_PREFIX} ${command.verb}${command.ttlMs === undefined ? "" : ` ${formatDuration(command.ttlMs)}`}\``;
}

/** What a succeeded command's answer says; a sleep adds a signed wake link when `env` can sign one. */
export function doneDetail(command: Extract<CommentCommand, { kind: "command" }>, outcome: OperationResult, env: NodeJS.ProcessEnv): string {
    if (command.verb === "extend") return `done: the preview now expires ${formatDuration(command.ttlMs ?? 0)} from now`;
    if (command.verb === "wake") return outcome.noop ? "the preview is awake already" : "done: the preview is awake";
    if (command.verb !== "sleep") return "done";
    const asleep = outcome.noop ? "the preview is asleep already" : "done: the preview is asleep (volumes, database and URL kept)";
    const key = wakeKeyFromEnv(env);
    const api = env.CATALYST_API_URL;
    if (key === undefined || api === undefined || api === "") return `${asleep}; wake it with ${COMMAND_PREFIX} wake`;
    const link = wakeLink(api, signWakeToken(key, outcome.stack, new Date(Date.now() + DEFAULT_WAKE_LINK_TTL_MS)));
    return `${asleep}; wake it with ${COMMAND_PREFIX} wake or [this link](${link}) (valid ${formatDuration(DEFAULT_WAKE_LINK_TTL_MS)})`;
}
