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

// The one preview comment lives in the library (the webhook of `catalyst serve` writes it too).
export { PREVIEW_COMMENT_MARKER, previewComment, quoted, runUrl } from "../automation/pr-comment";
export type { PreviewCommentInput } from "../automation/pr-comment";
