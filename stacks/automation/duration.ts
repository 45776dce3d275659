/**
 * Durations as people write them on a command line (`30m`, `72h`, `7d`, `1h30m`): TTLs of
 * previews, operation timeouts and lock waits. Pure functions.
 */

const UNIT_MS: Record<string, number> = {
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
    w: 604_800_000,
};

/** The longest duration accepted anywhere (a year): anything longer is a typo. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;

/** What a duration may look like, for error messages. */
export const DURATION_HELP = "a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w), or 0";

/**
 * Parses `text` into milliseconds: one or more `<whole number><unit>` parts with units s, m, h,
 * d or w, or `0` alone. Returns undefined for anything else (a bare number other than 0, a
 * negative or fractional value, an unknown unit, or more than {@link MAX_DURATION_MS}).
 */
export function parseDuration(text: string): number | undefined {
    const value = text.trim();
    if (value === "0") {
        return 0;
    }
    if (!/^([0-9]{1,6}[smhdw])+$/.test(value)) {
        return undefined;
    }
    let total = 0;
    for (const [, amount, unit] of value.matchAll(/([0-9]+)([smhdw])/g)) {
        total += Number(amount) * UNIT_MS[unit];
    }
    return total <= MAX_DURATION_MS ? total : undefined;
}

/** Formats milliseconds compactly (`1h30m`, `45s`, `0s`), the inverse of {@link parseDuration}. */
export function formatDuration(ms: number): string {
    if (ms < 1_000) {
        return ms <= 0 ? "0s" : `${(ms / 1_000).toFixed(1)}s`;
    }
    let rest = Math.round(ms / 1_000);
    const parts: string[] = [];
    for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]] as const) {
        if (rest >= size) {
            parts.push(`${Math.floor(rest / size)}${unit}`);
            rest %= size;
        }
    }
    return parts.join("");
}
