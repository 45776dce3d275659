import * as fc from "fast-check";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "../../../stacks/automation/duration";
import { parseDurationInput } from "../../../stacks/automation/validation";

describe("TTL and duration parsing", () => {
    it.each([
        ["0", 0],
        ["30s", 30_000],
        ["30m", 1_800_000],
        ["72h", 259_200_000],
        ["7d", 604_800_000],
        ["2w", 1_209_600_000],
        ["1h30m", 5_400_000],
        [" 1d12h ", 129_600_000],
    ])("parses %j", (text, ms) => {
        expect(parseDuration(text)).toBe(ms);
    });

    it.each(["", "72", "-1h", "1.5h", "h", "1y", "3 h", "1h 30m", "abc", "0h0", "400d", "9999999h"])("refuses %j", (text) => {
        expect(parseDuration(text)).toBeUndefined();
    });

    it("accepts a whole number of milliseconds from library callers and names the field on errors", () => {
        expect(parseDurationInput(60_000, "ttl")).toBe(60_000);
        expect(() => parseDurationInput(-1, "ttl")).toThrow('ttl: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0, got -1');
        expect(() => parseDurationInput("72", "--ttl")).toThrow('--ttl: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0, got "72"');
    });

    it("formats durations so that they parse back to the same whole seconds", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: MAX_DURATION_MS / 1000 }), (seconds) => {
                expect(parseDuration(formatDuration(seconds * 1000))).toBe(seconds * 1000);
            }),
        );
        expect(formatDuration(0)).toBe("0s");
        expect(formatDuration(450)).toBe("0.5s");
        expect(formatDuration(3_723_000)).toBe("1h2m3s");
    });
});
