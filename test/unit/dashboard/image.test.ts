import { readFileSync } from "fs";
import * as path from "path";
import { Copy, DockerfileParser } from "dockerfile-ast";
import { DEFAULT_OUT_DIR, REPO_ROOT } from "../../../stacks/dashboard/build";

/*
 * The control-plane image (the root Dockerfile) runs `catalyst serve` with a read-only /app, so
 * the dashboard's bundle must be built into the image: .dockerignore keeps dist/ out of the
 * context, and a serve that finds no bundle cannot write one. This reads the Dockerfile as the
 * Docker parser does and checks the build stage builds it after the sources are copied, into the
 * directory the runtime copies to /app and `catalyst serve` reads.
 */

const dockerfile = readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8");
const instructions = DockerfileParser.parse(dockerfile).getInstructions();
const text = (i: (typeof instructions)[number]) => i.getArgumentsContent() ?? "";

describe("the control-plane image", () => {
    it("builds the dashboard bundle in its build stage, after the sources are copied", () => {
        const stages = instructions.reduce<number[]>((starts, i, n) => (i.getKeyword() === "FROM" ? [...starts, n] : starts), []);
        expect(stages).toHaveLength(2);
        const build = instructions.slice(stages[0], stages[1]);
        expect(text(build[0])).toMatch(/ AS build$/);
        const copySources = build.findIndex((i) => i.getKeyword() === "COPY" && text(i) === ". .");
        const bundle = build.findIndex((i) => i.getKeyword() === "RUN" && /\bnpm run (--silent )?build:dashboard\b/.test(text(i)));
        expect(copySources).toBeGreaterThan(0);
        expect(bundle).toBeGreaterThan(copySources);
        // The script is the bundler, and the WORKDIR of the build stage is what the runtime copies to /app.
        const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        expect(scripts["build:dashboard"]).toContain("stacks/dashboard/build.ts");
        expect(build.filter((i) => i.getKeyword() === "WORKDIR").map(text)).toEqual(["/src"]);
        const runtime = instructions.slice(stages[1]);
        const copies = runtime.filter((i): i is Copy => i instanceof Copy).map((i) => [i.getFlags().find((f) => f.getName() === "from")?.getValue(), text(i)]);
        expect(copies).toContainEqual(["build", "/src /app"]);
        expect(path.relative(REPO_ROOT, DEFAULT_OUT_DIR)).toBe(path.join("dist", "dashboard"));
    });

    it("keeps a developer's dist/ out of the build context, so the image's bundle is always the one it built", () => {
        const ignored = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8").split("\n").map((line) => line.trim());
        expect(ignored).toContain("dist");
    });
});
