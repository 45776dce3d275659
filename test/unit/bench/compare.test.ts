import { benchRows, profileRows, renderCompare } from "../../../bench/compare";
import type { OperationProfile } from "../../../bench/profile";
import { benchFixture } from "./fixture";

const profile = (totalMs: number, cpuMs: number, commands: string[]): OperationProfile => ({
    label: "no-op up", totalMs, cpuMs, treeBytes: 1000 * 2 ** 20, steps: [], resources: [],
    cli: commands.map((command, i) => ({ command, startMs: i * 1000, endMs: i * 1000 + 250, exitCode: 0 })),
});

describe("bench/compare.ts", () => {
    it("puts each operation's wall, CPU, RSS and pulumi processes side by side with after / before", () => {
        const rows = profileRows([profile(9000, 11_000, ["stack tag set", "up", "stack output", "stack output", "stack history"])], [profile(6000, 7000, ["stack tag set", "up"])]);
        const table = renderCompare("t", rows);
        expect(table).toContain("| no-op up: wall | 9.00 s | 6.00 s | 0.67 |");
        expect(table).toContain("| no-op up: CPU of the tree | 11.00 s | 7.00 s | 0.64 |");
        expect(table).toContain("| no-op up: `pulumi` processes | 5 | 2 | 0.40 |");
        expect(table).toContain("| no-op up: their time outside the up/destroy, summed | 1.00 s | 0.25 s | 0.25 |");
    });

    it("writes - where one side did not measure something (an older bench without CPU)", () => {
        const older = { ...profile(9000, 0, ["up"]), cpuMs: undefined };
        expect(renderCompare("t", profileRows([older], [profile(6000, 7000, ["up"])]))).toContain("| no-op up: CPU of the tree | - | 7.00 s | - |");
    });

    it("compares the bench's medians and N at once", () => {
        const after = benchFixture([1]);
        after.catalyst.noopUp = { ...after.catalyst.noopUp, median: 4550 };
        const rows = benchRows(benchFixture([1]), after);
        expect(renderCompare("t", rows)).toContain("| bench no-op up: wall (median) | 9.10 s | 4.55 s | 0.50 |");
        expect(rows.find((r) => r.measure === "bench N=1 at once: total")).toMatchObject({ before: 5.1875, after: 5.1875 });
    });
});
