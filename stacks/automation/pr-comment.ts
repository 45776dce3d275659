import { redact } from "./audit";
import type { EnvironmentRecord, OperationResult } from "./types";

/**
 * The one preview comment of a pull request: its marker and its body. Shared by the preview
 * workflow's adapter (`catalyst github comment|command`) and the webhook of `catalyst serve`, so
 * that both write the same comment.
 */

/** Marks the one comment per pull request the preview workflow keeps up to date. */
export const PREVIEW_COMMENT_MARKER = "<!-- catalyst-preview -->";

/** The longest text taken from an error or a resource name into a comment. */
const MAX_QUOTED = 300;

/**
 * Text from the engine or a user as inline code: a code span shows markdown, HTML and @mentions
 * literally, so an error line cannot format, link or ping. Secrets in it are redacted first
 * (values of secret-looking environment variables, key=value pairs, bearer tokens).
 */
export function quoted(text: string, env: NodeJS.ProcessEnv = process.env): string {
    const line = redact(text, env).replace(/[\r\n]+/g, " ").replace(/`/g, "'");
    return `\`${line.length > MAX_QUOTED ? `${line.slice(0, MAX_QUOTED - 3)}...` : line}\``;
}

/** The link to this workflow run's log, from the variables GitHub Actions sets. */
export function runUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: run } = env;
    return server && repository && run && /^[0-9]+$/.test(run) ? `${server}/${repository}/actions/runs/${run}` : undefined;
}

/** What the comment shows. */
export interface PreviewCommentInput {
    pr: number;
    /** The operation this run performed, if any. */
    result?: OperationResult;
    /** The preview as the backend lists it (when no operation ran, or for its expiry). */
    record?: EnvironmentRecord;
    /** The commit the run was for. */
    sha?: string;
    /** One line answering a comment command. */
    answer?: string;
}

/** The body of the one preview comment: status, URL, failure (reason, resource, log link), last command. */
export function previewComment(input: PreviewCommentInput, env: NodeJS.ProcessEnv = process.env): string {
    const { result, record } = input;
    const stack = result?.stack ?? record?.stack ?? `pr-${input.pr}`;
    const log = runUrl(env);
    const lines = [PREVIEW_COMMENT_MARKER];
    if (result?.action === "destroy") {
        lines.push(result.status === "succeeded"
            ? `### Preview environment: destroyed\n\nIts stack \`${stack}\` and namespace are gone.`
            : `### Preview environment: destroy ${result.status}\n\nThe stack \`${stack}\` is kept; destroy runs again at the next close or gc.`);
    } else if (result === undefined && record === undefined) {
        lines.push("### Preview environment: none", "", `No preview exists for this pull request (stack \`${stack}\`).`);
    } else {
        const status = result === undefined ? "ready" : result.status === "succeeded" ? "ready" : result.status;
        const url = result?.url ?? record?.url;
        const sha = input.sha ?? record?.sha;
        lines.push(`### Preview environment: ${status}`, "");
        if (url !== undefined && status === "ready") lines.push(`**URL:** ${url}`);
        const namespace = result?.namespace ?? record?.namespace;
        lines.push([`**Stack:** \`${stack}\``, namespace && `**Namespace:** \`${namespace}\``, sha && `**Commit:** ${sha.slice(0, 7)}`].filter(Boolean).join(" · "));
        if (record?.expiresAt !== undefined && result === undefined) lines.push(`**Expires:** ${record.expiresAt}`);
        if (result !== undefined && result.status !== "succeeded") {
            lines.push(`**Error:** ${quoted(result.error ?? "no details", env)}`);
            if (result.failedResource !== undefined) {
                lines.push(`**Failing resource:** ${quoted(result.failedResource.type, env)} ${quoted(result.failedResource.name, env)}`);
            }
        }
    }
    if (input.answer !== undefined) lines.push("", `**Last command:** ${input.answer}`);
    if (log !== undefined) lines.push("", `[Workflow run log](${log})`);
    return lines.join("\n");
}
