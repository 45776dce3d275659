import { Reply, send } from "../oidc/fetch";

export { fetchWithCa, readCa, send } from "../oidc/fetch";
export type { Reply } from "../oidc/fetch";

/**
 * HTTP for `catalyst login`: the CA-trusting fetch (../oidc/fetch.ts, shared with the dashboard's
 * single sign-on), and a minimal cookie-keeping request for the password sign-in, which fills in
 * the provider's sign-in form the way a browser would. Neither follows redirects by itself.
 */

/** Requests that keep cookies between them, as a browser does within one sign-in. */
export class CookieSession {
    private readonly cookies = new Map<string, string>();

    constructor(private readonly ca: Buffer | undefined) {}

    async request(url: URL, method = "GET", form?: URLSearchParams): Promise<Reply> {
        const headers: Record<string, string> = { accept: "text/html" };
        if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
        if (form) headers["content-type"] = "application/x-www-form-urlencoded";
        const reply = await send(url, { method, headers, body: form?.toString(), ca: this.ca });
        for (const line of reply.headers["set-cookie"] ?? []) {
            const [pair] = line.split(";");
            const at = pair.indexOf("=");
            if (at > 0) this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
        }
        return reply;
    }
}
