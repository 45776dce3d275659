import { readFileSync } from "fs";
import { formatDuration } from "../automation/duration";
import { COMMAND_PREFIX, LOGIN, MAX_EXTEND_MS, mayCommand, parseCommentCommand, Permission, PERMISSIONS } from "../automation/pr-commands";
import type { OperationResult } from "../automation/types";
import { gateSettingsFromEnv, DEFAULT_IGNORED_PATHS, PREVIEW_IGNORE_ENV, PREVIEW_LABEL_ENV, previewGate, PullRequestEvent } from "../automation/pr-gate";
import { InputError } from "../automation/validation";
import { AnyCommand, defineCommand, EXIT, OptionSpec, UsageError } from "../command";
import type { CliDependencies } from "./commands";
import { PREVIEW_COMMENT_MARKER, previewComment } from "./github";
import { doneDetail, runCommentCommand, shownCommand as shown } from "../automation/pr-actions";
import { branch, exitCode, image, json, pr, session, sha, timeout, wait } from "./session";

/**
 * The GitHub adapter of the preview workflow (.github/workflows/preview.yml): `github command`
 * answers a `/catalyst ...` comment (parse, authorize, run the operation through the library,
 * render the one preview comment), `github comment` renders that comment for a `preview up` or
 * `preview down` result. The workflow only moves text between GitHub and these commands.
 */

/** Where `github command` reads the comment: never an argument, so no shell ever quotes it. */
export const COMMENT_BODY_ENV = "CATALYST_COMMENT_BODY";

const GROUP = "The GitHub adapter of the preview workflow: gate, command, comment";

/** A GitHub login; apps comment as `<name>[bot]`. */
const login = (description: string): OptionSpec<string> => ({
    value: "<login>",
    description,
    required: true,
    parse: (text, flag) => {
        if (!LOGIN.test(text)) throw new InputError(flag, `must be a GitHub login (letters, digits and hyphens, at most 39, optionally ending in [bot]), got ${JSON.stringify(text.slice(0, 60))}`);
        return text;
    },
});

/** The reactions an answer uses (GitHub's reaction names). */
export type Reaction = "+1" | "-1" | "confused";

/** What `github command --json` prints. */
export interface CommandAnswer {
    command: string | null;
    accepted: boolean;
    reaction: Reaction | null;
    /** One line for people (markdown-safe: no user text but a known verb). */
    answer: string | null;
    marker: string;
    /** The new body of the one preview comment; null: leave it alone. */
    body: string | null;
    result?: OperationResult;
}

interface CommandInput {
    pr: number;
    commenter: string;
    author: string;
    permission?: Permission;
    headRef?: string;
    headSha?: string;
    image?: string;
    json: boolean;
    timeout?: number;
    wait?: number;
}

interface GateInput {
    event: string;
    files?: string;
    json: boolean;
}

interface CommentInput {
    pr: number;
    result: string;
    sha?: string;
    json: boolean;
}

/** The `github` commands over `deps`. */
export function githubCommands(deps: CliDependencies): AnyCommand[] {
    return [
        defineCommand<GateInput>({
            name: "github gate",
            group: GROUP,
            summary: "Decide whether a pull_request event deploys a preview: not a draft, the label gate, not documentation only.",
            options: {
                event: { value: "<file>", description: "The event payload (GITHUB_EVENT_PATH)", required: true },
                files: { value: "<file>", description: "The files the pull request changes, one per line (missing or empty: unknown, which deploys)" },
                json: { description: "Print { preview, reason } instead of the reason alone" },
            },
            notes: [
                `Label gate: ${PREVIEW_LABEL_ENV} names the label a pull request needs (unset or empty: no gate, every pull request). ` +
                    `Documentation: ${PREVIEW_IGNORE_ENV} lists globs separated by commas or new lines (default ${DEFAULT_IGNORED_PATHS.join(", ")}); a change of only such files deploys nothing.`,
                "Exit codes: 0 decided (deploy or not: see the output), 2 the event file is not a pull_request payload.",
            ],
            run: async (input, context) => {
                let event: PullRequestEvent;
                try {
                    event = JSON.parse(readFileSync(input.event, "utf8")) as PullRequestEvent;
                    if (typeof event.action !== "string" || typeof event.pull_request?.number !== "number") throw new Error("no action or pull_request.number");
                } catch (err) {
                    throw new UsageError(`catalyst github gate: --event: ${input.event} is not a pull_request event payload (${(err as Error).message.split("\n")[0]})`);
                }
                let files: string[] = [];
                try {
                    files = input.files === undefined ? [] : readFileSync(input.files, "utf8").split("\n").map((f) => f.trim()).filter((f) => f !== "");
                } catch {
                    // Unknown files deploy: a missed preview is worse than an extra one.
                }
                const decision = previewGate(event, { ...gateSettingsFromEnv(deps.env ?? process.env), files });
                context.io.stdout(input.json ? `${JSON.stringify(decision)}\n` : `${decision.preview ? "preview" : "no preview"}: ${decision.reason}\n`);
                return EXIT.ok;
            },
        }),
        defineCommand<CommandInput>({
            name: "github command",
            group: GROUP,
            summary: `Answer a ${COMMAND_PREFIX} comment on a pull request: redeploy, sleep, wake, extend <duration>, destroy.`,
            options: {
                pr,
                commenter: login("Who wrote the comment (github.event.comment.user.login)"),
                author: login("The pull request's author (github.event.issue.user.login)"),
                permission: {
                    value: "<level>",
                    description: `The commenter's repository permission from the collaborator permission API: ${PERMISSIONS.join(", ")} (default unknown: only the author may command)`,
                    parse: (text, flag) => {
                        if (!(PERMISSIONS as readonly string[]).includes(text)) throw new InputError(flag, `must be one of ${PERMISSIONS.join(", ")}, got ${JSON.stringify(text.slice(0, 40))}`);
                        return text as Permission;
                    },
                },
                headRef: { ...branch, description: "The pull request's head branch: what redeploy deploys when no preview exists yet" },
                headSha: { ...sha, description: "The pull request's head commit, with --head-ref" },
                image: { ...image, description: "The image to run when no preview exists yet, pinned by tag or digest" },
                json,
                timeout,
                wait,
            },
            notes: [
                `The comment is read from ${COMMENT_BODY_ENV}, never from an argument. One line of it must start with ${COMMAND_PREFIX} and a known verb; lines in code fences and quotes do not count.`,
                `Only the pull request's author and users with admin, maintain or write permission are obeyed. An existing preview keeps its branch, commit, image and owner: redeploy runs its last up again with a refresh first (reverting drift); extend <duration> sets its expiry that long from now (at most ${formatDuration(MAX_EXTEND_MS)}); sleep and wake change only whether it runs. With CATALYST_WAKE_KEY and CATALYST_API_URL set, the answer to sleep carries a signed wake link.`,
                "Exit codes: 0 done or no command in the comment, 1 the operation failed, 2 refused (unknown command, not allowed, nothing to act on), 3 busy. With --json: { command, accepted, reaction, answer, marker, body, result }.",
            ],
            run: async (input, context) => {
                const body = (deps.env ?? process.env)[COMMENT_BODY_ENV];
                if (body === undefined) throw new UsageError(`catalyst github command: ${COMMENT_BODY_ENV} is not set; it holds the comment's body`);
                const command = parseCommentCommand(body);
                const reply = (answer: CommandAnswer, human: string, code: number) => {
                    context.io.stdout(input.json ? `${JSON.stringify(answer)}\n` : `${human}\n`);
                    return code;
                };
                if (command.kind === "none") {
                    return reply({ command: null, accepted: false, reaction: null, answer: null, marker: PREVIEW_COMMENT_MARKER, body: null }, "no /catalyst command in the comment", EXIT.ok);
                }
                return session(deps, context, "github command", input, async (automation, call) => {
                    const record = (await automation.listPreviews()).find((p) => p.pr === input.pr && p.project === undefined);
                    const by = `from \`${input.commenter}\``;
                    const refuse = (verb: string | null, reaction: Reaction, answer: string) =>
                        reply({ command: verb, accepted: false, reaction, answer, marker: PREVIEW_COMMENT_MARKER, body: previewComment({ pr: input.pr, record, answer }) }, answer, EXIT.usage);
                    if (command.kind === "invalid") return refuse(null, "confused", `a ${COMMAND_PREFIX} command ${by} was not understood: ${command.reason}`);
                    const who = mayCommand({ login: input.commenter, author: input.author, permission: input.permission ?? "unknown" });
                    if (!who.allowed) return refuse(command.verb, "-1", `${shown(command)} ${by} refused: ${who.reason}`);
                    const outcome = await runCommentCommand(automation, call, command, input, record);
                    if (typeof outcome === "string") return refuse(command.verb, "confused", `${shown(command)} ${by}: ${outcome}`);
                    const ok = outcome.status === "succeeded";
                    const detail = ok ? doneDetail(command, outcome, deps.env ?? process.env) : outcome.status;
                    const answer = `${shown(command)} ${by}: ${detail}`;
                    const body = previewComment({ pr: input.pr, result: outcome, record: outcome.action === "destroy" ? undefined : record, answer });
                    return reply({ command: command.verb, accepted: true, reaction: ok ? "+1" : "-1", answer, marker: PREVIEW_COMMENT_MARKER, body, result: outcome }, answer, exitCode(outcome.status));
                });
            },
        }),
        defineCommand<CommentInput>({
            name: "github comment",
            group: GROUP,
            summary: "Render the pull request's one preview comment from the JSON a `preview up --json` or `preview down --json` printed.",
            options: {
                pr,
                result: { value: "<file>", description: "The JSON result file; missing or unreadable: the comment says catalyst printed no result", required: true },
                sha: { ...sha, description: "The commit the run was for" },
                json: { description: "Print { marker, body } instead of the body alone (body null: leave the comment alone)" },
            },
            notes: [
                "A failure shows the one-line reason and the failing resource as inline code (secrets redacted, no markdown), and a link to the run's log (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID).",
            ],
            run: async (input, context) => {
                let result: OperationResult;
                try {
                    result = JSON.parse(readFileSync(input.result, "utf8")) as OperationResult;
                    if (typeof result !== "object" || result === null || typeof result.status !== "string") throw new Error("not a result");
                } catch {
                    result = { action: "up", stack: `pr-${input.pr}`, kind: "preview", status: "failed", error: "catalyst printed no result", durations: { totalMs: 0, waitMs: 0, runMs: 0 } };
                }
                // A destroy of a preview that never existed (a docs-only pull request closed) has nothing to say.
                const body = result.action === "destroy" && result.noop === true ? null : previewComment({ pr: input.pr, result, sha: input.sha });
                context.io.stdout(input.json ? `${JSON.stringify({ marker: PREVIEW_COMMENT_MARKER, body })}\n` : `${body ?? ""}\n`);
                return EXIT.ok;
            },
        }),
    ];
}
