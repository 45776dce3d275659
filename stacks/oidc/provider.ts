import type { Configuration, KoaContextWithOIDC } from "oidc-provider";
import * as oidc from "oidc-provider";
import { AuditSink, auditLine } from "./audit";
import { Identity, identityClaims } from "./identity";
import { deviceCodePage, deviceConfirmPage, deviceDonePage, errorPage } from "./pages";
import { LOOPBACK_REDIRECT_PATH, ProviderSettings, SCOPES } from "./settings";

/**
 * The OpenID Provider, configured: oidc-provider (panva/node-oidc-provider, OpenID Certified)
 * does every protocol step and all token code (discovery, JWKS, authorization code with PKCE,
 * the device authorization grant, refresh token rotation, revocation, ID token signing). This
 * file only says how: one public native client (kubectl through `catalyst login`), and with the
 * dashboard a confidential web client for its single sign-on (code flow only), PKCE always,
 * ES256 ID tokens with sub, preferred_username, email and groups for the client as audience,
 * and the lifetimes of the settings.
 *
 * oidc-provider is an ES module; Node >= 22 loads it with require(), so the CommonJS build of
 * this project can use it (Jest cannot: its tests run against a real `catalyst serve`).
 */

export type Provider = InstanceType<typeof oidc.default>;

/** What the configuration needs from the rest of the service. */
export interface ProviderHooks {
    /** The identity behind a subject, or undefined when that person may no longer sign in. */
    findIdentity(sub: string): Identity | undefined;
    /** The URL path of an interaction (the sign-in page). */
    interactionPath(uid: string): string;
    audit: AuditSink;
    /** The store every provider instance of the process shares (stacks/oidc/store.ts). */
    adapter: new (model: string) => object;
}

const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

function userOf(ctx: KoaContextWithOIDC, hooks: ProviderHooks): string | undefined {
    const sub = ctx.oidc?.entities?.Account?.accountId ?? ctx.oidc?.session?.accountId;
    return sub ? (hooks.findIdentity(sub)?.username ?? sub) : undefined;
}

/** The oidc-provider configuration for `settings`, signing with `jwks` (signing key first). */
export function providerConfiguration(settings: ProviderSettings, jwks: { keys: Array<Record<string, string>> }, cookieKeys: string[], hooks: ProviderHooks): Configuration {
    const seconds = (ms: number) => Math.floor(ms / 1000);
    return {
        adapter: hooks.adapter as Configuration["adapter"],
        clients: [{
            client_id: settings.clientId,
            client_name: "kubectl (catalyst login)",
            application_type: "native",
            token_endpoint_auth_method: "none",
            // Loopback redirects match on any port (RFC 8252, section 7.3): `catalyst login` picks a free one.
            redirect_uris: [`http://127.0.0.1${LOOPBACK_REDIRECT_PATH}`],
            grant_types: ["authorization_code", "refresh_token", DEVICE_CODE_GRANT],
            response_types: ["code"],
            id_token_signed_response_alg: "ES256",
        }, ...(settings.dashboard ? [{
            client_id: settings.dashboard.clientId,
            client_secret: settings.dashboard.clientSecret,
            client_name: "Catalyst dashboard",
            application_type: "web" as const,
            token_endpoint_auth_method: "client_secret_basic" as const,
            redirect_uris: [settings.dashboard.redirectUri],
            // A browser session needs no refresh token: it ends at its own expiry.
            grant_types: ["authorization_code"],
            response_types: ["code" as const],
            id_token_signed_response_alg: "ES256" as const,
        }] : [])],
        jwks: jwks as Configuration["jwks"],
        cookies: { keys: cookieKeys },
        claims: { openid: ["sub"], profile: ["preferred_username"], email: ["email", "email_verified"], groups: ["groups"] },
        scopes: [...SCOPES],
        // The claims of the granted scopes go into the ID token itself: it is what kubectl sends.
        conformIdTokenClaims: false,
        responseTypes: ["code"],
        pkce: { required: () => true },
        // Every sign-in gets a refresh token (no offline_access consent dance for a first-party CLI);
        // public clients get a new one on every use and the old one stops working.
        issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
        rotateRefreshToken: true,
        ttl: {
            IdToken: seconds(settings.tokenTtlMs),
            AccessToken: seconds(settings.tokenTtlMs),
            AuthorizationCode: 60,
            DeviceCode: 600,
            Interaction: 600,
            RefreshToken: seconds(settings.sessionTtlMs),
            Session: seconds(settings.sessionTtlMs),
            Grant: seconds(settings.sessionTtlMs),
        },
        findAccount: async (_ctx, sub) => {
            const identity = hooks.findIdentity(sub);
            if (identity === undefined) return undefined;
            return { accountId: sub, claims: async () => ({ ...identityClaims(identity), sub }) };
        },
        interactions: { url: (_ctx, interaction) => hooks.interactionPath(interaction.uid) },
        features: {
            devInteractions: { enabled: false },
            deviceFlow: {
                enabled: true,
                userCodeInputSource: async (ctx, form, _out, err) => {
                    ctx.type = "html";
                    ctx.body = deviceCodePage(form, err ? "That code is not valid; try again." : undefined);
                },
                userCodeConfirmSource: async (ctx, form, client, _device, userCode) => {
                    ctx.type = "html";
                    ctx.body = deviceConfirmPage(form, client.clientName ?? client.clientId, userCode);
                },
                successSource: async (ctx) => {
                    ctx.type = "html";
                    ctx.body = deviceDonePage();
                },
            },
            revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
        },
        clientBasedCORS: () => false,
        renderError: async (ctx, out) => {
            ctx.type = "html";
            ctx.body = errorPage(String(out.error), out.error_description ? String(out.error_description) : undefined);
        },
    };
}

/** A provider for `settings` with its audit events wired. */
export function createProvider(settings: ProviderSettings, jwks: { keys: Array<Record<string, string>> }, cookieKeys: string[], hooks: ProviderHooks): Provider {
    const provider = new oidc.default(settings.issuer, providerConfiguration(settings, jwks, cookieKeys, hooks));
    const base = (ctx: KoaContextWithOIDC) => ({ client: ctx.oidc?.client?.clientId, ip: ctx.ip, user: userOf(ctx, hooks) });
    provider.on("grant.success", (ctx: KoaContextWithOIDC) => hooks.audit(auditLine("token-issued", { ...base(ctx), method: String(ctx.oidc.params?.grant_type ?? "") })));
    const refused = (event: "token-refused" | "authorization-refused", route: string) => (ctx: KoaContextWithOIDC, err: { error?: string; error_description?: string }) =>
        hooks.audit(auditLine(event, { ...base(ctx), method: String(ctx.oidc?.params?.grant_type ?? route), reason: [err.error, err.error_description].filter(Boolean).join(": ") }));
    provider.on("grant.error", refused("token-refused", "token"));
    provider.on("revocation.error", refused("token-refused", "revocation"));
    provider.on("device_authorization.error", refused("authorization-refused", "device_authorization"));
    provider.on("authorization.error", refused("authorization-refused", "authorization"));
    provider.on("grant.revoked", (ctx: KoaContextWithOIDC) => hooks.audit(auditLine("revoked", base(ctx))));
    provider.on("server_error", (ctx: KoaContextWithOIDC, err: Error) => hooks.audit(auditLine("token-refused", { ...base(ctx), reason: `server error: ${err.message.split("\n")[0]}` })));
    return provider;
}
