import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/**
 * The sign-in rate limit: failed `POST /session` attempts per client address, at most
 * {@link SIGN_IN_FAILURES} in {@link SIGN_IN_WINDOW_SECONDS}; past that every attempt from that
 * address is refused (429 with Retry-After) until the window ends, so tokens cannot be guessed
 * at speed. rate-limiter-flexible (ISC, no dependencies, maintained since 2018) keeps the
 * counters: its memory store expires them by itself, and its Redis or Postgres stores would share
 * them between replicas with the same calls. Here each process counts its own (docs/dashboard.md).
 */

/** Failures allowed per address in a window. */
export const SIGN_IN_FAILURES = 10;

/** The window, in seconds (from an address's first failure). */
export const SIGN_IN_WINDOW_SECONDS = 5 * 60;

/** Counts failed sign-ins per client address. */
export class SignInLimiter {
    private readonly limiter: RateLimiterMemory;

    constructor(failures = SIGN_IN_FAILURES, windowSeconds = SIGN_IN_WINDOW_SECONDS) {
        this.limiter = new RateLimiterMemory({ points: failures, duration: windowSeconds, keyPrefix: "sign-in" });
    }

    /** Seconds until `address` may try again, or undefined when it may try now. */
    async blockedFor(address: string): Promise<number | undefined> {
        const state = await this.limiter.get(address);
        if (state === null || state.remainingPoints > 0) return undefined;
        return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
    }

    /** Records a failed attempt of `address`. */
    async failed(address: string): Promise<void> {
        try {
            await this.limiter.consume(address);
        } catch (err) {
            // Past the limit the library rejects with its state; the next attempt is refused by blockedFor.
            if (!(err instanceof RateLimiterRes)) throw err;
        }
    }
}
