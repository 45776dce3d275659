import { createHash } from "crypto";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { REPO_ROOT } from "../oidc/settings";

/**
 * Bundles the dashboard's browser code (./web: Preact components in TSX, one CSS file) with
 * esbuild into dist/dashboard/: app.js and app.css, nothing else, no source maps. `npm test`,
 * `npm run up` and `npm run build:dashboard` run it; `catalyst serve` runs it when the bundle
 * is missing. The output is gitignored (dist/).
 */

export { REPO_ROOT };

/** Where the bundle goes. */
export const DEFAULT_OUT_DIR = path.join(REPO_ROOT, "dist", "dashboard");

/** The files of a bundle and a content hash (the pages' cache-busting query). */
export interface Bundle {
    js: Buffer;
    css: Buffer;
    hash: string;
}

/** Builds the bundle into `outDir` and returns it. */
export async function buildDashboard(outDir: string = DEFAULT_OUT_DIR): Promise<Bundle> {
    // Loaded on demand: a server whose bundle is built never needs the bundler.
    const esbuild = await import("esbuild");
    const web = path.join(__dirname, "web");
    const result = await esbuild.build({
        entryPoints: { app: path.join(web, "main.tsx") },
        bundle: true,
        minify: true,
        write: false,
        format: "esm",
        target: "es2022",
        jsx: "automatic",
        jsxImportSource: "preact",
        logLevel: "silent",
        outdir: outDir,
        legalComments: "none",
    });
    const css = await esbuild.build({ entryPoints: { app: path.join(web, "style.css") }, bundle: true, minify: true, write: false, outdir: outDir, logLevel: "silent" });
    mkdirSync(outDir, { recursive: true });
    const js = Buffer.from(result.outputFiles.find((f) => f.path.endsWith(".js"))?.contents ?? new Uint8Array());
    const styles = Buffer.from(css.outputFiles.find((f) => f.path.endsWith(".css"))?.contents ?? new Uint8Array());
    writeFileSync(path.join(outDir, "app.js"), js);
    writeFileSync(path.join(outDir, "app.css"), styles);
    return { js, css: styles, hash: hashOf(js, styles) };
}

function hashOf(js: Buffer, css: Buffer): string {
    return createHash("sha256").update(js).update(css).digest("hex").slice(0, 12);
}

/** The built bundle in `outDir`, or undefined when it is not there. */
export function readBundle(outDir: string = DEFAULT_OUT_DIR): Bundle | undefined {
    try {
        const js = readFileSync(path.join(outDir, "app.js"));
        const css = readFileSync(path.join(outDir, "app.css"));
        return { js, css, hash: hashOf(js, css) };
    } catch {
        return undefined;
    }
}

/**
 * The built bundle, building it first when it is missing. When it can be neither read nor built
 * (a read-only /app in the control-plane image, whose Dockerfile builds it; no esbuild), one line
 * naming the directory and the command that builds it, not the bundler's stack.
 */
export async function loadBundle(outDir: string = DEFAULT_OUT_DIR, log: (line: string) => void = () => undefined): Promise<Bundle> {
    const built = readBundle(outDir);
    if (built !== undefined) return built;
    log(`catalyst serve: building the dashboard into ${path.relative(REPO_ROOT, outDir)}`);
    try {
        return await buildDashboard(outDir);
    } catch (err) {
        const cause = ((err as Error)?.message ?? String(err)).split("\n")[0];
        throw new Error(`the dashboard bundle is missing in ${outDir} and cannot be built there (${cause}); build it with \`npm run build:dashboard\` where the code is installed`);
    }
}

if (require.main === module) {
    const started = Date.now();
    buildDashboard().then(
        (bundle) => process.stderr.write(`dashboard: built dist/dashboard (app.js ${bundle.js.length} bytes, app.css ${bundle.css.length} bytes) in ${Date.now() - started} ms\n`),
        (err: Error) => {
            process.stderr.write(`dashboard: build failed: ${err.message}\n`);
            process.exit(1);
        },
    );
}
