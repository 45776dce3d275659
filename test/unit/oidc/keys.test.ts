import { mkdtempSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { CLOCK_SKEW_MS, FileKeyStore, newSigningKey, parseKeySet, providerJwks, rotate, signingKey } from "../../../stacks/oidc/keys";

const policy = { rotateAfterMs: 24 * 3_600_000, tokenTtlMs: 15 * 60_000 };
const at = (iso: string) => new Date(iso);

describe("signing key rotation", () => {
    it("creates the first key when there is none", () => {
        const set = rotate({ keys: [] }, at("2026-01-01T00:00:00Z"), policy);
        expect(set.keys).toHaveLength(1);
        expect(set.keys[0].retiredAt).toBeUndefined();
        expect(set.keys[0].jwk).toMatchObject({ kty: "EC", crv: "P-256" });
        expect(typeof set.keys[0].jwk.d).toBe("string");
    });

    it("changes nothing before the rotation is due", () => {
        const set = rotate({ keys: [] }, at("2026-01-01T00:00:00Z"), policy);
        expect(rotate(set, at("2026-01-01T23:59:59Z"), policy)).toBe(set);
    });

    it("signs with a new key when due and keeps publishing the old one until its tokens expired", () => {
        const first = rotate({ keys: [] }, at("2026-01-01T00:00:00Z"), policy);
        const second = rotate(first, at("2026-01-02T00:00:00Z"), policy);
        expect(second.keys.map((k) => k.kid)).toEqual([expect.any(String), first.keys[0].kid]);
        expect(signingKey(second).kid).not.toBe(first.keys[0].kid);
        expect(second.keys[1].retiredAt).toBe("2026-01-02T00:00:00.000Z");
        // The old key is published for as long as a token it signed may be valid (TTL + skew) ...
        const justBefore = new Date(Date.parse("2026-01-02T00:00:00Z") + policy.tokenTtlMs + CLOCK_SKEW_MS - 1);
        expect(rotate(second, justBefore, policy).keys).toHaveLength(2);
        // ... and dropped after that.
        const after = new Date(justBefore.getTime() + 1);
        expect(rotate(second, after, policy).keys.map((k) => k.kid)).toEqual([signingKey(second).kid]);
    });

    it("rotates at once when forced", () => {
        const first = rotate({ keys: [] }, at("2026-01-01T00:00:00Z"), policy);
        const forced = rotate(first, at("2026-01-01T00:00:01Z"), policy, true);
        expect(forced.keys).toHaveLength(2);
        expect(forced.keys[1].retiredAt).toBeDefined();
    });

    it("puts the signing key first in the provider's JWKS, with kid, alg and use", () => {
        const old = { ...newSigningKey(at("2026-01-01T00:00:00Z")), retiredAt: "2026-01-02T00:00:00.000Z" };
        const current = newSigningKey(at("2026-01-02T00:00:00Z"));
        const jwks = providerJwks({ keys: [old, current] });
        expect(jwks.keys.map((k) => k.kid)).toEqual([current.kid, old.kid]);
        expect(jwks.keys[0]).toMatchObject({ alg: "ES256", use: "sig", kty: "EC" });
    });

    it("refuses a key file that is not a key set, naming it", () => {
        expect(() => parseKeySet("{", "keys.json")).toThrow("keys.json: not JSON");
        expect(() => parseKeySet('{"keys":[{"kid":"a"}]}', "keys.json")).toThrow(/keys.json: must be/);
    });
});

describe("FileKeyStore", () => {
    it("saves the keys readable by the owner only and loads them back", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "catalyst-keys-"));
        try {
            const store = new FileKeyStore(path.join(dir, "sub", "keys.json"));
            expect(await store.load()).toEqual({ keys: [] });
            const set = rotate({ keys: [] }, new Date(), policy);
            await store.save(set);
            expect(statSync(path.join(dir, "sub", "keys.json")).mode & 0o777).toBe(0o600);
            expect(await store.load()).toEqual(set);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
