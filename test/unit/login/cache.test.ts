import { mkdtempSync, rmSync, statSync } from "fs";
import { homedir, tmpdir } from "os";
import * as path from "path";
import { cacheDir, cacheFile, readCache, removeCache, withCacheLock, writeCache } from "../../../stacks/login/cache";
import { execCredential, isFresh, REFRESH_MARGIN_MS } from "../../../stacks/login/credential";

const tokens = { issuer: "https://id.example.com/oidc", clientId: "catalyst-cluster", idToken: "header.claims.signature", expiresAt: Date.parse("2026-01-01T00:15:00Z"), refreshToken: "rt", user: "alice" };

describe("token cache", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-cache-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("lives under the user's cache directory, one file per issuer and client", () => {
        expect(cacheDir({})).toBe(path.join(homedir(), ".cache", "catalyst", "oidc"));
        expect(cacheDir({ XDG_CACHE_HOME: "/var/cache/me" })).toBe("/var/cache/me/catalyst/oidc");
        expect(cacheDir({ XDG_CACHE_HOME: "relative", CATALYST_OIDC_CACHE_DIR: dir })).toBe(dir);
        const env = { CATALYST_OIDC_CACHE_DIR: dir };
        expect(cacheFile(tokens.issuer, "a", env)).not.toBe(cacheFile(tokens.issuer, "b", env));
        expect(path.dirname(cacheFile(tokens.issuer, "a", env))).toBe(dir);
    });

    it("is readable by its owner only", () => {
        const file = path.join(dir, "sub", "t.json");
        writeCache(file, tokens);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
        expect(readCache(file)).toEqual(tokens);
        removeCache(file);
        expect(readCache(file)).toBeUndefined();
    });

    it("serializes refreshes: a second holder waits for the first", async () => {
        const file = path.join(dir, "t.json");
        const order: string[] = [];
        let release!: () => void;
        const first = withCacheLock(file, () => new Promise<void>((resolve) => {
            order.push("first in");
            release = () => {
                order.push("first out");
                resolve();
            };
        }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        const second = withCacheLock(file, async () => void order.push("second in"));
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(order).toEqual(["first in"]);
        release();
        await Promise.all([first, second]);
        expect(order).toEqual(["first in", "first out", "second in"]);
    });
});

describe("ExecCredential", () => {
    it("carries the ID token and an expiry before the token's own", () => {
        const credential = JSON.parse(execCredential(tokens));
        expect(credential).toEqual({
            apiVersion: "client.authentication.k8s.io/v1",
            kind: "ExecCredential",
            status: { token: "header.claims.signature", expirationTimestamp: "2026-01-01T00:14:30Z" },
        });
    });

    it("counts a token as fresh until the refresh margin before expiry", () => {
        expect(isFresh(tokens, tokens.expiresAt - REFRESH_MARGIN_MS - 1)).toBe(true);
        expect(isFresh(tokens, tokens.expiresAt - REFRESH_MARGIN_MS)).toBe(false);
    });
});
