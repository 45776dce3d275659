import { execFileSync } from "child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import path from "path";

/*
 * tools/register.js, the transpile cache that runs the Pulumi program and the automation workers:
 * real Node processes, a real TypeScript file and a cache directory of the test's own.
 */

const register = path.resolve(__dirname, "..", "..", "..", "tools", "register.js");
let dir: string;
let cache: string;

beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "catalyst-register-"));
    cache = path.join(dir, "cache");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `file` in a fresh node with the hook; prints the value and whether typescript was loaded. */
function run(file: string): { value: string; loadedCompiler: boolean } {
    const probe = `const m = require(${JSON.stringify(file)}); ` +
        "const ts = Object.keys(require.cache).some((k) => k.includes(`${require('path').sep}typescript${require('path').sep}`)); " +
        "process.stdout.write(JSON.stringify({ value: m.value(), loadedCompiler: ts }));";
    const out = execFileSync(process.execPath, ["-r", register, "-e", probe], { env: { ...process.env, CATALYST_TS_CACHE_DIR: cache }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return JSON.parse(out) as { value: string; loadedCompiler: boolean };
}

describe("tools/register.js", () => {
    it("transpiles once, then serves the cache without loading the compiler, and never serves an edited file stale", () => {
        const file = path.join(dir, "module.ts");
        writeFileSync(file, "enum Color { Red = 'red' }\nexport function value(): string { return Color.Red as string; }\n");
        expect(run(file)).toEqual({ value: "red", loadedCompiler: true });
        expect(readdirSync(cache)).toHaveLength(1);
        expect(run(file)).toEqual({ value: "red", loadedCompiler: false });

        writeFileSync(file, "export const value = (): string => 'blue';\n");
        expect(run(file)).toEqual({ value: "blue", loadedCompiler: true });
        // One cache file per source: an edit replaces it.
        expect(readdirSync(cache)).toHaveLength(1);
        expect(readFileSync(path.join(cache, readdirSync(cache)[0]), "utf8")).toContain("blue");
    });

    it("maps stack traces to the TypeScript lines", () => {
        const file = path.join(dir, "thrower.ts");
        writeFileSync(file, "type T = string;\n\nexport function value(): T {\n    throw new Error('boom');\n}\n");
        let stack = "";
        try {
            run(file);
        } catch (err) {
            stack = String((err as { stderr?: string }).stderr);
        }
        expect(stack).toContain(`${file}:4`);
    });

    it("turns on Node's compile cache for its process and every Node process started below it", () => {
        const env: NodeJS.ProcessEnv = { ...process.env, CATALYST_TS_CACHE_DIR: cache };
        delete env.NODE_COMPILE_CACHE;
        const probe = "const m = require('module'); const child = require('child_process').execFileSync(process.execPath, " +
            "['-p', 'require(\\'module\\').getCompileCacheDir()'], { encoding: 'utf8' }).trim(); " +
            "process.stdout.write(JSON.stringify({ own: m.getCompileCacheDir(), variable: process.env.NODE_COMPILE_CACHE, child }));";
        const out = JSON.parse(execFileSync(process.execPath, ["-r", register, "-e", probe], { env, encoding: "utf8" })) as Record<string, string>;
        const expected = path.resolve(__dirname, "..", "..", "..", ".catalyst", "node-compile-cache");
        // Node keeps its entries in a subdirectory per Node version and V8 flags.
        expect(out.variable).toBe(expected);
        expect(out.own.startsWith(expected)).toBe(true);
        expect(out.child.startsWith(expected)).toBe(true);
    });

    it("leaves npm's arborist out of @pulumi/pulumi's start-up, and loads it when it is used", () => {
        const probe = "require('@pulumi/pulumi'); " +
            "const loaded = () => Object.keys(require.cache).some((k) => k.includes('@npmcli/arborist')); " +
            "const before = loaded(); " +
            "const Arborist = require('@pulumi/pulumi/runtime/closure/codePaths.js') && require('module')._load('@npmcli/arborist', require.cache[require.resolve('@pulumi/pulumi/runtime/closure/codePaths.js')]).Arborist; " +
            "process.stdout.write(JSON.stringify({ before, after: loaded(), kind: typeof Arborist }));";
        const out = execFileSync(process.execPath, ["-r", register, "-e", probe], { cwd: path.resolve(__dirname, "..", "..", ".."), env: { ...process.env, CATALYST_TS_CACHE_DIR: cache }, encoding: "utf8" });
        expect(JSON.parse(out)).toEqual({ before: false, after: true, kind: "function" });
    });
});

