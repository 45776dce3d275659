import { createServer, Server } from "http";
import { AddressInfo } from "net";
import { TokenTable } from "../../../stacks/api/auth";
import { createHandler } from "../../../stacks/api/http";
import { runServeCommand } from "../../../stacks/serve/index";
import { CatalystService } from "../../../stacks/api/service";
import { createWebhook, GitHubCalls, Webhook, WEBHOOK_PATH, WebhookLibrary } from "../../../stacks/api/webhook";
import type { PreviewResources } from "../../../stacks/api/resources";
import { GitHubApi } from "../../../stacks/automation/github-api";
import { branchStack, decideWebhook, DeliveryLog, MAX_WEBHOOK_BODY_BYTES, PayloadError, signBody, verifySignature, webhookSettings, WebhookSettings } from "../../../stacks/automation/github-webhook";
import { PREVIEW_COMMENT_MARKER } from "../../../stacks/automation/pr-comment";
import type { OperationResult } from "../../../stacks/automation/types";
import { FakeLibrary } from "./fakes";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
/* eslint-enable @typescript-eslint/no-explicit-any */

const SECRET = "webhook-secret-0123456789";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const settings: WebhookSettings = { secret: SECRET, token: "t", apiUrl: "https://api.github.test", gate: {}, pushBranches: [] };
const repository = { full_name: "acme/web" };
const pullRequest = (action: string, extra: Record<string, unknown> = {}, pr: Record<string, unknown> = {}) => ({
    action, repository, ...extra,
    pull_request: { number: 7, draft: false, labels: [], head: { ref: "feat/login", sha: SHA }, user: { login: "alice" }, ...pr },
});
const commentEvent = (body: string, commenter = "alice", action = "created") => ({
    action, repository, issue: { number: 7, pull_request: { url: "x" }, user: { login: "alice" } }, comment: { id: 99, body, user: { login: commenter } },
});
const result = (action: "up" | "destroy", extra: Partial<OperationResult> = {}): OperationResult => ({
    action, stack: "pr-7", kind: "preview", status: "succeeded", url: "https://pr-7.preview.example.com", namespace: "env-pr-7", durations: { totalMs: 1, waitMs: 0, runMs: 1 }, ...extra,
});

describe("signatures and delivery memory", () => {
    it("accepts the HMAC-SHA256 of the body under the secret only", () => {
        const body = Buffer.from('{"zen":"Keep it logically awesome."}');
        expect(verifySignature(SECRET, body, signBody(SECRET, body))).toBe(true);
        expect(verifySignature(SECRET, body, signBody("another-secret-0123456", body))).toBe(false);
        expect(verifySignature(SECRET, Buffer.from(`${body} `), signBody(SECRET, body))).toBe(false);
        expect(verifySignature(SECRET, body, undefined)).toBe(false);
        expect(verifySignature(SECRET, body, "sha1=abc")).toBe(false);
        expect(verifySignature(SECRET, body, `sha256=${"0".repeat(63)}`)).toBe(false);
        expect(verifySignature("", body, signBody("", body))).toBe(false);
    });

    it("remembers at most its capacity, forgetting the oldest first", () => {
        const log = new DeliveryLog(3);
        expect(["a", "b", "c", "d"].map((id) => log.remember(id))).toEqual([true, true, true, true]);
        expect(log.size).toBe(3);
        expect(log.remember("d")).toBe(false);
        expect(log.remember("a")).toBe(true);
    });

    it("reads its settings from the environment, refusing weak or malformed values by name", () => {
        expect(webhookSettings({})).toBeUndefined();
        expect(() => webhookSettings({ CATALYST_GITHUB_WEBHOOK_SECRET: "short" })).toThrow("CATALYST_GITHUB_WEBHOOK_SECRET: must be at least 16 characters");
        expect(() => webhookSettings({ CATALYST_GITHUB_WEBHOOK_SECRET: SECRET, CATALYST_GITHUB_API_URL: "ftp://x" })).toThrow("CATALYST_GITHUB_API_URL: must be an http(s) URL");
        expect(webhookSettings({ CATALYST_GITHUB_WEBHOOK_SECRET: SECRET, CATALYST_WEBHOOK_PUSH_BRANCHES: "main, release/*", CATALYST_PREVIEW_LABEL: "preview" })).toEqual({
            secret: SECRET, token: undefined, apiUrl: "https://api.github.com", gate: { label: "preview", ignore: undefined }, pushBranches: ["main", "release/*"],
        });
    });
});

describe("decideWebhook", () => {
    it.each(["opened", "synchronize", "reopened", "ready_for_review"])("pull_request %s deploys the preview", (action) => {
        expect(decideWebhook("pull_request", pullRequest(action), settings)).toMatchObject({ kind: "preview-up", pr: 7, repository: "acme/web", branch: "feat/login", sha: SHA, author: "alice" });
    });

    it("closed destroys; a draft, an edit and a label outside the gate change nothing", () => {
        expect(decideWebhook("pull_request", pullRequest("closed"), settings)).toMatchObject({ kind: "preview-destroy", pr: 7, reason: "the pull request was closed" });
        expect(decideWebhook("pull_request", pullRequest("opened", {}, { draft: true }), settings)).toMatchObject({ kind: "ignore", reason: expect.stringContaining("draft") });
        expect(decideWebhook("pull_request", pullRequest("edited"), settings)).toEqual({ kind: "ignore", reason: "the action edited does not deploy" });
        expect(decideWebhook("pull_request", pullRequest("labeled", { label: { name: "bug" } }), settings).kind).toBe("ignore");
    });

    it("the label gate: labelled deploys, unlabelled is skipped, removing the label destroys", () => {
        const gated = { ...settings, gate: { label: "preview" } };
        expect(decideWebhook("pull_request", pullRequest("labeled", { label: { name: "preview" } }, { labels: [{ name: "preview" }] }), gated).kind).toBe("preview-up");
        expect(decideWebhook("pull_request", pullRequest("opened"), gated)).toMatchObject({ kind: "ignore", reason: expect.stringContaining("not labelled preview") });
        expect(decideWebhook("pull_request", pullRequest("unlabeled", { label: { name: "preview" } }), gated)).toMatchObject({ kind: "preview-destroy", reason: "the label preview was removed" });
        expect(decideWebhook("pull_request", pullRequest("unlabeled", { label: { name: "bug" } }), gated).kind).toBe("ignore");
    });

    it("issue_comment: new comments on pull requests only", () => {
        expect(decideWebhook("issue_comment", commentEvent("/catalyst destroy", "bob"), settings)).toEqual({ kind: "command", pr: 7, repository: "acme/web", commentId: 99, body: "/catalyst destroy", commenter: "bob", author: "alice" });
        expect(decideWebhook("issue_comment", commentEvent("/catalyst destroy", "bob", "edited"), settings).kind).toBe("ignore");
        expect(decideWebhook("issue_comment", { ...commentEvent("x"), issue: { number: 3, user: { login: "a" } } }, settings)).toEqual({ kind: "ignore", reason: "a comment on an issue, not on a pull request" });
    });

    it("push: only branches the project names, one development environment per branch; deleting the branch destroys it", () => {
        const push = (ref: string, extra = {}) => ({ repository, ref, after: SHA, sender: { login: "alice" }, ...extra });
        expect(decideWebhook("push", push("refs/heads/main"), settings)).toEqual({ kind: "ignore", reason: "pushes deploy nothing (CATALYST_WEBHOOK_PUSH_BRANCHES is not set)" });
        const branches = { ...settings, pushBranches: ["main", "feature/*"] };
        expect(decideWebhook("push", push("refs/heads/feature/Search"), branches)).toEqual({ kind: "branch-up", stack: branchStack("feature/Search"), repository: "acme/web", branch: "feature/Search", sha: SHA, pusher: "alice" });
        expect(branchStack("feature/Search")).toMatch(/^dev-feature-search/);
        expect(decideWebhook("push", push("refs/heads/fix/x"), branches).kind).toBe("ignore");
        expect(decideWebhook("push", push("refs/tags/v1"), branches).kind).toBe("ignore");
        expect(decideWebhook("push", push("refs/heads/main", { deleted: true, after: "0".repeat(40) }), branches).kind).toBe("branch-destroy");
    });

    it("refuses unknown events and malformed payloads with a PayloadError", () => {
        expect(() => decideWebhook("star", { repository }, settings)).toThrow(new PayloadError('unsupported event "star"; handled: ping, pull_request, issue_comment, push'));
        expect(() => decideWebhook("pull_request", { action: "opened" }, settings)).toThrow("the payload has no repository.full_name");
        expect(() => decideWebhook("pull_request", pullRequest("opened", {}, { head: { ref: "x", sha: "not-a-sha" } }), settings)).toThrow("pull_request.head.sha is not a commit SHA");
        expect(() => decideWebhook("pull_request", pullRequest("opened", {}, { head: { ref: "a..b", sha: SHA } }), settings)).toThrow("not a valid branch name");
        expect(() => decideWebhook("pull_request", pullRequest("opened", {}, { user: { login: "<script>" } }), settings)).toThrow("not a GitHub login");
    });
});

/** A recording stand-in for the library in direct mode. */
function fakeLibrary(overrides: Partial<Record<keyof WebhookLibrary, unknown>> = {}) {
    const calls: [string, unknown][] = [];
    const library = {
        upPreview: (args: unknown) => (calls.push(["upPreview", args]), Promise.resolve(result("up"))),
        destroyPreview: (ref: unknown) => (calls.push(["destroyPreview", ref]), Promise.resolve(result("destroy"))),
        listPreviews: () => Promise.resolve([{ stack: "pr-7", kind: "preview", pr: 7, owner: "alice", branch: "feat/login", sha: SHA, url: "https://pr-7.preview.example.com" }]),
        up: (name: unknown, args: unknown) => (calls.push(["up", [name, args]]), Promise.resolve({ ...result("up"), stack: String(name), kind: "development" })),
        destroy: (name: unknown) => (calls.push(["destroy", name]), Promise.resolve({ ...result("destroy"), stack: String(name), kind: "development" })),
        ...overrides,
    };
    return { library: library as unknown as WebhookLibrary, calls };
}

/** A recording stand-in for the GitHub calls. */
function fakeGitHub(files: string[] = ["src/app.ts"], permission = "read") {
    const calls: [string, unknown][] = [];
    const client: GitHubCalls = {
        changedFiles: async (pr) => (calls.push(["changedFiles", pr]), files),
        permission: async (login) => (calls.push(["permission", login]), permission as Any),
        react: async (id, content) => void calls.push(["react", [id, content]]),
        upsertPreviewComment: async (pr, body) => (calls.push(["comment", [pr, body]]), 1),
    };
    return { client, calls };
}

describe("POST /webhooks/github", () => {
    let server: Server;
    let base: string;
    let webhook: Webhook;
    let lib: ReturnType<typeof fakeLibrary>;
    let gh: ReturnType<typeof fakeGitHub>;
    let logged: string[];
    let delivery = 0;
    // A test may start a second server; every one is closed after it, or jest never exits.
    const servers: Server[] = [];

    async function start(options: { library?: ReturnType<typeof fakeLibrary>; github?: ReturnType<typeof fakeGitHub>; previews?: PreviewResources; settings?: WebhookSettings } = {}) {
        lib = options.library ?? fakeLibrary();
        gh = options.github ?? fakeGitHub();
        logged = [];
        webhook = createWebhook({ settings: options.settings ?? settings, library: options.previews ? undefined : lib.library, previews: options.previews, github: () => gh.client, log: (l) => logged.push(l), waitMs: 1000 });
        const service = new CatalystService(new FakeLibrary());
        server = createServer(createHandler({ service, tokens: new TokenTable({}), log: () => undefined, webhook: { path: WEBHOOK_PATH, handle: webhook.handle } }));
        servers.push(server);
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    afterEach(async () => {
        for (const open of servers.splice(0)) {
            open.closeAllConnections();
            await new Promise((r) => open.close(r));
        }
    });

    const send = (event: string, payload: unknown, headers: Record<string, string> = {}) => {
        const body = typeof payload === "string" ? payload : JSON.stringify(payload);
        return fetch(`${base}${WEBHOOK_PATH}`, {
            method: "POST", body,
            headers: { "content-type": "application/json", "x-github-event": event, "x-github-delivery": `d-${++delivery}`, "x-hub-signature-256": signBody(SECRET, body), ...headers },
        });
    };

    it("opened: 202 at once, then one up through the library and one preview comment with the URL", async () => {
        await start();
        const res = await send("pull_request", pullRequest("opened"));
        expect(res.status).toBe(202);
        expect(await res.json()).toMatchObject({ event: "pull_request", action: "preview-up" });
        await webhook.idle();
        expect(lib.calls).toEqual([["upPreview", { pr: 7, branch: "feat/login", sha: SHA, owners: ["alice"], config: undefined }]]);
        const comments = gh.calls.filter(([name]) => name === "comment");
        expect(comments).toHaveLength(1);
        const [pr, body] = comments[0][1] as [number, string];
        expect(pr).toBe(7);
        expect(body.startsWith(PREVIEW_COMMENT_MARKER)).toBe(true);
        expect(body).toContain("**URL:** https://pr-7.preview.example.com");
        expect(logged).toEqual([expect.stringMatching(/^webhook d-\d+: preview-up: up succeeded$/)]);
    });

    it("a documentation-only change deploys nothing and comments nothing", async () => {
        await start({ github: fakeGitHub(["docs/guide.md", "README.md"]) });
        expect((await send("pull_request", pullRequest("synchronize"))).status).toBe(202);
        await webhook.idle();
        expect(lib.calls).toEqual([]);
        expect(gh.calls.map(([n]) => n)).toEqual(["changedFiles"]);
    });

    it("closed destroys and comments; a preview that never existed gets no comment", async () => {
        await start();
        await send("pull_request", pullRequest("closed"));
        await webhook.idle();
        expect(lib.calls).toEqual([["destroyPreview", 7]]);
        expect((gh.calls.find(([n]) => n === "comment")?.[1] as [number, string])[1]).toContain("destroyed");

        await start({ library: fakeLibrary({ destroyPreview: () => Promise.resolve(result("destroy", { noop: true })) }) });
        await send("pull_request", pullRequest("closed"));
        await webhook.idle();
        expect(gh.calls).toEqual([]);
    });

    it("refuses a bad signature (401), an unknown event (400), a replayed delivery (409), an oversized body (413), and changes nothing", async () => {
        await start();
        const body = JSON.stringify(pullRequest("opened"));
        expect((await send("pull_request", body, { "x-hub-signature-256": signBody("not-the-secret-at-all", body) })).status).toBe(401);
        expect((await send("pull_request", body, { "x-hub-signature-256": "" })).status).toBe(401);
        expect((await send("star", { action: "created", repository })).status).toBe(400);
        expect((await send("pull_request", "{not json")).status).toBe(400);
        expect((await send("pull_request", { ...pullRequest("opened"), repository: undefined })).status).toBe(400);
        const first = await send("pull_request", pullRequest("edited"), { "x-github-delivery": "same-id" });
        expect(first.status).toBe(200);
        const replay = await send("pull_request", pullRequest("opened"), { "x-github-delivery": "same-id" });
        expect(replay.status).toBe(409);
        expect(await replay.json()).toEqual({ error: { code: "replayed", message: "delivery same-id was received before" } });
        const huge = JSON.stringify({ ...pullRequest("opened"), padding: "x".repeat(MAX_WEBHOOK_BODY_BYTES) });
        expect((await send("pull_request", huge)).status).toBe(413);
        expect((await fetch(`${base}${WEBHOOK_PATH}`)).status).toBe(405);
        await webhook.idle();
        expect(lib.calls).toEqual([]);
        expect(gh.calls).toEqual([]);
        // The log never holds the secret, a signature or a body.
        expect(logged.join("\n")).not.toMatch(new RegExp(`${SECRET}|sha256=|zen`));
    });

    it("a command from someone with read access is refused with -1; the author's destroy runs", async () => {
        await start();
        await send("issue_comment", commentEvent("/catalyst destroy", "mallory"));
        await webhook.idle();
        expect(lib.calls).toEqual([]);
        expect(gh.calls.slice(0, 2)).toEqual([["permission", "mallory"], ["react", [99, "-1"]]]);
        expect((gh.calls[2][1] as [number, string])[1]).toContain("refused: only the pull request's author and users with write access");

        await start();
        await send("issue_comment", commentEvent("/catalyst destroy"));
        await webhook.idle();
        expect(lib.calls).toEqual([["destroyPreview", 7]]);
        expect(gh.calls.map(([n]) => n)).toEqual(["react", "comment"]);
        expect(gh.calls[0][1]).toEqual([99, "+1"]);
    });

    it("a writer's extend runs through the library; an unknown command gets confused and runs nothing", async () => {
        await start({ github: fakeGitHub([], "write") });
        await send("issue_comment", commentEvent("/catalyst extend 48h", "bob"));
        await webhook.idle();
        expect(lib.calls).toEqual([["upPreview", { pr: 7, branch: "feat/login", sha: SHA, image: undefined, owners: ["alice"], ttl: 48 * 3_600_000, refresh: undefined }]]);

        await start();
        await send("issue_comment", commentEvent("/catalyst rm -rf /; `whoami`"));
        await webhook.idle();
        expect(lib.calls).toEqual([]);
        expect(gh.calls[0][1]).toEqual([99, "confused"]);
        expect((gh.calls[1][1] as [number, string])[1]).not.toContain("whoami");
    });

    it("a matching push deploys its branch's development environment", async () => {
        await start({ settings: { ...settings, pushBranches: ["feature/*"] } });
        await send("push", { repository, ref: "refs/heads/feature/x", after: SHA, sender: { login: "alice" } });
        await webhook.idle();
        expect(lib.calls).toEqual([["up", [branchStack("feature/x"), { branch: "feature/x", sha: SHA }]]]);
    });

    it("resource mode writes Environment resources and comments from their status", async () => {
        const calls: [string, unknown][] = [];
        const view = (phase: string) => ({ environment: "pr-7", namespace: "catalyst-system", phase, message: phase, url: "https://pr-7.preview.example.com", stack: "pr-7", environmentNamespace: "env-pr-7", owners: ["alice"] });
        const previews = {
            create: async (user: string, body: unknown) => (calls.push(["create", [user, body]]), view("pending")),
            waitReady: async (name: string) => (calls.push(["waitReady", name]), view("ready")),
            get: async (name: string) => (calls.push(["get", name]), view("ready")),
            destroy: async (user: string, name: string) => (calls.push(["destroy", [user, name]]), view("deleting")),
            waitGone: async (name: string) => (calls.push(["waitGone", name]), view("deleted")),
        } as unknown as PreviewResources;
        await start({ previews });
        await send("pull_request", pullRequest("opened"));
        await webhook.idle();
        await send("pull_request", pullRequest("closed"));
        await webhook.idle();
        expect(calls).toEqual([
            ["create", ["alice", { pr: 7, branch: "feat/login", sha: SHA }]], ["waitReady", "pr-7"],
            ["get", "pr-7"], ["destroy", ["alice", "pr-7"]], ["waitGone", "pr-7"],
        ]);
        expect(lib.calls).toEqual([]);
        const bodies = gh.calls.filter(([n]) => n === "comment").map(([, v]) => (v as [number, string])[1]);
        expect(bodies[0]).toContain("**URL:** https://pr-7.preview.example.com");
        expect(bodies[1]).toContain("destroyed");
    });
});

describe("GitHubApi", () => {
    function fakeFetch(pages: Record<string, unknown>) {
        const requests: string[] = [];
        const impl = (async (url: string, init: RequestInit) => {
            const key = `${init.method} ${url.replace("https://api.github.test/repos/acme/web", "")}`;
            requests.push(key);
            expect((init.headers as Record<string, string>).authorization).toBe("Bearer tok");
            const body = pages[key] ?? (init.method === "GET" ? [] : { id: 5 });
            return new Response(JSON.stringify(body), { status: key.includes("/collaborators/ghost") ? 404 : 200 });
        }) as unknown as typeof fetch;
        return { impl, requests };
    }
    const api = (impl: typeof fetch) => new GitHubApi({ apiUrl: "https://api.github.test", token: "tok", repository: "acme/web", fetch: impl });

    it("edits the comment with the marker, or creates one", async () => {
        const existing = fakeFetch({ "GET /issues/7/comments?per_page=100&page=1": [{ id: 1, body: "hi" }, { id: 2, body: `${PREVIEW_COMMENT_MARKER}\nold` }] });
        expect(await api(existing.impl).upsertPreviewComment(7, "new")).toBe(2);
        expect(existing.requests).toEqual(["GET /issues/7/comments?per_page=100&page=1", "PATCH /issues/comments/2"]);
        const none = fakeFetch({});
        expect(await api(none.impl).upsertPreviewComment(7, "new")).toBe(5);
        expect(none.requests).toEqual(["GET /issues/7/comments?per_page=100&page=1", "POST /issues/7/comments"]);
    });

    it("pages through changed files; a failed permission lookup is unknown", async () => {
        const page1 = Array.from({ length: 100 }, (_, i) => ({ filename: `f${i}` }));
        const f = fakeFetch({ "GET /pulls/7/files?per_page=100&page=1": page1, "GET /pulls/7/files?per_page=100&page=2": [{ filename: "last" }], "GET /collaborators/bob/permission": { permission: "write" } });
        expect((await api(f.impl).changedFiles(7)).length).toBe(101);
        expect(await api(f.impl).permission("bob")).toBe("write");
        expect(await api(f.impl).permission("ghost")).toBe("unknown");
        expect(() => new GitHubApi({ apiUrl: "x", token: "t", repository: "../etc" })).toThrow("not a repository name");
    });
});

describe("catalyst serve checks the webhook settings at start", () => {
    const saved = { ...process.env };
    afterEach(() => {
        process.env = { ...saved };
        jest.restoreAllMocks();
    });

    it("a weak secret stops the server with one line naming the variable (exit 2), the secret not in it", async () => {
        process.env = { ...saved, CATALYST_API_TOKENS: JSON.stringify({ "alice-token-0123456789abcdef": "alice" }), CATALYST_GITHUB_WEBHOOK_SECRET: "tiny-secret" };
        const lines: string[] = [];
        jest.spyOn(process.stderr, "write").mockImplementation((text) => (lines.push(String(text)), true));
        expect(await runServeCommand({ host: "127.0.0.1", port: 0, localOidc: false }, new FakeLibrary())).toBe(2);
        expect(lines).toEqual(["catalyst serve: CATALYST_GITHUB_WEBHOOK_SECRET: must be at least 16 characters (GitHub's webhook secret; use a random one)\n"]);
    });
});
