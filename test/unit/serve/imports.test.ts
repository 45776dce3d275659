import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";

/*
 * Front ends never import one another (STYLE.md, "Front ends"): `catalyst serve` composes the HTTP
 * API, the dashboard and the OpenID provider in stacks/serve, so stacks/api and stacks/dashboard
 * must not name each other, not even for a type.
 */

const STACKS = path.resolve(__dirname, "..", "..", "..", "stacks");
const FRONT_ENDS = ["api", "dashboard", "cli", "controller", "login"];

function sources(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const file = path.join(dir, name);
        if (statSync(file).isDirectory()) return sources(file);
        return /\.tsx?$/.test(name) ? [file] : [];
    });
}

/** The front ends a file's imports (static, dynamic, type-only) reach, other than its own. */
function importedFrontEnds(file: string, own: string): string[] {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]).filter((t) => t.startsWith("."));
    return targets
        .map((t) => path.relative(STACKS, path.resolve(path.dirname(file), t)).split(path.sep)[0])
        .filter((top) => top !== own && FRONT_ENDS.includes(top));
}

describe("front ends", () => {
    it.each(FRONT_ENDS)("stacks/%s imports no other front end", (frontEnd) => {
        const offending = sources(path.join(STACKS, frontEnd)).flatMap((file) => importedFrontEnds(file, frontEnd).map((other) => `${path.relative(STACKS, file)} -> ${other}`));
        expect(offending).toEqual([]);
    });
});
