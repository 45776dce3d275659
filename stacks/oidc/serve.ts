import { readFileSync } from "fs";
import * as path from "path";
import { OidcService, startOidcService } from "./service";
import { localOidcDir, providerSettings, readLocalIssuer, SettingsError } from "./settings";

/** The dashboard as the provider's second client, as `catalyst serve` asks for it. */
export interface DashboardClientRequest {
    clientId: string;
    clientSecret: string;
    /** The callback's path; the origin is the issuer's (the same server hosts both). */
    redirectPath: string;
}

/**
 * What `catalyst serve` needs to host the provider: the service (mounted at the issuer's path),
 * TLS for the listener (the API server only trusts an https issuer), and the port the issuer
 * URL names. The provider is on when CATALYST_OIDC_ISSUER is set, or with `--local-oidc`: the
 * local cluster's issuer (tools/cluster.sh), its certificate, and the embedded default's users
 * file and keys under .catalyst/oidc/.
 */

export interface ServeOidc {
    service: OidcService;
    /** Certificate and key of the HTTPS listener, when TLS is configured. */
    tls?: { cert: Buffer; key: Buffer };
    /** The port of the issuer URL, the default listening port. */
    port?: number;
    /** The CA of the local issuer's certificate (`--local-oidc`), for relying parties in this process. */
    caFile?: string;
    /** The dashboard's registration, when it was asked for. */
    dashboard?: { clientId: string; clientSecret: string; redirectUri: string };
}

function readPem(name: string, file: string): Buffer {
    try {
        return readFileSync(file);
    } catch (err) {
        throw new SettingsError(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
}

/** The provider for `catalyst serve`, or undefined when it is not configured. */
export async function serveOidc(env: NodeJS.ProcessEnv, local: boolean, dashboardClient?: DashboardClientRequest): Promise<ServeOidc | undefined> {
    const defaults: Record<string, string> = {};
    let caFile: string | undefined;
    if (local) {
        const issuer = readLocalIssuer();
        if (issuer === undefined) throw new SettingsError("--local-oidc: the local cluster has no issuer yet; run `npm run cluster:up` first");
        caFile = issuer.caFile;
        const dir = localOidcDir();
        Object.assign(defaults, {
            CATALYST_OIDC_ISSUER: issuer.issuer,
            CATALYST_OIDC_CLIENT_ID: issuer.clientId,
            CATALYST_OIDC_USERS_FILE: path.join(dir, "users.json"),
            CATALYST_OIDC_KEYS_FILE: path.join(dir, "keys.json"),
            CATALYST_TLS_CERT_FILE: issuer.certFile,
            CATALYST_TLS_KEY_FILE: issuer.keyFile,
        });
    } else if (!env.CATALYST_OIDC_ISSUER) {
        return undefined;
    }
    const get = (name: string) => env[name] || defaults[name];
    const parsed = providerSettings(env, defaults);
    const dashboard = dashboardClient && { clientId: dashboardClient.clientId, clientSecret: dashboardClient.clientSecret, redirectUri: `${new URL(parsed.issuer).origin}${dashboardClient.redirectPath}` };
    const settings = { ...parsed, dashboard };
    const certFile = get("CATALYST_TLS_CERT_FILE");
    const keyFile = get("CATALYST_TLS_KEY_FILE");
    if ((certFile === undefined) !== (keyFile === undefined)) throw new SettingsError("CATALYST_TLS_CERT_FILE and CATALYST_TLS_KEY_FILE: set both or neither");
    const tls = certFile && keyFile ? { cert: readPem("CATALYST_TLS_CERT_FILE", certFile), key: readPem("CATALYST_TLS_KEY_FILE", keyFile) } : undefined;
    const { port: issuerPort } = new URL(settings.issuer);
    const port = issuerPort === "" ? 443 : Number(issuerPort);
    return { service: await startOidcService(settings), tls, port, caFile, dashboard };
}
