import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { FileRevocations, MemoryRevocations, SignInLimiter } from "../../../stacks/dashboard";
import { revocationsFromEnv, secretRefOf } from "../../../stacks/dashboard/revocations";
import { ALICE, session, signIn, start } from "./fixture";

/*
 * Sessions end with what they came from: a token removed from the table ends its sessions, a
 * sign-out survives a restart (the file of signed-out sessions), and failed sign-ins are limited
 * per address (429 with Retry-After).
 */

const BOB = "bob-token-0123456789abcdef01";

let dir: string;
beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "dash-cred-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("a token session", () => {
    it("ends as soon as its token leaves the table (same COOKIE_SECRET, new table), and holds while it stays", async () => {
        const before = await start({ tokens: { [ALICE]: "alice", [BOB]: "bob" } });
        const alice = await session(before.base);
        const bob = await session(before.base, BOB);
        await before.close();
        // The "restart": the same secret, a table without Alice's token.
        const after = await start({ tokens: { [BOB]: "bob" } });
        try {
            expect((await fetch(`${after.base}/session`, { headers: { cookie: alice.cookie } })).status).toBe(401);
            expect((await fetch(`${after.base}/environments`, { headers: { cookie: alice.cookie } })).status).toBe(401);
            expect((await fetch(`${after.base}/`, { headers: { cookie: alice.cookie }, redirect: "manual" })).status).toBe(303);
            expect((await fetch(`${after.base}/environments`, { headers: { cookie: bob.cookie } })).status).toBe(200);
        } finally {
            await after.close();
        }
    });

    it("ends when its token now maps to another user", async () => {
        const before = await start();
        const alice = await session(before.base);
        await before.close();
        const after = await start({ tokens: { [ALICE]: "mallory" } });
        try {
            expect((await fetch(`${after.base}/session`, { headers: { cookie: alice.cookie } })).status).toBe(401);
        } finally {
            await after.close();
        }
    });

    it("keeps only a keyed digest of the token in the cookie", async () => {
        const s = await start();
        try {
            const { cookie } = await session(s.base);
            const payload = JSON.parse(Buffer.from(cookie.split("=")[1].split(".")[0], "base64url").toString("utf8")) as Record<string, unknown>;
            expect(payload).toMatchObject({ user: "alice", via: "token", cred: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
            expect(JSON.stringify(payload)).not.toContain(ALICE);
        } finally {
            await s.close();
        }
    });
});

describe("sign-outs", () => {
    it("stay signed out after a restart: a new store over the same file refuses the old cookie", async () => {
        const file = path.join(dir, "signed-out.jsonl");
        const before = await start({ revocations: new FileRevocations(file) });
        const { cookie, csrf } = await session(before.base);
        const kept = await session(before.base);
        expect((await fetch(`${before.base}/session`, { method: "DELETE", headers: { cookie, "x-csrf-token": csrf } })).status).toBe(204);
        await before.close();
        expect(readFileSync(file, "utf8")).toMatch(/^\{"sid":"[A-Za-z0-9_-]{22}","exp":\d+\}\n$/);
        const after = await start({ revocations: new FileRevocations(file) });
        try {
            expect((await fetch(`${after.base}/session`, { headers: { cookie } })).status).toBe(401);
            expect((await fetch(`${after.base}/session`, { headers: { cookie: kept.cookie } })).status).toBe(200);
        } finally {
            await after.close();
        }
    });

    it("replicas sharing the file see each other's sign-outs at once; expired and torn lines are ignored", async () => {
        const file = path.join(dir, "shared.jsonl");
        let now = 1000;
        const a = new FileRevocations(file, () => now);
        const b = new FileRevocations(file, () => now);
        await a.add("sid-1", 2000);
        expect(b.has("sid-1")).toBe(true);
        appendFileSync(file, '{"sid":"sid-2","exp":500}\nnot json\n{"sid":"sid-3"');
        expect(b.has("sid-2")).toBe(false);
        appendFileSync(file, ',"exp":3000}\n');
        expect(b.has("sid-3")).toBe(true);
        now = 2000;
        expect(b.has("sid-1")).toBe(false);
    });

    it("a sign-out the store cannot record answers 503 and is logged with the store's reason", async () => {
        const failing = new (class extends MemoryRevocations {
            override async add(): Promise<void> {
                throw new Error("Secret ns/signed-out: full: 29128 sign-outs not yet expired take more than the 1 MiB a Secret holds");
            }
        })();
        const s = await start({ revocations: failing });
        try {
            const { cookie, csrf } = await session(s.base);
            const res = await fetch(`${s.base}/session`, { method: "DELETE", headers: { cookie, "x-csrf-token": csrf } });
            expect([res.status, await res.json()]).toEqual([503, { error: { code: "unavailable", message: "the sign-out could not be recorded; try again" } }]);
            expect(res.headers.get("set-cookie")).toBeNull();
            expect(s.logged).toEqual(["catalyst serve: dashboard: sign-out not recorded: Secret ns/signed-out: full: 29128 sign-outs not yet expired take more than the 1 MiB a Secret holds"]);
        } finally {
            await s.close();
        }
    });

    it("the file is named by CATALYST_DASHBOARD_SIGNED_OUT_FILE, else signed-out.jsonl in the state directory", async () => {
        expect((await revocationsFromEnv({}, dir)).describe()).toBe(path.join(dir, "signed-out.jsonl"));
        expect((await revocationsFromEnv({ CATALYST_DASHBOARD_SIGNED_OUT_FILE: path.join(dir, "x.jsonl") }, "/nowhere")).describe()).toBe(path.join(dir, "x.jsonl"));
        await expect(revocationsFromEnv({ CATALYST_DASHBOARD_SIGNED_OUT_FILE: " " }, dir)).rejects.toThrow("CATALYST_DASHBOARD_SIGNED_OUT_FILE: must be a file path when set");
    });

    it("CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF must be <namespace>/<name>, and not beside the file variable", async () => {
        for (const bad of ["catalyst-system", "catalyst-system/", "/x", "a/b/c", "Catalyst/x", "ns/Not_A_Name", `ns/${"x".repeat(64)}`, " "]) {
            await expect(revocationsFromEnv({ CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF: bad }, dir))
                .rejects.toThrow(`CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF: must be <namespace>/<name> of a Secret (lower-case DNS labels), got ${JSON.stringify(bad)}`);
        }
        await expect(revocationsFromEnv({ CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF: "ns/x", CATALYST_DASHBOARD_SIGNED_OUT_FILE: path.join(dir, "x.jsonl") }, dir))
            .rejects.toThrow("CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF: set it or CATALYST_DASHBOARD_SIGNED_OUT_FILE, not both");
        expect(secretRefOf("catalyst-system/catalyst-dashboard-signed-out", "V")).toEqual({ namespace: "catalyst-system", name: "catalyst-dashboard-signed-out" });
    });
});

describe("the sign-in rate limit", () => {
    it("answers 429 with Retry-After after 10 failures from one address, even for a good token, until the window ends", async () => {
        const s = await start({ limiter: new SignInLimiter(10, 300) });
        try {
            for (let i = 0; i < 10; i++) expect((await signIn(s.base, `wrong-token-${i}-0123456789`)).status).toBe(401);
            const refused = await signIn(s.base, "wrong-token-again-0123456789");
            expect(refused.status).toBe(429);
            const wait = Number(refused.headers.get("retry-after"));
            expect(wait).toBeGreaterThan(290);
            expect(wait).toBeLessThanOrEqual(300);
            expect(((await refused.json()) as { error: { code: string; message: string } }).error).toEqual({ code: "too-many-requests", message: `too many failed sign-ins from this address; try again in ${wait} s` });
            expect((await signIn(s.base, ALICE)).status).toBe(429);
        } finally {
            await s.close();
        }
    });

    it("counts failures only: good sign-ins do not use up the allowance", async () => {
        const s = await start({ limiter: new SignInLimiter(2, 300) });
        try {
            for (let i = 0; i < 5; i++) expect((await signIn(s.base, ALICE)).status).toBe(200);
            expect((await signIn(s.base, "wrong-token-0123456789ab")).status).toBe(401);
            expect((await signIn(s.base, ALICE)).status).toBe(200);
        } finally {
            await s.close();
        }
    });
});
