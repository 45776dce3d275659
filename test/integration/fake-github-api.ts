import { randomBytes } from "crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { AddressInfo } from "net";

/*
 * A stand-in for the few GitHub REST calls the webhook of `catalyst serve` makes
 * (stacks/automation/github-api.ts): a pull request's files, a collaborator's permission,
 * reactions, and the issue comments it lists, creates and edits. There is no GitHub on this
 * machine; like GitHub, the fake refuses a request without the repository's token (401) and
 * answers in the documented shapes. The OAuth side of GitHub is faked in fake-github.ts.
 */

/** A comment the fake holds. */
export interface FakeComment {
    id: number;
    pr: number;
    body: string;
    /** How often it was edited. */
    edits: number;
}

export interface FakeGitHubApi {
    /** The API base URL (what CATALYST_GITHUB_API_URL would be). */
    url: string;
    /** The token it accepts. */
    token: string;
    /** `owner/name` it serves. */
    repository: string;
    /** Files each pull request changes. */
    files: Map<number, string[]>;
    comments: FakeComment[];
    reactions: { commentId: number; content: string }[];
    /** Every request, `METHOD path`. */
    requests: string[];
    close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => resolve(body === "" ? {} : (JSON.parse(body) as Record<string, unknown>)));
        req.on("error", reject);
    });
}

/** Starts the fake on a free loopback port for `repository`. */
export async function startFakeGitHubApi(repository: string): Promise<FakeGitHubApi> {
    const fake = { token: `ghs_${randomBytes(16).toString("hex")}`, repository, files: new Map(), comments: [], reactions: [], requests: [] } as unknown as FakeGitHubApi;
    let nextId = 1000;
    const server: Server = createServer((req, res) => {
        void (async () => {
            const url = new URL(req.url ?? "/", "http://127.0.0.1");
            fake.requests.push(`${req.method} ${url.pathname}`);
            if (req.headers.authorization !== `Bearer ${fake.token}`) return send(res, 401, { message: "Bad credentials" });
            const prefix = `/repos/${repository}`;
            if (!url.pathname.startsWith(`${prefix}/`)) return send(res, 404, { message: "Not Found" });
            const route = `${req.method} ${url.pathname.slice(prefix.length)}`;
            const page = Number(url.searchParams.get("page") ?? "1");
            let m: RegExpExecArray | null;
            if ((m = /^GET \/pulls\/(\d+)\/files$/.exec(route))) {
                return send(res, 200, page === 1 ? (fake.files.get(Number(m[1])) ?? ["src/index.ts"]).map((filename) => ({ filename, status: "modified" })) : []);
            }
            if ((m = /^GET \/collaborators\/([^/]+)\/permission$/.exec(route))) return send(res, 200, { permission: "read", user: { login: m[1] } });
            if ((m = /^GET \/issues\/(\d+)\/comments$/.exec(route))) {
                const pr = Number(m[1]);
                return send(res, 200, page === 1 ? fake.comments.filter((c) => c.pr === pr).map((c) => ({ id: c.id, body: c.body })) : []);
            }
            if ((m = /^POST \/issues\/(\d+)\/comments$/.exec(route))) {
                const comment = { id: nextId++, pr: Number(m[1]), body: String((await readJson(req)).body ?? ""), edits: 0 };
                fake.comments.push(comment);
                return send(res, 201, { id: comment.id, body: comment.body });
            }
            if ((m = /^PATCH \/issues\/comments\/(\d+)$/.exec(route))) {
                const comment = fake.comments.find((c) => c.id === Number(m?.[1]));
                if (comment === undefined) return send(res, 404, { message: "Not Found" });
                comment.body = String((await readJson(req)).body ?? "");
                comment.edits++;
                return send(res, 200, { id: comment.id, body: comment.body });
            }
            if ((m = /^POST \/issues\/comments\/(\d+)\/reactions$/.exec(route))) {
                fake.reactions.push({ commentId: Number(m[1]), content: String((await readJson(req)).content) });
                return send(res, 201, { id: nextId++ });
            }
            return send(res, 404, { message: "Not Found" });
        })();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fake.close = () => new Promise((resolve) => server.close(() => resolve()));
    return fake;
}
