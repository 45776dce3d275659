import { CachedTokens } from "./cache";

/**
 * What `catalyst kube-credential` prints: a `client.authentication.k8s.io/v1` ExecCredential
 * (the exec credential plugin protocol kubectl and k9s speak) holding the ID token and its
 * expiry, so the client runs the plugin again before the token runs out. Pure.
 */

export const EXEC_CREDENTIAL_API = "client.authentication.k8s.io/v1";

/** A token with less than this left is refreshed first, so it cannot expire on the way. */
export const REFRESH_MARGIN_MS = 60_000;

/** True when the cached ID token can still be handed out at `now`. */
export function isFresh(tokens: CachedTokens, now: number): boolean {
    return tokens.expiresAt - now > REFRESH_MARGIN_MS;
}

/** The ExecCredential of `tokens`; kubectl asks again at the margin before expiry. */
export function execCredential(tokens: CachedTokens): string {
    return JSON.stringify({
        apiVersion: EXEC_CREDENTIAL_API,
        kind: "ExecCredential",
        status: { token: tokens.idToken, expirationTimestamp: new Date(tokens.expiresAt - REFRESH_MARGIN_MS / 2).toISOString().replace(/\.\d{3}Z$/, "Z") },
    });
}
