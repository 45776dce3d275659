import { createHmac, timingSafeEqual } from "crypto";
import { developmentStackName, previewStackName } from "../../components/naming";
import { globPattern, GateSettings, gateSettingsFromEnv, previewGate, PullRequestEvent } from "./pr-gate";
import { LOGIN } from "./pr-commands";

/**
 * GitHub webhook deliveries (issue 17 section 5), as pure decisions: the signature check, the
 * memory of deliveries already seen, and what each event asks for. The HTTP adapter is
 * stacks/api/webhook.ts; the decisions reuse the preview workflow's gate (pr-gate.ts) and
 * comment grammar (pr-commands.ts), so a webhook and the workflow decide alike.
 */

/** The webhook's shared secret (secret config; never logged). */
export const WEBHOOK_SECRET_ENV = "CATALYST_GITHUB_WEBHOOK_SECRET";
/** The token of the GitHub API calls (secret config). */
export const GITHUB_TOKEN_ENV = "CATALYST_GITHUB_TOKEN";
/** The GitHub API's base URL (default https://api.github.com). */
export const GITHUB_API_URL_ENV = "CATALYST_GITHUB_API_URL";
/** Branches whose pushes get a development environment: globs separated by commas; unset: pushes are ignored. */
export const PUSH_BRANCHES_ENV = "CATALYST_WEBHOOK_PUSH_BRANCHES";

/** The default GitHub API. */
export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
/**
 * The largest body accepted. GitHub caps payloads at 25 MB, but the events handled here are far
 * smaller (a pull_request payload is tens of KB); a larger body is refused before it is read whole.
 */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/** How many delivery ids are remembered (the oldest is forgotten first). */
export const DELIVERY_MEMORY = 10_000;

/** The events the endpoint handles (`ping` is answered, nothing more). */
export const WEBHOOK_EVENTS = ["ping", "pull_request", "issue_comment", "push"] as const;

/**
 * Whether `signature` (the `X-Hub-Signature-256` header, `sha256=<hex>`) is the HMAC-SHA256 of
 * `body` under `secret`. The comparison takes the same time wherever the first difference is.
 */
export function verifySignature(secret: string, body: Buffer, signature: string | undefined): boolean {
    if (secret === "" || signature === undefined || !/^sha256=[0-9a-f]{64}$/i.test(signature)) return false;
    const expected = createHmac("sha256", secret).update(body).digest();
    const given = Buffer.from(signature.slice("sha256=".length), "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The `X-Hub-Signature-256` value of `body` (the fake GitHub and the tests sign with it). */
export function signBody(secret: string, body: string | Buffer): string {
    return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Delivery ids already accepted, at most `capacity` of them: a replayed delivery (same
 * `X-GitHub-Delivery`) is refused. Memory is bounded: past the capacity the oldest id is
 * forgotten, and the memory is per process (a restart forgets it; see docs/api.md).
 */
export class DeliveryLog {
    private readonly seen = new Set<string>();

    constructor(private readonly capacity = DELIVERY_MEMORY) {}

    /** Records `id`; false when it was seen before. */
    remember(id: string): boolean {
        if (this.seen.has(id)) return false;
        this.seen.add(id);
        if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value as string);
        return true;
    }

    get size(): number {
        return this.seen.size;
    }
}

/** The webhook's settings from the environment. */
export interface WebhookSettings {
    secret: string;
    token?: string;
    apiUrl: string;
    gate: Pick<GateSettings, "label" | "ignore">;
    /** Globs of branches whose pushes deploy a development environment; empty: none. */
    pushBranches: string[];
}

/** The settings of `env`, or undefined when no secret is configured (the endpoint is off). */
export function webhookSettings(env: NodeJS.ProcessEnv = process.env): WebhookSettings | undefined {
    const secret = env[WEBHOOK_SECRET_ENV];
    if (secret === undefined || secret === "") return undefined;
    if (secret.length < 16) throw new Error(`${WEBHOOK_SECRET_ENV}: must be at least 16 characters (GitHub's webhook secret; use a random one)`);
    const apiUrl = env[GITHUB_API_URL_ENV]?.trim() || DEFAULT_GITHUB_API_URL;
    if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) throw new Error(`${GITHUB_API_URL_ENV}: must be an http(s) URL, got ${JSON.stringify(apiUrl.slice(0, 80))}`);
    const pushBranches = (env[PUSH_BRANCHES_ENV] ?? "").split(",").map((b) => b.trim()).filter((b) => b !== "");
    return { secret, token: env[GITHUB_TOKEN_ENV] || undefined, apiUrl, gate: gateSettingsFromEnv(env), pushBranches };
}

/** What a delivery asks for. */
export type WebhookAction =
    | { kind: "ignore"; reason: string }
    /** Deploy (create or update) the preview of `pr`; `needsFiles`: ask the gate again with the changed files. */
    | { kind: "preview-up"; pr: number; repository: string; branch: string; sha: string; author: string; event: PullRequestEvent }
    | { kind: "preview-destroy"; pr: number; repository: string; author: string; reason: string }
    | { kind: "command"; pr: number; repository: string; commentId: number; body: string; commenter: string; author: string }
    | { kind: "branch-up"; stack: string; repository: string; branch: string; sha: string; pusher: string }
    | { kind: "branch-destroy"; stack: string; repository: string; branch: string; pusher: string };

/** The parts of GitHub's payloads read here (documented at docs.github.com, "Webhook events and payloads"). */
interface Payload {
    action?: string;
    repository?: { full_name?: string };
    pull_request?: PullRequestEvent["pull_request"] & { head?: { ref?: string; sha?: string }; user?: { login?: string } };
    label?: { name: string };
    issue?: { number?: number; pull_request?: unknown; user?: { login?: string } };
    comment?: { id?: number; body?: string; user?: { login?: string } };
    ref?: string;
    after?: string;
    deleted?: boolean;
    pusher?: { name?: string };
    sender?: { login?: string };
}

const SHA = /^[0-9a-f]{40}$/;

/** Thrown for a payload that is not what its event says (the adapter answers 400). */
export class PayloadError extends Error {}

function need<T>(value: T | undefined, what: string): T {
    if (value === undefined || value === null || (typeof value === "string" && value === "")) throw new PayloadError(`the payload has no ${what}`);
    return value;
}

/** A branch name from a payload (refused when git would refuse it, roughly). */
function branchName(ref: string): string {
    if (ref.length > 255 || /[\s~^:?*[\\]|\.\.|^\/|\/$/.test(ref)) throw new PayloadError("the payload's branch is not a valid branch name");
    return ref;
}

/** The development stack of a pushed branch: `dev-<branch as a DNS label>`. */
export function branchStack(branch: string): string {
    return developmentStackName(branch.replace(/[^A-Za-z0-9-]+/g, "-"));
}

/** Decides what a delivery of `event` with `payload` asks for; throws PayloadError on a malformed payload. */
export function decideWebhook(event: string, payload: Payload, settings: Pick<WebhookSettings, "gate" | "pushBranches">): WebhookAction {
    const repository = need(payload.repository?.full_name, "repository.full_name");
    switch (event) {
        case "ping":
            return { kind: "ignore", reason: "ping: the webhook is configured" };
        case "pull_request": {
            const pr = need(payload.pull_request, "pull_request");
            if (typeof pr.number !== "number" || !Number.isInteger(pr.number) || pr.number < 1) throw new PayloadError("the payload has no pull_request.number");
            const author = need(pr.user?.login, "pull_request.user.login");
            if (!LOGIN.test(author)) throw new PayloadError("pull_request.user.login is not a GitHub login");
            const action = need(payload.action, "action");
            previewStackName(pr.number);
            if (action === "closed") return { kind: "preview-destroy", pr: pr.number, repository, author, reason: "the pull request was closed" };
            if (action === "unlabeled") {
                const gate = settings.gate.label;
                if (gate !== undefined && payload.label?.name === gate) {
                    return { kind: "preview-destroy", pr: pr.number, repository, author, reason: `the label ${gate} was removed` };
                }
                return { kind: "ignore", reason: "a label other than the gate's was removed: nothing changed" };
            }
            const gateEvent: PullRequestEvent = { action, label: payload.label, pull_request: { number: pr.number, draft: pr.draft, labels: pr.labels } };
            const decision = previewGate(gateEvent, settings.gate);
            if (!decision.preview) return { kind: "ignore", reason: decision.reason };
            const sha = need(pr.head?.sha, "pull_request.head.sha");
            if (!SHA.test(sha)) throw new PayloadError("pull_request.head.sha is not a commit SHA");
            return { kind: "preview-up", pr: pr.number, repository, branch: branchName(need(pr.head?.ref, "pull_request.head.ref")), sha, author, event: gateEvent };
        }
        case "issue_comment": {
            if (payload.action !== "created") return { kind: "ignore", reason: `comment ${payload.action ?? "event"}: only new comments carry commands` };
            const issue = need(payload.issue, "issue");
            if (issue.pull_request === undefined) return { kind: "ignore", reason: "a comment on an issue, not on a pull request" };
            const comment = need(payload.comment, "comment");
            const commenter = need(comment.user?.login, "comment.user.login");
            const author = need(issue.user?.login, "issue.user.login");
            if (!LOGIN.test(commenter) || !LOGIN.test(author)) throw new PayloadError("a login in the payload is not a GitHub login");
            if (typeof issue.number !== "number" || typeof comment.id !== "number") throw new PayloadError("the payload has no issue.number or comment.id");
            return { kind: "command", pr: issue.number, repository, commentId: comment.id, body: typeof comment.body === "string" ? comment.body : "", commenter, author };
        }
        case "push": {
            const ref = need(payload.ref, "ref");
            if (!ref.startsWith("refs/heads/")) return { kind: "ignore", reason: "a push of a tag: nothing to deploy" };
            const branch = branchName(ref.slice("refs/heads/".length));
            if (!settings.pushBranches.some((glob) => globPattern(glob).test(branch))) {
                return { kind: "ignore", reason: settings.pushBranches.length === 0 ? `pushes deploy nothing (${PUSH_BRANCHES_ENV} is not set)` : `the branch does not match ${PUSH_BRANCHES_ENV}` };
            }
            const pusher = payload.sender?.login ?? payload.pusher?.name ?? "";
            const stack = branchStack(branch);
            if (payload.deleted === true) return { kind: "branch-destroy", stack, repository, branch, pusher };
            const sha = need(payload.after, "after");
            if (!SHA.test(sha)) throw new PayloadError("after is not a commit SHA");
            return { kind: "branch-up", stack, repository, branch, sha, pusher };
        }
        default:
            throw new PayloadError(`unsupported event ${JSON.stringify(event.slice(0, 40))}; handled: ${WEBHOOK_EVENTS.join(", ")}`);
    }
}

/** The gate asked again with the pull request's changed files (documentation only deploys nothing). */
export function gateWithFiles(action: Extract<WebhookAction, { kind: "preview-up" }>, settings: Pick<WebhookSettings, "gate">, files: string[]): { preview: boolean; reason: string } {
    return previewGate(action.event, { ...settings.gate, files });
}
