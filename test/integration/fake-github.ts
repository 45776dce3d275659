import { randomBytes } from "crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { AddressInfo } from "net";

/*
 * A stand-in for the few GitHub endpoints the OpenID provider calls (stacks/oidc/github.ts):
 * the OAuth authorize page, the code exchange, `/user`, the organization membership and
 * `/user/teams` (two pages, linked as GitHub links them). There is no GitHub on this machine, so
 * the sign-in round trip runs against this; what it checks of the provider's requests (client
 * id and secret, redirect URI, one use per code, the bearer token) is what GitHub checks.
 */

/** A person the fake says is signed in at GitHub. */
export interface FakeGitHubPerson {
    id: number;
    login: string;
    email: string | null;
    /** `active`, `pending`, or undefined for no membership in the organization. */
    membership?: "active" | "pending";
    /** Team slugs in the organization. */
    teams: string[];
}

export interface FakeGitHub {
    url: string;
    clientId: string;
    clientSecret: string;
    organization: string;
    /** Who the next authorize request signs in as. */
    signedIn?: FakeGitHubPerson;
    /** Every request, `METHOD path`, for assertions. */
    requests: string[];
    close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => resolve(body));
        req.on("error", reject);
    });
}

/** Starts the fake on a free loopback port. */
export async function startFakeGitHub(organization: string): Promise<FakeGitHub> {
    const codes = new Map<string, { person: FakeGitHubPerson; redirectUri: string }>();
    const tokens = new Map<string, FakeGitHubPerson>();
    const fake = { clientId: `Iv1.${randomBytes(8).toString("hex")}`, clientSecret: randomBytes(20).toString("hex"), organization, requests: [] as string[] } as FakeGitHub;
    const server: Server = createServer((req, res) => {
        void (async () => {
            const url = new URL(req.url ?? "/", "http://127.0.0.1");
            fake.requests.push(`${req.method} ${url.pathname}`);
            if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
                const redirect = url.searchParams.get("redirect_uri");
                if (url.searchParams.get("client_id") !== fake.clientId || redirect === null || fake.signedIn === undefined) return send(res, 400, { error: "bad authorize request" });
                const code = randomBytes(10).toString("hex");
                codes.set(code, { person: fake.signedIn, redirectUri: redirect });
                const back = new URL(redirect);
                back.searchParams.set("code", code);
                back.searchParams.set("state", url.searchParams.get("state") ?? "");
                res.writeHead(302, { location: back.toString() });
                return res.end();
            }
            if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
                const form = new URLSearchParams(await readBody(req));
                const grant = codes.get(form.get("code") ?? "");
                codes.delete(form.get("code") ?? "");
                if (form.get("client_id") !== fake.clientId || form.get("client_secret") !== fake.clientSecret) return send(res, 200, { error: "incorrect_client_credentials" });
                if (grant === undefined || grant.redirectUri !== form.get("redirect_uri")) return send(res, 200, { error: "bad_verification_code" });
                const token = `gho_${randomBytes(16).toString("hex")}`;
                tokens.set(token, grant.person);
                return send(res, 200, { access_token: token, token_type: "bearer", scope: "read:org" });
            }
            const person = tokens.get((req.headers.authorization ?? "").replace(/^Bearer /, ""));
            if (person === undefined) return send(res, 401, { message: "Bad credentials" });
            if (url.pathname === "/api/v3/user") return send(res, 200, { id: person.id, login: person.login, email: person.email });
            if (url.pathname === `/api/v3/user/memberships/orgs/${organization}`) {
                return person.membership === undefined ? send(res, 404, { message: "Not Found" }) : send(res, 200, { state: person.membership });
            }
            if (url.pathname === "/api/v3/user/teams") {
                const teams = [...person.teams.map((slug) => ({ slug, organization: { login: organization } })), { slug: "elsewhere", organization: { login: "other-org" } }];
                const page = Number(url.searchParams.get("page") ?? "1");
                const half = Math.ceil(teams.length / 2);
                if (page === 1) return send(res, 200, teams.slice(0, half), { link: `<${fake.url}/api/v3/user/teams?per_page=100&page=2>; rel="next"` });
                return send(res, 200, page === 2 ? teams.slice(half) : []);
            }
            return send(res, 404, { message: "Not Found" });
        })();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fake.close = () => new Promise((resolve) => server.close(() => resolve()));
    return fake;
}
