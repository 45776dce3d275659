import { createHmac } from "crypto";
import { readFileSync } from "fs";

/**
 * Whether and against which issuer the dashboard offers single sign-on, validated at start with
 * messages that name the variable. Two ways:
 *
 * - the OpenID provider the same `catalyst serve` hosts (`--local-oidc` or CATALYST_OIDC_ISSUER):
 *   the composition (stacks/serve) registers the dashboard as a second client there and passes
 *   {@link HostedIssuer}; nothing to set;
 * - another issuer: CATALYST_DASHBOARD_OIDC_ISSUER (https), CATALYST_DASHBOARD_OIDC_CLIENT_ID,
 *   CATALYST_DASHBOARD_OIDC_CLIENT_SECRET and CATALYST_DASHBOARD_URL (the dashboard's public
 *   origin: the redirect URI is `<it>/auth/callback`). These win over the hosted provider.
 *
 * CATALYST_DASHBOARD_OIDC_CA_FILE names a CA (PEM) to trust for the issuer instead of the
 * system store; the local issuer's CA is trusted that way by default.
 */

/** What the relying party needs. */
export interface SsoSettings {
    issuer: string;
    clientId: string;
    clientSecret: string;
    /** The dashboard's callback, registered at the issuer. */
    redirectUri: string;
    /** A CA (PEM) to trust for the issuer. */
    ca?: Buffer;
    /** For the hosted provider: whether it still knows a subject (a person removed from the users file is not). */
    knows?: (sub: string) => boolean;
}

/** The provider hosted by the same server, as the composition describes it. */
export interface HostedIssuer {
    issuer: string;
    clientId: string;
    clientSecret: string;
    redirectUri: string;
    /** The CA that signed the issuer's certificate (the local cluster's), when not a public one. */
    caFile?: string;
    knows: (sub: string) => boolean;
}

const EXTERNAL = ["CATALYST_DASHBOARD_OIDC_CLIENT_ID", "CATALYST_DASHBOARD_OIDC_CLIENT_SECRET", "CATALYST_DASHBOARD_URL"] as const;

function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
    const text = env[name];
    return text === undefined || text.trim() === "" ? undefined : text.trim();
}

function httpsUrl(name: string, text: string, loopbackHttp: boolean): URL {
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new Error(`${name}: must be an https URL, got "${text}"`);
    }
    const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
    if (url.protocol !== "https:" && !(loopbackHttp && loopback && url.protocol === "http:")) throw new Error(`${name}: must be an https URL, got "${text}"`);
    if (url.search !== "" || url.hash !== "") throw new Error(`${name}: must have no query or fragment, got "${text}"`);
    return url;
}

function readCaFile(name: string, file: string): Buffer {
    try {
        return readFileSync(file);
    } catch (err) {
        throw new Error(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
}

/** The single sign-on settings of `catalyst serve`, or undefined when it is off. */
export function ssoSettings(env: NodeJS.ProcessEnv, callbackPath: string, hosted?: HostedIssuer): SsoSettings | undefined {
    const issuer = value(env, "CATALYST_DASHBOARD_OIDC_ISSUER");
    const caFile = value(env, "CATALYST_DASHBOARD_OIDC_CA_FILE");
    if (issuer === undefined) {
        const stray = EXTERNAL.find((name) => value(env, name) !== undefined);
        if (stray !== undefined) throw new Error(`CATALYST_DASHBOARD_OIDC_ISSUER: required with ${stray} (the issuer the dashboard signs people in with)`);
        if (hosted === undefined) {
            if (caFile !== undefined) throw new Error("CATALYST_DASHBOARD_OIDC_CA_FILE: single sign-on is off (no CATALYST_DASHBOARD_OIDC_ISSUER and no hosted OpenID provider)");
            return undefined;
        }
        const ca = caFile ?? hosted.caFile;
        return { ...hosted, ca: ca === undefined ? undefined : readCaFile(caFile !== undefined ? "CATALYST_DASHBOARD_OIDC_CA_FILE" : "the local issuer's CA", ca) };
    }
    const issuerUrl = httpsUrl("CATALYST_DASHBOARD_OIDC_ISSUER", issuer, false);
    const [clientId, clientSecret, dashboardUrl] = EXTERNAL.map((name) => {
        const text = value(env, name);
        if (text === undefined) throw new Error(`${name}: required with CATALYST_DASHBOARD_OIDC_ISSUER`);
        return text;
    });
    if (!/^[\x21-\x7e]{1,255}$/.test(clientId)) throw new Error("CATALYST_DASHBOARD_OIDC_CLIENT_ID: printable characters without spaces (1-255)");
    const origin = httpsUrl("CATALYST_DASHBOARD_URL", dashboardUrl, true);
    if (origin.pathname !== "/") throw new Error(`CATALYST_DASHBOARD_URL: the dashboard's origin only (scheme, host, port), got "${dashboardUrl}"`);
    return {
        issuer: issuerUrl.href.replace(/\/$/, ""),
        clientId,
        clientSecret,
        redirectUri: `${origin.origin}${callbackPath}`,
        ca: caFile === undefined ? undefined : readCaFile("CATALYST_DASHBOARD_OIDC_CA_FILE", caFile),
    };
}

/**
 * The dashboard's client secret at the hosted provider: derived from COOKIE_SECRET, so that the
 * provider and the dashboard of every replica agree without another secret to manage.
 */
export function hostedClientSecret(cookieSecret: string): string {
    return createHmac("sha256", cookieSecret).update("catalyst-dashboard oidc client secret").digest("base64url");
}
