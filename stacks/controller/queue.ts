/**
 * The controller's work queue: keys (`namespace/name`) due at a time, each at most once (a key
 * added while queued keeps the earlier due time), never handed out twice at once (a key added
 * while it is being worked on runs again after). The shape of client-go's delaying workqueue,
 * without its rate limiter: the reconciler says how long to wait.
 */
export class WorkQueue {
    private readonly due = new Map<string, number>();
    private readonly active = new Set<string>();
    /** Keys added while active: run again once done. */
    private readonly dirty = new Map<string, number>();
    private wake?: () => void;
    private timer?: NodeJS.Timeout;

    constructor(private readonly now: () => number = Date.now) {}

    /** Queues `key` to run after `delayMs` (0: now); an earlier due time wins. */
    add(key: string, delayMs = 0): void {
        const at = this.now() + Math.max(0, delayMs);
        const target = this.active.has(key) ? this.dirty : this.due;
        const existing = target.get(key);
        if (existing === undefined || at < existing) target.set(key, at);
        this.notify();
    }

    /** Keys waiting (due or not). */
    get depth(): number {
        return this.due.size;
    }

    /** Keys being worked on. */
    get inFlight(): number {
        return this.active.size;
    }

    /** Takes the earliest due key, or undefined when none is due now. */
    take(): string | undefined {
        const now = this.now();
        let best: string | undefined;
        let bestAt = Infinity;
        for (const [key, at] of this.due) {
            if (at <= now && at < bestAt) {
                best = key;
                bestAt = at;
            }
        }
        if (best === undefined) return undefined;
        this.due.delete(best);
        this.active.add(best);
        return best;
    }

    /** Marks `key` done; a re-add that came meanwhile is queued now. */
    done(key: string): void {
        this.active.delete(key);
        const again = this.dirty.get(key);
        if (again !== undefined) {
            this.dirty.delete(key);
            const existing = this.due.get(key);
            if (existing === undefined || again < existing) this.due.set(key, again);
        }
        this.notify();
    }

    /** Resolves when a key may be due: on an add or done, or when the next due time comes. */
    waitForWork(maxMs: number): Promise<void> {
        const now = this.now();
        const next = Math.min(...this.due.values(), now + maxMs);
        return new Promise((resolve) => {
            this.wake = resolve;
            this.timer = setTimeout(resolve, Math.max(0, next - now));
        });
    }

    private notify(): void {
        const wake = this.wake;
        this.wake = undefined;
        if (this.timer !== undefined) clearTimeout(this.timer);
        wake?.();
    }
}
