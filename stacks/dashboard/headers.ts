/**
 * Security headers of every dashboard response. The Content-Security-Policy allows only the
 * server's own scripts, styles and connections (no inline script, no CDN), and no framing.
 */

/** The dashboard's Content-Security-Policy. */
export const CONTENT_SECURITY_POLICY = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
].join("; ");

/** Headers for a dashboard response; HSTS too when the cookie is Secure (not on loopback http). */
export function securityHeaders(secure: boolean): Record<string, string> {
    return {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
        ...(secure ? { "strict-transport-security": "max-age=31536000" } : {}),
    };
}
