import { DURATION_HELP, formatDuration, parseDuration } from "./duration";

/** A GitHub login (a bot's ends in `[bot]`). */
export const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

/**
 * Commands in pull-request comments (`/catalyst redeploy`, `/catalyst extend 48h`, ...): a strict
 * grammar and who may use them. Pure functions, shared by every front end that reads comments
 * (the `catalyst github command` adapter of the preview workflow today, a webhook later).
 *
 * Grammar: exactly one line of the comment starts (column 0, so a `> ` quote of someone else's
 * command does not count) with `/catalyst`, followed by a known verb and, for `extend`, one
 * duration; words are separated by spaces or tabs; nothing else is allowed on the line. Lines
 * inside fenced code blocks are ignored. Comment text is never echoed back except a verb that is
 * plain lower-case letters, so an answer cannot carry someone's markdown, mentions or HTML.
 */

/** The verbs, in the order the help lists them. */
export const COMMENT_VERBS = ["redeploy", "sleep", "wake", "destroy", "extend"] as const;
export type CommentVerb = (typeof COMMENT_VERBS)[number];

/** The prefix of a command line. */
export const COMMAND_PREFIX = "/catalyst";

/** GitHub's own limit on a comment body; anything longer is not a comment GitHub sent. */
export const MAX_COMMENT_LENGTH = 65_536;

/** A command line longer than this is refused unparsed: the longest valid one is far shorter. */
export const MAX_COMMAND_LINE = 64;

/** The longest `extend`: a preview lives at most this long past the command (fair use). */
export const MAX_EXTEND_MS = 30 * 86_400_000;

/** What a comment says. */
export type CommentCommand =
    | { kind: "none" }
    | { kind: "invalid"; reason: string }
    | { kind: "command"; verb: CommentVerb; ttlMs?: number };

const USAGE = `usage: ${COMMAND_PREFIX} ${COMMENT_VERBS.map((v) => (v === "extend" ? "extend <duration>" : v)).join("|")}`;

/** Parses one comment body. Never throws; bodies of any size are read in bounded time. */
export function parseCommentCommand(body: unknown): CommentCommand {
    if (typeof body !== "string") return { kind: "none" };
    if (body.length > MAX_COMMENT_LENGTH) return { kind: "invalid", reason: `the comment is longer than ${MAX_COMMENT_LENGTH} characters` };
    const lines: string[] = [];
    let fenced = false;
    for (const line of body.split(/\r?\n/)) {
        if (/^ {0,3}(```|~~~)/.test(line)) {
            fenced = !fenced;
            continue;
        }
        if (!fenced && line.startsWith(COMMAND_PREFIX)) lines.push(line);
    }
    // `/catalystic` is a word, not a command.
    const commands = lines.filter((line) => line.length === COMMAND_PREFIX.length || /^[ \t]/.test(line.slice(COMMAND_PREFIX.length)));
    if (commands.length === 0) return { kind: "none" };
    if (commands.length > 1) return { kind: "invalid", reason: `one command per comment, found ${commands.length}` };
    const line = commands[0].replace(/[ \t]+$/, "");
    if (line.length > MAX_COMMAND_LINE) return { kind: "invalid", reason: `a command line is at most ${MAX_COMMAND_LINE} characters; ${USAGE}` };
    const words = line.slice(COMMAND_PREFIX.length).split(/[ \t]+/).filter((w) => w !== "");
    if (words.length === 0) return { kind: "invalid", reason: `no verb; ${USAGE}` };
    const [verb, ...args] = words;
    if (!(COMMENT_VERBS as readonly string[]).includes(verb)) {
        const shown = /^[a-z]{1,20}$/.test(verb) ? `"${verb}"` : "the verb given";
        return { kind: "invalid", reason: `unknown command: ${shown}; ${USAGE}` };
    }
    const known = verb as CommentVerb;
    if (known !== "extend") {
        return args.length === 0 ? { kind: "command", verb: known } : { kind: "invalid", reason: `${known} takes no arguments; ${USAGE}` };
    }
    if (args.length !== 1) return { kind: "invalid", reason: `extend takes one duration, e.g. ${COMMAND_PREFIX} extend 48h` };
    const ms = parseDuration(args[0]);
    if (ms === undefined || ms === 0) return { kind: "invalid", reason: `extend: must be ${DURATION_HELP.replace(", or 0", "")}` };
    if (ms > MAX_EXTEND_MS) return { kind: "invalid", reason: `extend: at most ${formatDuration(MAX_EXTEND_MS)}` };
    return { kind: "command", verb: "extend", ttlMs: ms };
}

/**
 * Repository permissions as the collaborator permission API names them
 * (`GET /repos/{owner}/{repo}/collaborators/{user}/permission`: admin, maintain, write, triage,
 * read, none); `unknown` when the lookup failed.
 */
export const PERMISSIONS = ["admin", "maintain", "write", "triage", "read", "none", "unknown"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Permissions that may run commands on anyone's pull request. */
const WRITE_PERMISSIONS: readonly Permission[] = ["admin", "maintain", "write"];

/** Who wrote the comment and on whose pull request. */
export interface Commenter {
    login: string;
    /** The pull request's author. */
    author: string;
    /** The commenter's permission on the repository. */
    permission: Permission;
}

/**
 * Whether `who` may run commands: the pull request's author, or anyone with write access. The
 * comment's `author_association` is not enough on its own: a MEMBER of the organization or a
 * COLLABORATOR may have read access only; the permission API says what they may do.
 */
export function mayCommand(who: Commenter): { allowed: boolean; reason: string } {
    if (who.login !== "" && who.login.toLowerCase() === who.author.toLowerCase()) {
        return { allowed: true, reason: "the pull request's author" };
    }
    if (WRITE_PERMISSIONS.includes(who.permission)) {
        return { allowed: true, reason: `${who.permission} access to the repository` };
    }
    return { allowed: false, reason: `only the pull request's author and users with write access may run ${COMMAND_PREFIX} commands` };
}
