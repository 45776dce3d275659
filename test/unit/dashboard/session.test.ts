import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { buildDashboard, loadBundle } from "../../../stacks/dashboard/build";
import { cookieSecret, isLoopback, parseCookies } from "../../../stacks/dashboard/session";
import { crossSiteReason } from "../../../stacks/dashboard";
import type { IncomingMessage } from "http";

describe("COOKIE_SECRET", () => {
    it("refuses a short secret, naming the variable", () => {
        expect(() => cookieSecret({ COOKIE_SECRET: "short" })).toThrow("COOKIE_SECRET: must have at least 32 characters, got 5");
    });
    it("uses a set secret as it is, and a random one (with a note) when unset", () => {
        expect(cookieSecret({ COOKIE_SECRET: "k".repeat(40) })).toBe("k".repeat(40));
        const notes: string[] = [];
        const a = cookieSecret({}, (l) => notes.push(l));
        expect(a).not.toBe(cookieSecret({}));
        expect(a.length).toBeGreaterThanOrEqual(43);
        expect(notes).toEqual(["catalyst serve: COOKIE_SECRET is not set; dashboard sessions use a random key and end when the server stops"]);
    });
});

describe("session helpers", () => {
    it("knows loopback hosts", () => {
        expect(["127.0.0.1", "::1", "localhost", "127.0.0.5"].every(isLoopback)).toBe(true);
        expect(["0.0.0.0", "10.0.0.1", "example.com"].some(isLoopback)).toBe(false);
    });
    it("parses cookies; the first of a repeated name wins", () => {
        expect([...parseCookies("a=1; b=x=y; a=2; junk")]).toEqual([["a", "1"], ["b", "x=y"]]);
    });
    it("tells cross-site requests apart", () => {
        const req = (headers: Record<string, string>) => ({ headers: { host: "127.0.0.1:8080", ...headers } }) as unknown as IncomingMessage;
        expect(crossSiteReason(req({}))).toBeUndefined();
        expect(crossSiteReason(req({ origin: "http://127.0.0.1:8080", "sec-fetch-site": "same-origin" }))).toBeUndefined();
        expect(crossSiteReason(req({ origin: "http://127.0.0.1:9999" }))).toBe("cross-origin request from http://127.0.0.1:9999");
        expect(crossSiteReason(req({ origin: "null" }))).toBe("opaque Origin");
        expect(crossSiteReason(req({ "sec-fetch-site": "same-site" }))).toBe("cross-site request (Sec-Fetch-Site: same-site)");
    });
});

describe("the bundle", () => {
    it("builds app.js and app.css from the sources, with nothing fetched from elsewhere", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "dash-"));
        try {
            const bundle = await buildDashboard(dir);
            expect(readFileSync(path.join(dir, "app.js"))).toEqual(bundle.js);
            expect(bundle.js.length).toBeGreaterThan(10_000);
            expect(bundle.css.toString()).toContain("focus-visible");
            expect(bundle.js.toString()).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
            expect(bundle.hash).toMatch(/^[0-9a-f]{12}$/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("says in one line which directory lacks the bundle and how to build it, when it cannot be built there", async () => {
        // A directory under a regular file cannot be created, as /app/dist cannot on the image's read-only root.
        const dir = mkdtempSync(path.join(tmpdir(), "dash-"));
        const outDir = path.join(dir, "file", "dashboard");
        try {
            writeFileSync(path.join(dir, "file"), "");
            const failure = loadBundle(outDir);
            await expect(failure).rejects.toThrow(`the dashboard bundle is missing in ${outDir} and cannot be built there (ENOTDIR: not a directory, mkdir '${outDir}'); build it with \`npm run build:dashboard\` where the code is installed`);
            expect((await failure.then(() => "", (err: Error) => err.message)).split("\n")).toHaveLength(1);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
