import { IncomingMessage, ServerResponse } from "http";
import { GitHubApi } from "../automation/github-api";
import { decideWebhook, DeliveryLog, gateWithFiles, MAX_WEBHOOK_BODY_BYTES, PayloadError, verifySignature, WEBHOOK_EVENTS, WebhookAction, WebhookSettings } from "../automation/github-webhook";
import type { Automation } from "../automation/operations";
import { doneDetail, runCommentCommand, shownCommand as shown } from "../automation/pr-actions";
import { COMMAND_PREFIX, mayCommand, parseCommentCommand } from "../automation/pr-commands";
import { previewComment } from "../automation/pr-comment";
import type { EnvironmentRecord, OperationResult } from "../automation/types";
import { sendJson } from "./http";
import type { PreviewResources, PreviewResourceView } from "./resources";

/**
 * `POST /webhooks/github` of `catalyst serve`: GitHub's pull_request, issue_comment and push
 * deliveries, as a thin adapter over the library (stacks/automation/github-webhook.ts decides,
 * pr-actions.ts runs commands, pr-comment.ts renders the one preview comment). A delivery is
 * answered at once (202) and worked on afterwards, as GitHub expects an answer within 10 s.
 *
 * Refused, changing nothing: a body over the cap (413, before it is read whole), a missing or
 * wrong signature (401), an event not handled (400), a malformed payload (400), a delivery id
 * seen before (409). The secret, the token and the bodies never reach the log.
 */

/** The path of the endpoint. */
export const WEBHOOK_PATH = "/webhooks/github";

/** What the webhook needs of the library in direct mode (the Automation class has it all). */
export type WebhookLibrary = Pick<Automation, "upPreview" | "destroyPreview" | "sleepPreview" | "wakePreview" | "listPreviews" | "up" | "destroy">;

/** The GitHub calls the webhook makes (GitHubApi; a fake in unit tests). */
export type GitHubCalls = Pick<GitHubApi, "changedFiles" | "permission" | "react" | "upsertPreviewComment">;

/** What {@link createWebhook} works with. */
export interface WebhookDependencies {
    settings: WebhookSettings;
    /** Direct mode: the library runs the stacks. */
    library?: WebhookLibrary;
    /** Resource mode (CATALYST_CONTROL_PLANE_NAMESPACE): Environment resources. */
    previews?: PreviewResources;
    /** Operator config laid over every preview (CATALYST_API_PREVIEW_CONFIG), direct mode. */
    previewConfig?: Record<string, unknown>;
    /** The GitHub client of a repository; default GitHubApi with the settings' token (none: no calls). */
    github?: (repository: string) => GitHubCalls | undefined;
    /** Log lines (default stderr). */
    log?: (line: string) => void;
    /** Delivery memory (default 10 000 ids). */
    deliveries?: DeliveryLog;
    /** How long resource mode waits for an Environment to settle before it comments (default 20 min). */
    waitMs?: number;
}

/** The endpoint's handler and a way to wait for the work it started (tests, shutdown). */
export interface Webhook {
    handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
    idle(): Promise<void>;
}

/** Reads at most `limit` bytes; undefined when the body is larger (the rest is not buffered). */
async function readCapped(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) return undefined;
        chunks.push(chunk);
    }
    return Buffer.concat(chunks);
}

const header = (req: IncomingMessage, name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
};

/** The comment's view of an Environment that settled (resource mode). */
function resultOfView(view: PreviewResourceView, action: "up" | "destroy"): OperationResult {
    const ok = action === "destroy" ? view.phase === "deleted" : view.phase === "ready";
    return {
        action, stack: view.stack ?? view.environment, kind: "preview", status: ok ? "succeeded" : "failed",
        url: view.url, namespace: view.environmentNamespace, error: ok ? undefined : view.message, durations: { totalMs: 0, waitMs: 0, runMs: 0 },
    };
}

/** Creates the endpoint. Give `library` (direct mode) or `previews` (resource mode). */
export function createWebhook(deps: WebhookDependencies): Webhook {
    const log = deps.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
    const deliveries = deps.deliveries ?? new DeliveryLog();
    const running = new Set<Promise<void>>();
    const github = deps.github ?? ((repository: string) => (deps.settings.token === undefined ? undefined : new GitHubApi({ apiUrl: deps.settings.apiUrl, token: deps.settings.token, repository })));
    const refuse = (res: ServerResponse, status: number, code: string, message: string) => sendJson(res, status, { error: { code, message } });

    const comment = async (client: GitHubCalls | undefined, pr: number, body: string | null) => {
        if (client === undefined || body === null) return;
        await client.upsertPreviewComment(pr, body);
    };

    const previewUp = async (action: Extract<WebhookAction, { kind: "preview-up" }>, client: GitHubCalls | undefined): Promise<string> => {
        if (client !== undefined) {
            const decision = gateWithFiles(action, deps.settings, await client.changedFiles(action.pr));
            if (!decision.preview) return decision.reason;
        }
        const owner = action.author.replace(/\[bot\]$/, "");
        let result: OperationResult;
        if (deps.previews !== undefined) {
            const view = await deps.previews.create(owner, { pr: action.pr, branch: action.branch, sha: action.sha });
            result = resultOfView(await deps.previews.waitReady(view.environment, deps.waitMs ?? 20 * 60_000), "up");
        } else {
            result = await (deps.library as WebhookLibrary).upPreview({ pr: action.pr, branch: action.branch, sha: action.sha, owners: [owner], config: deps.previewConfig });
        }
        await comment(client, action.pr, previewComment({ pr: action.pr, result, sha: action.sha }));
        return `up ${result.status}`;
    };

    const previewDestroy = async (action: Extract<WebhookAction, { kind: "preview-destroy" }>, client: GitHubCalls | undefined): Promise<string> => {
        let result: OperationResult;
        if (deps.previews !== undefined) {
            const name = `pr-${action.pr}`;
            const existing = await deps.previews.get(name).catch(() => undefined);
            if (existing === undefined) return "no preview to destroy";
            await deps.previews.destroy(existing.owners?.[0] ?? action.author, name);
            result = resultOfView(await deps.previews.waitGone(name, deps.waitMs ?? 20 * 60_000), "destroy");
        } else {
            result = await (deps.library as WebhookLibrary).destroyPreview(action.pr);
            // A preview that never existed (a docs-only pull request closed) has nothing to say.
            if (result.noop === true) return "no preview to destroy";
        }
        await comment(client, action.pr, previewComment({ pr: action.pr, result }));
        return `destroy ${result.status}`;
    };

    const command = async (action: Extract<WebhookAction, { kind: "command" }>, client: GitHubCalls | undefined): Promise<string> => {
        const parsed = parseCommentCommand(action.body);
        if (parsed.kind === "none") return "no command in the comment";
        const by = `from \`${action.commenter}\``;
        const library = deps.library;
        const record: EnvironmentRecord | undefined = library === undefined ? undefined : (await library.listPreviews()).find((p) => p.pr === action.pr && p.project === undefined);
        const answer = async (reaction: string, line: string, result?: OperationResult) => {
            await client?.react(action.commentId, reaction);
            await comment(client, action.pr, previewComment({ pr: action.pr, result, record: result?.action === "destroy" ? undefined : record, answer: line }));
            return line.replace(/`/g, "");
        };
        if (parsed.kind === "invalid") return answer("confused", `a ${COMMAND_PREFIX} command ${by} was not understood: ${parsed.reason}`);
        const permission = action.commenter.toLowerCase() === action.author.toLowerCase() || client === undefined ? "unknown" : await client.permission(action.commenter);
        const who = mayCommand({ login: action.commenter, author: action.author, permission });
        if (!who.allowed) return answer("-1", `${shown(parsed)} ${by} refused: ${who.reason}`);
        let outcome: OperationResult | string;
        if (deps.previews !== undefined) {
            if (parsed.verb !== "destroy") return answer("confused", `${shown(parsed)} ${by}: only destroy is available through the webhook with Environment resources; push a commit to redeploy`);
            const name = `pr-${action.pr}`;
            const existing = await deps.previews.get(name).catch(() => undefined);
            if (existing === undefined) return answer("confused", `${shown(parsed)} ${by}: there is no preview to destroy`);
            await deps.previews.destroy(existing.owners?.[0] ?? action.author, name);
            outcome = resultOfView(await deps.previews.waitGone(name, deps.waitMs ?? 20 * 60_000), "destroy");
        } else {
            outcome = await runCommentCommand(library as WebhookLibrary, {}, parsed, { pr: action.pr, author: action.author }, record);
        }
        if (typeof outcome === "string") return answer("confused", `${shown(parsed)} ${by}: ${outcome}`);
        const ok = outcome.status === "succeeded";
        const detail = ok ? doneDetail(parsed, outcome, process.env) : outcome.status;
        return answer(ok ? "+1" : "-1", `${shown(parsed)} ${by}: ${detail}`, outcome);
    };

    const branch = async (action: Extract<WebhookAction, { kind: "branch-up" | "branch-destroy" }>): Promise<string> => {
        if (deps.library === undefined) return "branch environments are not available with Environment resources yet";
        const result = action.kind === "branch-up"
            ? await deps.library.up(action.stack, { branch: action.branch, sha: action.sha })
            : await deps.library.destroy(action.stack);
        return `${action.kind === "branch-up" ? "up" : "destroy"} of ${action.stack} ${result.status}`;
    };

    const work = async (delivery: string, action: WebhookAction): Promise<void> => {
        if (action.kind === "ignore") return;
        const client = github(action.repository);
        let outcome: string;
        try {
            switch (action.kind) {
                case "preview-up": outcome = await previewUp(action, client); break;
                case "preview-destroy": outcome = await previewDestroy(action, client); break;
                case "command": outcome = await command(action, client); break;
                default: outcome = await branch(action);
            }
        } catch (err) {
            outcome = `failed: ${(err as Error).message.split("\n")[0]}`;
        }
        log(`webhook ${delivery}: ${action.kind}: ${outcome}`);
    };

    return {
        async handle(req, res) {
            if (req.method !== "POST") return sendJson(res, 405, { error: { code: "method-not-allowed", message: "POST only" } }, { allow: "POST" });
            const body = await readCapped(req, MAX_WEBHOOK_BODY_BYTES);
            if (body === undefined) return refuse(res, 413, "too-large", `request body over ${MAX_WEBHOOK_BODY_BYTES} bytes`);
            if (!verifySignature(deps.settings.secret, body, header(req, "x-hub-signature-256"))) {
                return refuse(res, 401, "bad-signature", "X-Hub-Signature-256 is missing or does not match the body");
            }
            const event = header(req, "x-github-event") ?? "";
            const delivery = header(req, "x-github-delivery") ?? "";
            if (!(WEBHOOK_EVENTS as readonly string[]).includes(event)) {
                return refuse(res, 400, "unsupported-event", `unsupported event ${JSON.stringify(event.slice(0, 40))}; handled: ${WEBHOOK_EVENTS.join(", ")}`);
            }
            if (!/^[A-Za-z0-9-]{1,64}$/.test(delivery)) return refuse(res, 400, "malformed", "X-GitHub-Delivery is missing or malformed");
            let action: WebhookAction;
            try {
                action = decideWebhook(event, JSON.parse(body.toString("utf8")) as Parameters<typeof decideWebhook>[1], deps.settings);
            } catch (err) {
                return refuse(res, 400, "malformed", err instanceof PayloadError ? err.message : "the body is not a JSON payload");
            }
            if (!deliveries.remember(delivery)) return refuse(res, 409, "replayed", `delivery ${delivery} was received before`);
            if (action.kind === "ignore") {
                log(`webhook ${delivery}: ${event}: ignored: ${action.reason}`);
                return sendJson(res, 200, { delivery, event, action: "ignore", reason: action.reason });
            }
            const task = work(delivery, action).finally(() => running.delete(task));
            running.add(task);
            sendJson(res, 202, { delivery, event, action: action.kind });
        },
        async idle() {
            while (running.size > 0) await Promise.all([...running]);
        },
    };
}
