import { IncomingMessage, ServerResponse, createServer } from "http";
import * as path from "path";
import { createServer as createHttpsServer } from "https";
import {
    ActivityRegistry, address, CatalystService, createHandler, createWebhook, Library, libraryOrNothing, listen, loadTokens, previewConfig, previewOfRequest,
    PreviewResources, previewResources, ServerArgs, sleepingPages, stderr, TokenTable, untilSignal, WEBHOOK_PATH, WebhookLibrary,
} from "../api";
import { webhookSettings, WebhookSettings } from "../automation/github-webhook";
import { wakeKeyFromEnv } from "../automation/wake-link";
import type { Dashboard } from "../dashboard";
import type { ServeOidc } from "../oidc/serve";
import { DASHBOARD_CLIENT_ID } from "../oidc/settings";

/**
 * `catalyst serve`: the one place that composes the front ends it hosts, so that none of them
 * imports another (docs/dashboard.md, "Design"). Handlers, in order: the OpenID provider (its
 * issuer path), the sleeping page for a preview's host, the dashboard, then the HTTP API (whose
 * first route is the GitHub webhook). The API authenticates a request without a bearer token by
 * the dashboard's session, through a function this module hands it.
 */

/** `catalyst serve`'s arguments: the listener, and whether to host the local cluster's OpenID provider. */
export interface ServeArgs extends ServerArgs {
    localOidc: boolean;
}

/**
 * The web dashboard (stacks/dashboard) at `/`: sessions signed with `secret` (COOKIE_SECRET),
 * Secure cookies unless the server listens on loopback over plain http, sign-outs in the Secret
 * or file the CATALYST_DASHBOARD_SIGNED_OUT_* variables name (else the state directory's file), single sign-on against the hosted provider or the issuer the
 * CATALYST_DASHBOARD_OIDC_* variables name; the bundle is built when missing.
 */
async function serveDashboard(tokens: TokenTable, host: string, oidc: ServeOidc | undefined, secret: string): Promise<Dashboard> {
    const { Dashboard, SessionStore, SingleSignOn, isLoopback, revocationsFromEnv, ssoSettings, SSO_CALLBACK_PATH } = await import("../dashboard");
    const { loadBundle, REPO_ROOT } = await import("../dashboard/build");
    const secure = oidc?.tls !== undefined || !isLoopback(host);
    const revocations = await revocationsFromEnv(process.env, path.join(REPO_ROOT, ".catalyst", "dashboard"));
    const sessions = new SessionStore({ secret, secure, revocations });
    const hosted = oidc?.dashboard && { ...oidc.dashboard, issuer: oidc.service.issuer, caFile: oidc.caFile, knows: (sub: string) => oidc.service.knows(sub) };
    const settings = ssoSettings(process.env, SSO_CALLBACK_PATH, hosted);
    const sso = settings && new SingleSignOn(settings, { secret, secure });
    return new Dashboard({ tokens, sessions, secure, sso, bundle: await loadBundle(undefined, stderr) });
}

/**
 * `catalyst serve`: runs the HTTP API until SIGINT/SIGTERM. Returns the exit code (2 for a bad
 * token table or preview config, 1 when the port cannot be bound).
 */
export async function runServeCommand(args: ServeArgs, library?: Library): Promise<number> {
    let tokens: TokenTable;
    let config: Record<string, unknown> | undefined;
    let oidc: ServeOidc | undefined;
    let previews: PreviewResources | undefined;
    let github: WebhookSettings | undefined;
    let dashboard: Dashboard;
    let wakeKey: Buffer | undefined;
    try {
        tokens = loadTokens();
        config = previewConfig();
        previews = await previewResources(config);
        github = webhookSettings();
        wakeKey = wakeKeyFromEnv();
        const { cookieSecret, hostedClientSecret, SSO_CALLBACK_PATH } = await import("../dashboard");
        const secret = cookieSecret(process.env, stderr);
        // The dashboard is the hosted provider's second client; its secret derives from COOKIE_SECRET.
        const dashboardClient = { clientId: DASHBOARD_CLIENT_ID, clientSecret: hostedClientSecret(secret), redirectPath: SSO_CALLBACK_PATH };
        // Loaded only when configured: the provider is an ES module graph of its own (stacks/oidc).
        oidc = args.localOidc || process.env.CATALYST_OIDC_ISSUER ? await (await import("../oidc/serve")).serveOidc(process.env, args.localOidc, dashboardClient) : undefined;
        dashboard = await serveDashboard(tokens, args.host, oidc, secret);
    } catch (err) {
        stderr(`catalyst serve: ${(err as Error).message.split("\n")[0]}`);
        return 2;
    }
    if (tokens.size === 0) stderr("catalyst serve: warning: no tokens configured (CATALYST_API_TOKENS); every request will get 401");
    const loaded = library ?? (await libraryOrNothing("serve"));
    if (loaded === undefined) return 1;
    // ActivityRegistry: GET /events tells live lists (the dashboard's) what changes.
    const service = new CatalystService(loaded, new ActivityRegistry(), undefined, config, previews);
    // The library object is the Automation class, which also has what the webhook needs.
    const webhook = github === undefined ? undefined : createWebhook({ settings: github, library: previews ? undefined : (loaded as unknown as WebhookLibrary), previews, previewConfig: config });
    const sleeping = sleepingPages({ environment: (stack) => loaded.getEnvironment(stack), wakeByLink: (stack) => service.wakeByLink(stack), key: wakeKey, apiUrl: process.env.CATALYST_API_URL });
    const api = createHandler({ service, tokens, sleeping, webhook: webhook && { path: WEBHOOK_PATH, handle: webhook.handle }, session: (req) => dashboard.sessionUser(req) });
    // A request for a preview's host is the sleeping page's (through the ingress controller's
    // default backend), never the dashboard's, even at `/`.
    const handler = (req: IncomingMessage, res: ServerResponse) => void (oidc?.service.handle(req, res) || (previewOfRequest(req) === undefined && dashboard.handle(req, res)) || api(req, res));
    const server = oidc?.tls ? createHttpsServer(oidc.tls, handler) : createServer(handler);
    try {
        // With the provider, the issuer URL says where to listen.
        await listen(server, { ...args, port: args.port ?? oidc?.port ?? 8080 });
    } catch (err) {
        oidc?.service.close();
        stderr(`catalyst serve: ${(err as Error).message.split("\n")[0]}`);
        return 1;
    }
    stderr(`catalyst serve: listening on ${address(server).replace(/^http:/, oidc?.tls ? "https:" : "http:")}${oidc ? `; OpenID provider ${oidc.service.issuer}` : ""}${dashboard.singleSignOn ? `; dashboard single sign-on with ${dashboard.singleSignOn}` : ""}${previews ? `; previews as Environment resources in ${previews.resources.namespace}` : ""}${webhook ? `; GitHub webhook at ${WEBHOOK_PATH}${github?.token ? "" : " (no CATALYST_GITHUB_TOKEN: no comments)"}` : ""}`);
    const code = await untilSignal(server);
    oidc?.service.close();
    return code;
}

