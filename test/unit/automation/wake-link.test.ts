import { signWakeToken, verifyWakeToken, wakeKeyFromEnv, wakeLink } from "../../../stacks/automation/wake-link";

const key = Buffer.from("k".repeat(32));
const now = new Date("2026-12-07T12:00:00.000Z");
const later = new Date("2026-12-08T12:00:00.000Z");

describe("signed wake links (wake-link.ts)", () => {
    it("accepts its own token until it expires", () => {
        const token = signWakeToken(key, "pr-12", later);
        expect(token).toMatch(/^pr-12\.1796731200\.[A-Za-z0-9_-]{43}$/);
        expect(verifyWakeToken(key, token, now)).toEqual({ stack: "pr-12" });
        expect(verifyWakeToken(key, token, later)).toEqual({ problem: "expired" });
    });

    it("refuses forged, altered and malformed tokens", () => {
        const token = signWakeToken(key, "pr-12", later);
        const [stack, expires, signature] = token.split(".");
        expect(verifyWakeToken(Buffer.from("x".repeat(32)), token, now)).toEqual({ problem: "forged" });
        expect(verifyWakeToken(key, `pr-13.${expires}.${signature}`, now)).toEqual({ problem: "forged" });
        expect(verifyWakeToken(key, `${stack}.${Number(expires) + 86_400}.${signature}`, now)).toEqual({ problem: "forged" });
        // An expired token with its expiry moved on is a forgery, not "expired": the answer tells a forger nothing.
        const old = signWakeToken(key, "pr-12", new Date(now.getTime() - 1000)).split(".");
        expect(verifyWakeToken(key, `${old[0]}.${Number(old[1]) + 3600}.${old[2]}`, now)).toEqual({ problem: "forged" });
        for (const bad of ["", "pr-12", `${stack}.${expires}`, `${stack}.${expires}.${signature}x`, `PR-12.${expires}.${signature}`, `${token}\n`]) {
            expect([bad, verifyWakeToken(key, bad, now)]).toEqual([bad, { problem: "malformed" }]);
        }
    });

    it("reads the key from CATALYST_WAKE_KEY, refusing a short one, and builds the link", () => {
        expect(wakeKeyFromEnv({})).toBeUndefined();
        expect(wakeKeyFromEnv({ CATALYST_WAKE_KEY: "k".repeat(32) })).toEqual(key);
        expect(() => wakeKeyFromEnv({ CATALYST_WAKE_KEY: "short" })).toThrow("CATALYST_WAKE_KEY: must be at least 32 bytes (e.g. `openssl rand -hex 32`), got 5");
        expect(wakeLink("https://catalyst.example.com/", "pr-1.1.abc")).toBe("https://catalyst.example.com/sleeping/wake?token=pr-1.1.abc");
    });
});
