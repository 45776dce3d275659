/**
 * The page's calls of the public HTTP API (docs/api.md), authenticated by the session cookie:
 * same-origin fetches, the CSRF token in `x-csrf-token` on every state-changing request, the
 * API's error body turned into an {@link ApiFailure}.
 */

/** The signed-in session (`GET /session`). */
export interface SessionInfo {
    user: string;
    csrf: string;
    expiresAt: string;
}

/** A refused or failed call: status and the API's code and message. */
export class ApiFailure extends Error {
    constructor(readonly status: number, readonly code: string, message: string) {
        super(message);
    }
}

let csrf = "";

/** Remembers the session's CSRF token for later calls. */
export function useSession(session: SessionInfo | undefined): void {
    csrf = session?.csrf ?? "";
}

/** Calls the API; resolves with the JSON body (undefined for 204), rejects with ApiFailure. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (method !== "GET") headers["x-csrf-token"] = csrf;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
    if (res.status === 204) return undefined as T;
    // The session expired or was signed out elsewhere: back to sign-in rather than a page of errors.
    if (res.status === 401 && path !== "/session") location.assign("/sign-in");
    const text = await res.text();
    let json: unknown;
    try {
        json = text === "" ? {} : JSON.parse(text);
    } catch {
        json = {};
    }
    if (!res.ok) {
        const error = (json as { error?: { code?: string; message?: string } }).error;
        throw new ApiFailure(res.status, error?.code ?? "error", error?.message ?? `${res.status} ${res.statusText}`);
    }
    return json as T;
}

/** The current session, or undefined when not signed in. */
export async function currentSession(): Promise<SessionInfo | undefined> {
    try {
        return await call<SessionInfo>("GET", "/session");
    } catch (err) {
        if (err instanceof ApiFailure && err.status === 401) return undefined;
        throw err;
    }
}
