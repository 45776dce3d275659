import { existsSync, readFileSync, writeFileSync } from "fs";
import type * as VegaLite from "vega-lite/build/index";
import type * as Vega from "vega";
import type * as ResvgJs from "@resvg/resvg-js";
import { chartSpec } from "./chart-spec";
import type { BenchResults } from "./run";

/**
 * Renders the bench chart (bench/chart-spec.ts): Vega-Lite compiles the spec to Vega, Vega draws
 * it as SVG without a canvas (`renderer: "none"` and `toSVG()`), and resvg turns the SVG into a
 * PNG. Well-kept libraries instead of the hand-written PNG encoder this replaces: axes, legend,
 * titles and text come with them. resvg ships as a prebuilt binary in an npm optional package, so
 * it installs offline from the registry, where node-canvas would download from GitHub.
 *
 * Run alone, it redraws the chart of an earlier run: `node --require ./tools/register.js
 * bench/chart.ts results/bench-<time>.json` writes results/bench-<time>.png.
 */

/** The font the chart names; fonts-dejavu-core (tools/bench.sh installs it when missing). */
export const FONT_DIR = "/usr/share/fonts/truetype/dejavu";

// vega and vega-lite are ES modules, and vega-lite uses top-level await, so require() cannot load
// it: a real import(), which TypeScript's CommonJS output would turn into require() if it saw it.
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;
const load = async () => ({
    vegaLite: (await importModule("vega-lite")) as typeof VegaLite,
    vega: (await importModule("vega")) as typeof Vega,
    resvg: (await importModule("@resvg/resvg-js")) as typeof ResvgJs,
});

/** The chart of one run as SVG text. */
export async function renderSvg(r: BenchResults): Promise<string> {
    const { vegaLite, vega } = await load();
    const compiled = vegaLite.compile(chartSpec(r)).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: "none" });
    try {
        return await view.toSVG();
    } finally {
        view.finalize();
    }
}

/** The chart of one run as PNG, at twice the SVG's size so that its text stays sharp. */
export async function renderChart(r: BenchResults): Promise<Buffer> {
    const svg = await renderSvg(r);
    const { resvg } = await load();
    const fontFiles = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => `${FONT_DIR}/${f}`).filter((f) => existsSync(f));
    if (fontFiles.length === 0) {
        throw new Error(`no DejaVu fonts in ${FONT_DIR}: the chart's text would not render (apt-get install fonts-dejavu-core)`);
    }
    const png = new resvg.Resvg(svg, {
        background: "white",
        fitTo: { mode: "zoom", value: 2 },
        font: { loadSystemFonts: false, fontFiles, defaultFontFamily: "DejaVu Sans" },
    }).render();
    return png.asPng();
}

if (require.main === module) {
    const input = process.argv[2];
    if (input === undefined || !input.endsWith(".json")) {
        process.stderr.write("usage: node --require ./tools/register.js bench/chart.ts results/bench-<time>.json\n");
        process.exit(2);
    }
    const output = input.replace(/\.json$/, ".png");
    renderChart(JSON.parse(readFileSync(input, "utf8")) as BenchResults)
        .then((png) => {
            writeFileSync(output, png);
            process.stdout.write(`${output}\n`);
        })
        .catch((err: unknown) => {
            process.stderr.write(`chart: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
        });
}
