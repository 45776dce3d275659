import { providerSettings, parseIssuer } from "../../../stacks/oidc/settings";

const base = { CATALYST_OIDC_ISSUER: "https://id.example.com/oidc", CATALYST_OIDC_KEYS_FILE: "/tmp/keys.json", CATALYST_OIDC_USERS_FILE: "/tmp/users.json" };

describe("provider settings", () => {
    it("defaults to 15-minute tokens for the catalyst-cluster client", () => {
        const settings = providerSettings(base);
        expect(settings).toMatchObject({ issuer: "https://id.example.com/oidc", clientId: "catalyst-cluster", tokenTtlMs: 15 * 60_000, keys: { kind: "file", file: "/tmp/keys.json" } });
    });

    it("names the variable that is wrong", () => {
        expect(() => providerSettings({ ...base, CATALYST_OIDC_ISSUER: "http://id.example.com/oidc" })).toThrow(/^CATALYST_OIDC_ISSUER: must be an https URL ending in \/oidc/);
        expect(() => providerSettings({ ...base, CATALYST_OIDC_TOKEN_TTL: "5" })).toThrow(/^CATALYST_OIDC_TOKEN_TTL: must be a duration/);
        expect(() => providerSettings({ ...base, CATALYST_OIDC_KEYS_SECRET_REF: "ns/name" })).toThrow("set one, not both");
        expect(() => providerSettings({ CATALYST_OIDC_ISSUER: base.CATALYST_OIDC_ISSUER, CATALYST_OIDC_KEYS_FILE: "/k" })).toThrow(/nobody could sign in/);
        expect(() => providerSettings({ ...base, CATALYST_OIDC_GITHUB_CLIENT_ID: "Iv1.x", CATALYST_OIDC_GITHUB_CLIENT_SECRET: "s" })).toThrow(/^CATALYST_OIDC_GITHUB_ORG:/);
    });

    it("reads keys from a Secret and GitHub from its variables", () => {
        const rest: Record<string, string> = { ...base };
        delete rest.CATALYST_OIDC_KEYS_FILE;
        const settings = providerSettings({ ...rest, CATALYST_OIDC_KEYS_SECRET_REF: "catalyst-system/oidc-keys", CATALYST_OIDC_GITHUB_CLIENT_ID: "Iv1.x", CATALYST_OIDC_GITHUB_CLIENT_SECRET: "s", CATALYST_OIDC_GITHUB_ORG: "acme" });
        expect(settings.keys).toEqual({ kind: "secret", namespace: "catalyst-system", name: "oidc-keys" });
        expect(settings.github).toEqual({ clientId: "Iv1.x", clientSecret: "s", organization: "acme", webUrl: "https://github.com", apiUrl: "https://api.github.com" });
    });

    it("drops a trailing slash of the issuer", () => {
        expect(parseIssuer("https://127.0.0.1:16543/oidc/")).toBe("https://127.0.0.1:16543/oidc");
    });
});
