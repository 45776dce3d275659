import { IncomingMessage, ServerResponse } from "http";
import { parseStackName, stackOfNamespace } from "../../components/naming";
import type { EnvironmentStatus } from "../automation";
import { verifyWakeToken, WakeTokenProblem } from "../automation/wake-link";
import { escapeHtml } from "../oidc/pages";
import { ApiError } from "./errors";
import type { OperationView } from "./operations";

/**
 * The platform's sleeping page. While a preview sleeps its Ingress stays, its Services have no
 * endpoints, and the ingress controller hands the request to its default backend: this API
 * (components/environment/sleep.ts, components/platform/ingressNginx.ts). A request whose host
 * is a preview's (`<stack>.<previewDomain>`, or the `X-Namespace` header ingress-nginx adds to a
 * custom error) gets a page that says since when it sleeps and how to wake it. Waking needs a
 * signed-in owner (`POST /previews/:name/wake` with a token, the CLI, or `/catalyst wake` in the
 * PR) or a signed wake link: `GET /sleeping/wake?token=` shows a button, and only its POST wakes.
 * Pages are plain HTML with every dynamic value escaped, no script, and a CSP that forbids any.
 */

/** What the pages need from the service. */
export interface SleepingDeps {
    /** The environment's status (cached here for a few seconds: the host's traffic must not hit the backend per request). */
    environment(stack: string): Promise<EnvironmentStatus | undefined>;
    /** Starts waking `stack` on behalf of a signed link. */
    wakeByLink(stack: string): Promise<OperationView>;
    /** The HMAC key of wake links; undefined: links are off. */
    key?: Buffer;
    /** Public URL of this API (the wake form posts there). */
    apiUrl?: string;
    /** How long a status is cached. Default 15 s. */
    cacheMs?: number;
    now?: () => Date;
}

const HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https:; frame-ancestors 'none'",
};

function page(res: ServerResponse, status: number, title: string, body: string, extra: Record<string, string> = {}): void {
    const html = `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">` +
        `<title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}code{background:#f3f3f3;padding:0 .2rem}button{font-size:1rem;padding:.5rem 1rem}</style></head>` +
        `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;
    res.writeHead(status, { ...HEADERS, "content-length": String(Buffer.byteLength(html)), ...extra });
    res.end(html);
}

/**
 * The preview a request is for when it came for a preview's host, else undefined (the API's own
 * routes). ingress-nginx names the Ingress's namespace in `X-Namespace` on custom errors; the
 * host's first label is the stack (`pr-12.preview.example.com`) otherwise. Only previews and
 * development environments (the kinds that sleep) count.
 */
export function previewOfRequest(req: IncomingMessage): string | undefined {
    const header = req.headers["x-namespace"];
    const fromNamespace = typeof header === "string" ? stackOfNamespace(header) : undefined;
    const host = (req.headers.host ?? "").split(":")[0].toLowerCase();
    const label = host.includes(".") ? host.split(".")[0] : undefined;
    for (const candidate of [fromNamespace, label]) {
        if (candidate === undefined) continue;
        try {
            const kind = parseStackName(candidate).kind;
            if (kind === "preview" || kind === "development") return candidate;
        } catch {
            // not a stack name
        }
    }
    return undefined;
}

const PROBLEM_STATUS: Record<WakeTokenProblem, number> = { malformed: 400, expired: 410, forged: 403 };
const PROBLEM_TEXT: Record<WakeTokenProblem, string> = {
    malformed: "This wake link is not complete. Copy the whole link from the pull request.",
    expired: "This wake link has expired. Ask for a new one with /catalyst wake in the pull request.",
    forged: "This wake link is not valid.",
};

/** Reads a small `application/x-www-form-urlencoded` body (the wake form), at most 4 KiB. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
    let text = "";
    for await (const chunk of req as AsyncIterable<Buffer>) {
        text += chunk.toString("utf8");
        if (text.length > 4096) throw new ApiError("too-large", "form over 4096 bytes");
    }
    return new URLSearchParams(text);
}

/**
 * The pages' request hook: answers and returns true for a preview's host and for
 * `/sleeping/wake`; returns false for everything else (the API's routes).
 */
export function sleepingPages(deps: SleepingDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
    const cache = new Map<string, { at: number; status: EnvironmentStatus | undefined }>();
    const now = () => deps.now?.() ?? new Date();
    const lookup = async (stack: string) => {
        const hit = cache.get(stack);
        if (hit !== undefined && now().getTime() - hit.at < (deps.cacheMs ?? 15_000)) return hit.status;
        const status = await deps.environment(stack);
        if (cache.size > 1000) cache.clear();
        cache.set(stack, { at: now().getTime(), status });
        return status;
    };
    const checked = (token: string | null) => {
        if (deps.key === undefined) return { problem: undefined, off: true as const };
        const verdict = verifyWakeToken(deps.key, token ?? "", now());
        return "problem" in verdict ? { problem: verdict.problem } : { stack: verdict.stack };
    };

    return async (req, res, url) => {
        const stack = previewOfRequest(req);
        if (stack !== undefined) {
            const status = await lookup(stack);
            if (status?.sleepingSince === undefined) {
                page(res, status === undefined ? 404 : 503, status === undefined ? "No such environment" : `${stack} is starting`,
                    status === undefined ? "<p>Nothing is deployed at this address.</p>" : "<p>The environment is not answering yet. Try again in a minute.</p>", { "retry-after": "30" });
                return true;
            }
            page(res, 503, `${stack} is asleep`,
                `<p>This preview has been asleep since <time datetime="${escapeHtml(status.sleepingSince)}">${escapeHtml(status.sleepingSince)}</time>${status.sleepReason && status.sleepReason !== "manual" ? ` (${escapeHtml(status.sleepReason)})` : ""}. ` +
                "Its data, volumes and address are kept; nothing runs.</p>" +
                `<p>To wake it: comment <code>/catalyst wake</code> on its pull request, run <code>catalyst preview wake --pr ${escapeHtml(String(status.pr ?? ""))}</code>, ` +
                "or open the wake link from the pull request's preview comment. It takes a minute or two; then reload this page.</p>",
                { "retry-after": "120" });
            return true;
        }
        if (url.pathname !== "/sleeping/wake") return false;
        if (req.method !== "GET" && req.method !== "POST") {
            page(res, 405, "Method not allowed", "<p>Use the button on the wake page.</p>", { allow: "GET, POST" });
            return true;
        }
        const token = req.method === "POST" ? (await readForm(req)).get("token") : url.searchParams.get("token");
        const verdict = checked(token);
        if ("off" in verdict) {
            page(res, 404, "Wake links are off", "<p>This server has no wake key (CATALYST_WAKE_KEY). Wake the preview from its pull request.</p>");
            return true;
        }
        if (verdict.problem !== undefined) {
            page(res, PROBLEM_STATUS[verdict.problem], "Cannot wake", `<p>${PROBLEM_TEXT[verdict.problem]}</p>`);
            return true;
        }
        const target = verdict.stack as string;
        if (req.method === "GET") {
            // Only a button press wakes: a link previewer or a prefetch fetches this page and changes nothing.
            const action = `${(deps.apiUrl ?? "").replace(/\/+$/, "")}/sleeping/wake`;
            page(res, 200, `Wake ${target}?`,
                `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="token" value="${escapeHtml(token ?? "")}"><button type="submit">Wake ${escapeHtml(target)}</button></form>`);
            return true;
        }
        const status = await deps.environment(target);
        cache.delete(target);
        if (status === undefined) {
            page(res, 404, "No such environment", `<p>${escapeHtml(target)} does not exist (any more).</p>`);
            return true;
        }
        if (status.sleepingSince === undefined) {
            page(res, 200, `${target} is awake`, status.url ? `<p><a href="${escapeHtml(status.url)}">Open it</a>.</p>` : "<p>It is running.</p>");
            return true;
        }
        const view = await deps.wakeByLink(target);
        page(res, 202, `Waking ${target}`, `<p>The preview is waking up (operation ${escapeHtml(view.id)}). It takes a minute or two.</p>` +
            (status.url ? `<p>Then open <a href="${escapeHtml(status.url)}">${escapeHtml(status.url)}</a>.</p>` : ""));
        return true;
    };
}
