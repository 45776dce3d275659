/**
 * Catalyst's OpenID provider (docs/security.md, "Signing in"): settings, the service
 * `catalyst serve` mounts at /oidc, and the pure parts (keys, users file, GitHub mapping).
 */
export { startOidcService } from "./service";
export type { OidcService } from "./service";
export { providerSettings, SettingsError, readLocalIssuer, localOidcDir, ISSUER_PATH, DEFAULT_CLIENT_ID } from "./settings";
export type { ProviderSettings } from "./settings";
export { hashPassword, readUsers } from "./users";
