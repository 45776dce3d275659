/**
 * What the server's single sign-on (../sso.ts) and the page share: its two paths, and why a
 * sign-on ended on the sign-in page: the server redirects to `/sign-in?sso-error=<code>` and the
 * page shows the message. Codes rather than text in the URL, so that nobody can put words of
 * their own on the page through a link.
 */

/** Where the page's "Sign in with single sign-on" link points. */
export const SSO_START_PATH = "/auth/sso";

/** The redirect URI's path, on the dashboard's own origin. */
export const SSO_CALLBACK_PATH = "/auth/callback";

/** The query parameter that carries the code. */
export const SSO_ERROR_PARAM = "sso-error";

/** Every code and its message. */
export const SSO_ERRORS = {
    denied: "The single sign-on was cancelled or refused at the identity provider.",
    missing: "This single sign-on was not started in this browser, or it took too long; start it again.",
    expired: "The single sign-on took longer than 10 minutes; start it again.",
    state: "The answer of the identity provider does not belong to the sign-in started here; start it again.",
    failed: "The single sign-on failed: the identity provider's answer could not be verified. Try again, or sign in with a token.",
    "no-user": "The identity provider gave no user name (preferred_username) for you; ask an administrator.",
    unknown: "The identity provider no longer knows you; ask an administrator.",
    unavailable: "Single sign-on is not configured on this server; sign in with a token.",
} as const;

/** A code of {@link SSO_ERRORS}. */
export type SsoError = keyof typeof SSO_ERRORS;

/** The message of a code from the URL, or undefined for none or an unknown one. */
export function ssoErrorMessage(code: string | null): string | undefined {
    return code !== null && Object.prototype.hasOwnProperty.call(SSO_ERRORS, code) ? SSO_ERRORS[code as SsoError] : undefined;
}
