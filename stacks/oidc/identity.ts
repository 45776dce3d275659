/** Who signed in, as the ID token tells the cluster. */
export interface Identity {
    /** Stable subject: `local:<name>` or `github:<numeric id>`. */
    sub: string;
    /** The user name the cluster sees (with the `oidc:` prefix): a local name or a GitHub login. */
    username: string;
    email?: string;
    /** Groups (RBAC binds them with the `oidc:` prefix). */
    groups: string[];
}

/** The claims an ID token carries for `identity`. */
export function identityClaims(identity: Identity): Record<string, unknown> {
    return {
        sub: identity.sub,
        preferred_username: identity.username,
        ...(identity.email ? { email: identity.email, email_verified: true } : {}),
        groups: identity.groups,
    };
}
