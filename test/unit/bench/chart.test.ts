import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import path from "path";
import { chartSpec, concurrencyPoints, floorLines, operationBars, SERIES } from "../../../bench/chart-spec";
import { benchFixture } from "./fixture";

describe("the bench chart's spec", () => {
    it("has a title naming the run, and axes titled with their units", () => {
        const spec = chartSpec(benchFixture()) as unknown as Record<string, unknown>;
        const json = JSON.stringify(spec);
        expect(spec.title).toMatchObject({ text: expect.stringContaining("against the floors"), subtitle: expect.stringContaining("2026-12-07T04:00:00.000Z, 2 cores") });
        expect(json).toContain("\"title\":\"wall time, seconds (median)\"");
        expect(json).toContain("\"title\":\"previews at once (N, log2 scale)\"");
    });

    it("gives every series one colour and one legend entry, catalyst and the floors alike in both panels", () => {
        const json = JSON.stringify(chartSpec(benchFixture()));
        const domain = JSON.parse(/"domain":(\[[^\]]*"catalyst[^\]]*\])/.exec(json)?.[1] ?? "[]") as string[];
        expect(domain).toEqual(Object.values(SERIES));
        expect(json).toContain("\"resolve\":{\"scale\":{\"color\":\"shared\"}}");
    });

    it("draws each operation's median in seconds with one decimal, and leaves out what a floor does not measure", () => {
        const bars = operationBars(benchFixture());
        expect(bars).toContainEqual({ operation: "new preview up", series: SERIES.catalyst, seconds: 10.3 });
        expect(bars).toContainEqual({ operation: "new preview up", series: SERIES.pulumiFloor, seconds: 3.7 });
        expect(bars).toContainEqual({ operation: "preview down", series: SERIES.kubectlFloor, seconds: 5 });
        expect(bars.filter((b) => b.operation === "update (image)").map((b) => b.series)).toEqual([SERIES.catalyst]);
        expect(bars.filter((b) => b.operation === "no-op up").map((b) => b.series)).toEqual([SERIES.catalyst, SERIES.pulumiFloor]);
    });

    it("labels the floors' lines with their values, and skips a floor an older run did not measure", () => {
        expect(floorLines(benchFixture()).map((l) => l.label)).toEqual([
            "catalyst, one preview up: 10.3 s", "Pulumi floor, pulumi up: 3.7 s", "kubectl floor, apply + wait: 0.7 s",
        ]);
        const older = { ...benchFixture(), pulumiFloor: undefined } as unknown as ReturnType<typeof benchFixture>;
        expect(floorLines(older).map((l) => l.series)).toEqual([SERIES.catalyst, SERIES.kubectlFloor]);
        expect(operationBars(older).some((b) => b.series === SERIES.pulumiFloor)).toBe(false);
    });

    it("has two points per N, and ticks at exactly the N measured", () => {
        const results = benchFixture([1, 4]);
        expect(concurrencyPoints(results)).toEqual([
            { n: 1, series: SERIES.total, seconds: 5.2 }, { n: 1, series: SERIES.perPreview, seconds: 3.5 },
            { n: 4, series: SERIES.total, seconds: 20.8 }, { n: 4, series: SERIES.perPreview, seconds: 13.8 },
        ]);
        expect(JSON.stringify(chartSpec(results))).toContain("\"axis\":{\"values\":[1,4],\"format\":\"d\"}");
    });
});

describe("bench/chart.ts, run alone", () => {
    it("renders a results file to a PNG with vega and resvg", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "chart-"));
        try {
            const input = path.join(dir, "bench-x.json");
            writeFileSync(input, JSON.stringify(benchFixture()));
            const root = path.resolve(__dirname, "../../..");
            execFileSync(process.execPath, ["--require", path.join(root, "tools/register.js"), path.join(root, "bench/chart.ts"), input], { cwd: root });
            const png = readFileSync(path.join(dir, "bench-x.png"));
            expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
            // Width and height from the IHDR chunk: both panels and the legend, drawn at twice the size.
            expect(png.readUInt32BE(16)).toBeGreaterThan(1800);
            expect(png.readUInt32BE(20)).toBeGreaterThan(800);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }, 60_000);
});
