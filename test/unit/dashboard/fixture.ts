import { AddressInfo } from "net";
import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { ActivityRegistry } from "../../../stacks/api/activity";
import { TokenTable } from "../../../stacks/api/auth";
import { createHandler } from "../../../stacks/api/http";
import { CatalystService } from "../../../stacks/api/service";
import { Dashboard, Revocations, SessionStore, SignInLimiter, SingleSignOn } from "../../../stacks/dashboard";
import { FakeLibrary, fakeCluster } from "../api/fakes";

/**
 * The dashboard's routes and the API's session authentication, composed as `catalyst serve`
 * composes them (stacks/serve), over the fake library, on a loopback port.
 */

export const ALICE = "alice-token-0123456789abcdef";
export const SECRET = "s".repeat(32);
export const bundle = { js: Buffer.from("console.log('app')"), css: Buffer.from("body{}"), hash: "abc123" };

/** A running composition. */
export interface Running {
    base: string;
    library: FakeLibrary;
    sessions: SessionStore;
    /** What the dashboard logged. */
    logged: string[];
    close: () => Promise<void>;
}

/** What a test may change in the composition. */
export interface StartOptions {
    secure?: boolean;
    now?: () => number;
    tokens?: Record<string, string>;
    revocations?: Revocations;
    sso?: SingleSignOn;
    limiter?: SignInLimiter;
}

/** Starts the composition on a free loopback port. */
export async function start(options: StartOptions = {}): Promise<Running> {
    const { secure = false, now } = options;
    const library = new FakeLibrary();
    const tokens = new TokenTable(options.tokens ?? { [ALICE]: "alice" });
    const sessions = new SessionStore({ secret: SECRET, secure, now, revocations: options.revocations });
    const logged: string[] = [];
    const dashboard = new Dashboard({ tokens, sessions, secure, bundle, sso: options.sso, limiter: options.limiter, log: (line) => logged.push(line) });
    const service = new CatalystService(library, new ActivityRegistry(), fakeCluster());
    const api = createHandler({ service, tokens, log: () => undefined, session: (req) => dashboard.sessionUser(req) });
    const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => void (dashboard.handle(req, res) || api(req, res)));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
        base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        library,
        sessions,
        logged,
        close: async () => {
            server.closeAllConnections();
            await new Promise((r) => server.close(r));
        },
    };
}

/** Signs in with `token` at `base`; the response. */
export function signIn(base: string, token = ALICE, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${base}/session`, { method: "POST", redirect: "manual", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ token }) });
}

/** A session at `base`: its cookie (as a Cookie header) and CSRF token. */
export async function session(base: string, token = ALICE): Promise<{ cookie: string; csrf: string }> {
    const res = await signIn(base, token);
    if (res.status !== 200) throw new Error(`sign-in answered ${res.status}`);
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
    const { csrf } = (await res.json()) as { csrf: string };
    return { cookie, csrf };
}
