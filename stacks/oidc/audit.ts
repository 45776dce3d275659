/**
 * The provider's audit trail: one JSON line per sign-in, refused sign-in, issued or refused token
 * and revocation. It names who, which client, from where and why, never a password, code or
 * token (only the error code the provider answered with).
 */

/** One audit line. */
export interface OidcAuditRecord {
    time: string;
    audit: "oidc";
    event: "sign-in" | "sign-in-refused" | "token-issued" | "token-refused" | "revoked" | "keys-rotated" | "authorization-refused";
    /** The user name, when known. */
    user?: string;
    client?: string;
    /** `password`, `github`, `authorization_code`, `refresh_token`, `device_code`. */
    method?: string;
    /** The provider's error code or the reason in words. */
    reason?: string;
    /** The remote address. */
    ip?: string;
    /** For key rotation: the new signing key id (public). */
    kid?: string;
}

/** Where lines go; the default writes them to stderr. */
export type AuditSink = (record: OidcAuditRecord) => void;

export const stderrAudit: AuditSink = (record) => void process.stderr.write(`${JSON.stringify(record)}\n`);

/** An audit record stamped now. */
export function auditLine(event: OidcAuditRecord["event"], fields: Omit<OidcAuditRecord, "time" | "audit" | "event"> = {}): OidcAuditRecord {
    const record: OidcAuditRecord = { time: new Date().toISOString(), audit: "oidc", event };
    for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined && value !== "") (record as unknown as Record<string, unknown>)[key] = value;
    }
    return record;
}
