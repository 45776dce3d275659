import { redact } from "../automation/audit";
import type { EnvironmentRecord, OperationResult } from "../automation/types";

/**
 * The open pull requests of the current repository from the GitHub REST API, for `preview gc
 * --open-prs github`. Any failure throws, and gc then changes nothing.
 */
export async function openPullRequests(env: NodeJS.ProcessEnv = process.env): Promise<number[]> {
    const repository = env.GITHUB_REPOSITORY;
    const token = env.GITHUB_TOKEN;
    if (!repository || !token) {
        throw new Error("--open-prs github needs GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN");
    }
    const api = env.GITHUB_API_URL ?? "https://api.github.com";
    const numbers: number[] = [];
    for (let page = 1; page <= 50; page++) {
        const response = await fetch(`${api}/repos/${repository}/pulls?state=open&per_page=100&page=${page}`, {
            headers: { Authorization: `Bearer ${token}`, Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" },
            signal: AbortSignal.timeout(30_000),
        });
        if (!response.ok) {
            throw new Error(`GitHub API answered ${response.status} ${response.statusText}`);
        }
        const pulls = (await response.json()) as { number: number }[];
        numbers.push(...pulls.map((p) => p.number));
        if (pulls.length < 100) {
            return numbers;
        }
    }
    throw new Error("more than 5000 open pull requests; refusing to guess");
}

// --- the one preview comment of a pull request ------------------------------------------------

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
