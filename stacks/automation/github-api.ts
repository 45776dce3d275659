import { PERMISSIONS, Permission } from "./pr-commands";
import { PREVIEW_COMMENT_MARKER } from "./pr-comment";

/**
 * The few GitHub REST calls the webhook of `catalyst serve` makes (REST API version
 * 2022-11-28): a pull request's changed files (the documentation filter), a commenter's
 * permission, a reaction on a comment, and the one preview comment (found by its marker, edited
 * in place, or created). Authenticated with a token (a fine-grained personal access token or an
 * installation token of a GitHub App, given as secret config); this module does not mint App
 * tokens itself. Every call has a timeout; errors name the call and GitHub's status, never the
 * token.
 */

/** Where the calls go and who makes them. */
export interface GitHubApiOptions {
    /** `https://api.github.com`, or a GitHub Enterprise `https://host/api/v3`. */
    apiUrl: string;
    /** The token (secret). */
    token: string;
    /** `owner/name`. */
    repository: string;
    /** Replaceable in unit tests. */
    fetch?: typeof fetch;
    /** Per call (default 15 s). */
    timeoutMs?: number;
}

/** GitHub's limit of the files API: at most 3000 files, 100 per page. */
const MAX_FILE_PAGES = 30;
/** How many pages of comments are searched for the preview comment. */
const MAX_COMMENT_PAGES = 10;

/** A repository's full name as GitHub spells it. */
export const REPOSITORY_PATTERN = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;

/** A client of the calls above for one repository. */
export class GitHubApi {
    private readonly fetch: typeof fetch;

    constructor(private readonly options: GitHubApiOptions) {
        if (!REPOSITORY_PATTERN.test(options.repository)) throw new Error(`not a repository name: ${JSON.stringify(options.repository.slice(0, 80))}`);
        this.fetch = options.fetch ?? fetch;
    }

    private async call<T>(what: string, method: string, path: string, body?: unknown): Promise<T> {
        const response = await this.fetch(`${this.options.apiUrl.replace(/\/+$/, "")}/repos/${this.options.repository}${path}`, {
            method,
            headers: {
                authorization: `Bearer ${this.options.token}`,
                accept: "application/vnd.github+json",
                "x-github-api-version": "2022-11-28",
                "user-agent": "catalyst-environments",
                ...(body === undefined ? {} : { "content-type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
        });
        if (!response.ok) throw new Error(`GitHub ${what}: ${response.status} ${response.statusText}`);
        return (await response.json()) as T;
    }

    /** The files a pull request changes (at most 3000, GitHub's own limit). */
    async changedFiles(pr: number): Promise<string[]> {
        const files: string[] = [];
        for (let page = 1; page <= MAX_FILE_PAGES; page++) {
            const batch = await this.call<{ filename: string }[]>("changed files", "GET", `/pulls/${pr}/files?per_page=100&page=${page}`);
            files.push(...batch.map((f) => f.filename));
            if (batch.length < 100) break;
        }
        return files;
    }

    /** `login`'s permission on the repository; `unknown` when the lookup fails (only the author may then command). */
    async permission(login: string): Promise<Permission> {
        try {
            const answer = await this.call<{ permission?: string }>("permission", "GET", `/collaborators/${encodeURIComponent(login)}/permission`);
            return (PERMISSIONS as readonly string[]).includes(answer.permission ?? "") ? (answer.permission as Permission) : "unknown";
        } catch {
            return "unknown";
        }
    }

    /** Adds a reaction (`+1`, `-1`, `confused`, ...) to an issue comment. */
    async react(commentId: number, content: string): Promise<void> {
        await this.call("reaction", "POST", `/issues/comments/${commentId}/reactions`, { content });
    }

    /**
     * Writes the pull request's one preview comment: edits the comment that starts with the
     * marker, or creates it. Returns the comment's id.
     */
    async upsertPreviewComment(pr: number, body: string): Promise<number> {
        for (let page = 1; page <= MAX_COMMENT_PAGES; page++) {
            const comments = await this.call<{ id: number; body?: string }[]>("comments", "GET", `/issues/${pr}/comments?per_page=100&page=${page}`);
            const mine = comments.find((c) => (c.body ?? "").startsWith(PREVIEW_COMMENT_MARKER));
            if (mine !== undefined) {
                await this.call("comment edit", "PATCH", `/issues/comments/${mine.id}`, { body });
                return mine.id;
            }
            if (comments.length < 100) break;
        }
        return (await this.call<{ id: number }>("comment", "POST", `/issues/${pr}/comments`, { body })).id;
    }
}
