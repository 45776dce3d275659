import { readFileSync } from "fs";
import { request as httpsRequest } from "https";
import { request as httpRequest, IncomingHttpHeaders } from "http";

/**
 * HTTP for the relying parties of Catalyst's sign-ins (`catalyst login`, the dashboard's single
 * sign-on): a `fetch` that trusts a given CA (the local cluster's issuer has a certificate from
 * the local PKI, which no system store holds; Node's own fetch cannot take a CA per call, and
 * turning certificate checks off is never the answer). It does not follow redirects by itself.
 */

export interface Reply {
    status: number;
    headers: IncomingHttpHeaders;
    body: string;
}

/** One request; `ca` (PEM) replaces the system trust store for https. */
export function send(url: URL, options: { method?: string; headers?: Record<string, string>; body?: string; ca?: Buffer; signal?: AbortSignal }): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const request = url.protocol === "https:" ? httpsRequest : httpRequest;
        const req = request(url, { method: options.method ?? "GET", headers: options.headers, ca: options.ca, signal: options.signal, timeout: 30_000 }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`no answer from ${url.origin} in 30s`)));
        req.on("error", reject);
        req.end(options.body);
    });
}

/** The CA of `caFile`, read once. */
export function readCa(caFile: string | undefined): Buffer | undefined {
    return caFile === undefined ? undefined : readFileSync(caFile);
}

/** A WHATWG fetch over {@link send}, for openid-client's customFetch. */
export function fetchWithCa(ca: Buffer | undefined): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
    return async (input, init = {}) => {
        const url = new URL(input instanceof Request ? input.url : input.toString());
        const headers: Record<string, string> = {};
        new Headers(init.headers).forEach((value, key) => {
            headers[key] = value;
        });
        const body = init.body === undefined || init.body === null ? undefined : init.body.toString();
        const reply = await send(url, { method: init.method, headers, body, ca, signal: init.signal ?? undefined });
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(reply.headers)) {
            for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(key, item);
        }
        const response = new Response(reply.status === 204 || reply.status === 304 ? null : reply.body, { status: reply.status, headers: responseHeaders });
        Object.defineProperty(response, "url", { value: url.toString() });
        return response;
    };
}
