import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { AddressInfo } from "net";
import { GitHubTeam, githubAuthorizeUrl, githubIdentity, githubSignIn } from "../../../stacks/oidc/github";
import { GitHubSettings } from "../../../stacks/oidc/settings";

/*
 * GitHub cannot be reached from here: these tests run the upstream sign-in against a local fake
 * of GitHub's OAuth and REST endpoints (the same paths, status codes and pagination headers).
 */

const team = (slug: string, org: string): GitHubTeam => ({ slug, organization: { login: org } });

describe("GitHub identity mapping", () => {
    it("uses the login as user name and the organization's team slugs as groups", () => {
        const identity = githubIdentity({ id: 42, login: "Octo-Cat", email: "octo@example.com" },
            [team("catalyst-developers", "acme"), team("reviewers", "ACME"), team("admins", "other-org"), team("reviewers", "acme")], "acme");
        expect(identity).toEqual({ sub: "github:42", username: "Octo-Cat", email: "octo@example.com", groups: ["catalyst-developers", "reviewers"] });
    });

    it("leaves the e-mail out when GitHub has none public", () => {
        expect(githubIdentity({ id: 7, login: "quiet", email: null }, [], "acme")).toEqual({ sub: "github:7", username: "quiet", groups: [] });
    });
});

describe("GitHub sign-in against a local fake", () => {
    let server: Server;
    let settings: GitHubSettings;
    const state = { member: true, tokenError: false, requests: [] as string[] };

    beforeAll(async () => {
        server = createServer((req: IncomingMessage, res: ServerResponse) => {
            const url = new URL(req.url ?? "/", "http://fake");
            state.requests.push(`${req.method} ${url.pathname}${url.search}`);
            const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
                res.writeHead(status, { "content-type": "application/json", ...headers });
                res.end(JSON.stringify(body));
            };
            const authorized = req.headers.authorization === "Bearer gho_fake";
            if (url.pathname === "/login/oauth/access_token") {
                let body = "";
                req.on("data", (c) => (body += c));
                req.on("end", () => {
                    const form = new URLSearchParams(body);
                    if (state.tokenError || form.get("code") !== "good-code" || form.get("client_secret") !== "shh") return json(200, { error: "bad_verification_code" });
                    json(200, { access_token: "gho_fake", token_type: "bearer", scope: "read:org" });
                });
                return;
            }
            if (!authorized) return json(401, { message: "Bad credentials" });
            if (url.pathname === "/api/user") return json(200, { id: 1001, login: "octo", email: null });
            if (url.pathname === "/api/user/memberships/orgs/acme") return state.member ? json(200, { state: "active" }) : json(404, { message: "Not Found" });
            if (url.pathname === "/api/user/teams") {
                const page = url.searchParams.get("page");
                if (page === "1") return json(200, [team("catalyst-developers", "acme"), team("elsewhere", "other")], { link: '<http://fake/api/user/teams?page=2>; rel="next"' });
                return json(200, [team("catalyst-reviewers", "acme")]);
            }
            json(404, { message: "Not Found" });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        settings = { clientId: "Iv1.fake", clientSecret: "shh", organization: "acme", webUrl: base, apiUrl: `${base}/api` };
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
        state.member = true;
        state.tokenError = false;
        state.requests = [];
    });

    it("sends people to GitHub's authorize page with the app's client id, callback, state and read:org", () => {
        const url = new URL(githubAuthorizeUrl(settings, "https://id.example.com/oidc/interaction/u1/github/callback", "st4te"));
        expect(url.pathname).toBe("/login/oauth/authorize");
        expect(Object.fromEntries(url.searchParams)).toMatchObject({ client_id: "Iv1.fake", state: "st4te", scope: "read:org", redirect_uri: "https://id.example.com/oidc/interaction/u1/github/callback" });
    });

    it("maps a member's login and teams (all pages) to an identity", async () => {
        const identity = await githubSignIn(settings, "good-code", "https://id.example.com/cb");
        expect(identity).toEqual({ sub: "github:1001", username: "octo", groups: ["catalyst-developers", "catalyst-reviewers"] });
        expect(state.requests.filter((r) => r.startsWith("GET /api/user/teams"))).toHaveLength(2);
    });

    it("refuses someone who is not a member of the organization", async () => {
        state.member = false;
        await expect(githubSignIn(settings, "good-code", "https://id.example.com/cb")).rejects.toThrow("octo is not an active member of the GitHub organization acme");
    });

    it("refuses a code GitHub does not accept, with GitHub's error", async () => {
        await expect(githubSignIn(settings, "stale-code", "https://id.example.com/cb")).rejects.toThrow("GitHub refused the sign-in (bad_verification_code)");
    });
});
