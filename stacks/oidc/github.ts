import { GitHubSettings } from "./settings";
import { Identity } from "./identity";

/**
 * GitHub as the upstream identity provider (production): the provider sends people to GitHub's
 * OAuth authorization page, exchanges the code, and maps who came back to an identity: the login
 * is the user name, the teams of the configured organization are the groups, and only members
 * of that organization may sign in. URLs come from the settings, so a GitHub Enterprise server
 * (or a test's local fake) works the same way.
 */

/** What GitHub's API says about a person. */
export interface GitHubUser {
    id: number;
    login: string;
    email?: string | null;
}

/** One entry of `GET /user/teams`. */
export interface GitHubTeam {
    slug: string;
    organization: { login: string };
}

/** Refused by GitHub or by the organization rule; the message is safe to show and log. */
export class UpstreamError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UpstreamError";
    }
}

/** The scope asked of GitHub: `read:org` lists the person's teams and organization membership. */
export const GITHUB_SCOPE = "read:org";

/**
 * The identity of a GitHub user who is an active member of `organization`: the login as user
 * name, the slugs of that organization's teams (sorted, once each) as groups.
 */
export function githubIdentity(user: GitHubUser, teams: GitHubTeam[], organization: string): Identity {
    const org = organization.toLowerCase();
    const groups = [...new Set(teams.filter((t) => t.organization.login.toLowerCase() === org).map((t) => t.slug))].sort();
    return { sub: `github:${user.id}`, username: user.login, ...(user.email ? { email: user.email } : {}), groups };
}

/** The URL that sends a person to GitHub to sign in. */
export function githubAuthorizeUrl(settings: GitHubSettings, redirectUri: string, state: string): string {
    const url = new URL(`${settings.webUrl}/login/oauth/authorize`);
    url.search = new URLSearchParams({ client_id: settings.clientId, redirect_uri: redirectUri, state, scope: GITHUB_SCOPE, allow_signup: "false" }).toString();
    return url.toString();
}

async function getJson<T>(settings: GitHubSettings, token: string, pathAndQuery: string, fetchImpl: typeof fetch): Promise<{ status: number; body: T; link: string }> {
    const response = await fetchImpl(`${settings.apiUrl}${pathAndQuery}`, {
        headers: { accept: "application/vnd.github+json", authorization: `Bearer ${token}`, "x-github-api-version": "2022-11-28", "user-agent": "catalyst-oidc" },
    });
    const body = (await response.json().catch(() => ({}))) as T;
    return { status: response.status, body, link: response.headers.get("link") ?? "" };
}

/** Exchanges GitHub's authorization code and returns the identity, or throws {@link UpstreamError}. */
export async function githubSignIn(settings: GitHubSettings, code: string, redirectUri: string, fetchImpl: typeof fetch = fetch): Promise<Identity> {
    const exchange = await fetchImpl(`${settings.webUrl}/login/oauth/access_token`, {
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded", "user-agent": "catalyst-oidc" },
        body: new URLSearchParams({ client_id: settings.clientId, client_secret: settings.clientSecret, code, redirect_uri: redirectUri }).toString(),
    });
    const tokens = (await exchange.json().catch(() => ({}))) as { access_token?: string; error?: string };
    if (!exchange.ok || typeof tokens.access_token !== "string") {
        throw new UpstreamError(`GitHub refused the sign-in (${tokens.error ?? `HTTP ${exchange.status}`})`);
    }
    const token = tokens.access_token;
    const user = await getJson<GitHubUser>(settings, token, "/user", fetchImpl);
    if (user.status !== 200 || typeof user.body.id !== "number" || typeof user.body.login !== "string") {
        throw new UpstreamError(`GitHub did not say who signed in (HTTP ${user.status})`);
    }
    const membership = await getJson<{ state?: string }>(settings, token, `/user/memberships/orgs/${encodeURIComponent(settings.organization)}`, fetchImpl);
    if (membership.status !== 200 || membership.body.state !== "active") {
        throw new UpstreamError(`${user.body.login} is not an active member of the GitHub organization ${settings.organization}`);
    }
    const teams: GitHubTeam[] = [];
    // At most 10 pages of 100: more teams than that is not a person's membership list.
    for (let page = 1; page <= 10; page++) {
        const result = await getJson<GitHubTeam[]>(settings, token, `/user/teams?per_page=100&page=${page}`, fetchImpl);
        if (result.status !== 200 || !Array.isArray(result.body)) throw new UpstreamError(`GitHub did not list the teams of ${user.body.login} (HTTP ${result.status})`);
        teams.push(...result.body);
        if (!/rel="next"/.test(result.link)) break;
    }
    return githubIdentity(user.body, teams, settings.organization);
}
