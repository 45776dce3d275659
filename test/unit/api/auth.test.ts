import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { authenticate, bearerToken, loadTokens, owns, requireOwner, TokenTable } from "../../../stacks/api/auth";
import { ApiError } from "../../../stacks/api/errors";

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef00";

describe("tokens", () => {
    const table = new TokenTable({ [ALICE]: "alice", [BOB]: "bob" });

    it("maps a token to its user and refuses others, whatever their length", () => {
        expect(table.lookup(ALICE)).toBe("alice");
        expect(table.lookup(BOB)).toBe("bob");
        expect(table.lookup("")).toBeUndefined();
        expect(table.lookup(ALICE.slice(0, -1))).toBeUndefined();
        expect(table.lookup(`${ALICE}x`.repeat(100))).toBeUndefined();
    });

    it("authenticate throws unauthorized with one message for missing and wrong tokens", () => {
        expect(authenticate(table, ALICE)).toBe("alice");
        for (const token of [undefined, "nope"]) {
            expect(() => authenticate(table, token)).toThrow(new ApiError("unauthorized", "missing or invalid token"));
        }
    });

    it("parses bearer headers", () => {
        expect(bearerToken(`Bearer ${ALICE}`)).toBe(ALICE);
        expect(bearerToken(`bearer ${ALICE}`)).toBe(ALICE);
        expect(bearerToken(`Basic ${ALICE}`)).toBeUndefined();
        expect(bearerToken(undefined)).toBeUndefined();
        expect(bearerToken("Bearer a b")).toBeUndefined();
    });

    it("loads CATALYST_API_TOKENS or a file, and rejects bad tables with the key named", () => {
        expect(loadTokens({ CATALYST_API_TOKENS: JSON.stringify({ [ALICE]: "alice" }) }).lookup(ALICE)).toBe("alice");
        const dir = mkdtempSync(path.join(tmpdir(), "catalyst-tokens-"));
        const file = path.join(dir, "tokens.json");
        writeFileSync(file, JSON.stringify({ [BOB]: "bob" }));
        expect(loadTokens({ CATALYST_API_TOKENS_FILE: file }).lookup(BOB)).toBe("bob");
        expect(loadTokens({}).size).toBe(0);
        expect(() => loadTokens({ CATALYST_API_TOKENS: "{" })).toThrow('CATALYST_API_TOKENS: must be a JSON object {"<token>": "<user>"}');
        expect(() => loadTokens({ CATALYST_API_TOKENS: JSON.stringify({ short: "alice" }) })).toThrow("CATALYST_API_TOKENS: tokens must have at least 16 characters");
    });
});

describe("ownership", () => {
    it("owners may change their previews; others, production and staging are refused", () => {
        expect(owns("Alice", { stack: "pr-1", kind: "preview", owner: "alice" })).toBe(true);
        expect(owns("bob", { stack: "pr-1", kind: "preview", owner: "alice", owners: ["bob"] })).toBe(true);
        expect(() => requireOwner("bob", { stack: "pr-1", kind: "preview", owner: "alice" })).toThrow(new ApiError("forbidden", "bob does not own pr-1"));
        expect(() => requireOwner("alice", { stack: "production", kind: "production", owner: "alice" })).toThrow("production is read-only through this API");
        expect(() => requireOwner("alice", { stack: "staging", kind: "staging", owner: "alice" })).toThrow("staging is read-only through this API");
    });
});
