import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "fs";
import { hostname } from "os";
import * as path from "path";

/**
 * One operation per stack at a time, and a limit on operations overall.
 *
 * The choice (documented in docs/cli.md): a second caller for a stack that is busy **waits in a
 * FIFO queue** for at most its lock timeout, then gets a `busy` result (CLI exit code 3). A lock
 * timeout of 0 means "do not wait". Three layers enforce it:
 * - {@link KeyedLock}: callers in this process, in arrival order;
 * - {@link FileLock}: processes on this machine (a lock file per stack next to the work dirs);
 * - the backend's own update lock, for machines sharing a backend (see recovery.ts).
 * {@link Semaphore} bounds how many stack operations run at once in this process.
 */

/** Thrown when a lock was not obtained within the caller's timeout. */
export class LockTimeoutError extends Error {
    constructor(public readonly key: string, public readonly waitedMs: number, public readonly holder?: string) {
        super(`${key} is busy${holder ? ` (${holder})` : ""}; waited ${Math.round(waitedMs / 1000)}s`);
        this.name = "LockTimeoutError";
    }
}

/** Gives a held lock back; calling it twice is harmless. */
export type Release = () => void;

interface Waiter {
    grant: (release: Release) => void;
    timer?: NodeJS.Timeout;
}

/** An in-process lock per key (a stack name) with a FIFO queue of waiters and a timeout each. */
export class KeyedLock {
    private readonly queues = new Map<string, Waiter[]>();

    /**
     * Resolves with a release function once the caller holds `key`; rejects with
     * {@link LockTimeoutError} after `timeoutMs` (at once when 0 and the key is held).
     * `onWait` is called once when the caller has to queue.
     */
    acquire(key: string, timeoutMs: number, onWait?: (position: number) => void): Promise<Release> {
        const queue = this.queues.get(key);
        if (queue === undefined) {
            this.queues.set(key, []);
            return Promise.resolve(this.releaser(key));
        }
        if (timeoutMs <= 0) {
            return Promise.reject(new LockTimeoutError(key, 0, "another operation in this process"));
        }
        onWait?.(queue.length + 1);
        return new Promise((resolve, reject) => {
            const waiter: Waiter = { grant: resolve };
            waiter.timer = setTimeout(() => {
                const index = queue.indexOf(waiter);
                if (index >= 0) {
                    queue.splice(index, 1);
                }
                reject(new LockTimeoutError(key, timeoutMs, "another operation in this process"));
            }, timeoutMs);
            queue.push(waiter);
        });
    }

    /** Number of callers queued behind the holder of `key`. */
    waiting(key: string): number {
        return this.queues.get(key)?.length ?? 0;
    }

    private releaser(key: string): Release {
        let released = false;
        return () => {
            if (released) {
                return;
            }
            released = true;
            const queue = this.queues.get(key);
            const next = queue?.shift();
            if (next === undefined) {
                this.queues.delete(key);
                return;
            }
            clearTimeout(next.timer);
            next.grant(this.releaser(key));
        };
    }
}

/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in FIFO order, each until
 * its own deadline.
 */
export class Semaphore {
    private active = 0;
    private readonly waiters: Waiter[] = [];

    constructor(public readonly limit: number) {
        if (!Number.isInteger(limit) || limit < 1) {
            throw new RangeError(`concurrency limit must be a whole number >= 1, got ${limit}`);
        }
    }

    /**
     * Resolves with a release function once a slot is free; rejects with {@link LockTimeoutError}
     * when none came free within `timeoutMs` (at once when 0).
     */
    acquire(timeoutMs: number): Promise<Release> {
        if (this.active < this.limit) {
            this.active++;
            return Promise.resolve(this.releaser());
        }
        const busy = () => new LockTimeoutError("an operation slot", timeoutMs, `all ${this.limit} slots in use`);
        if (timeoutMs <= 0) {
            return Promise.reject(busy());
        }
        return new Promise((resolve, reject) => {
            const waiter: Waiter = { grant: resolve };
            waiter.timer = setTimeout(() => {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                reject(busy());
            }, timeoutMs);
            this.waiters.push(waiter);
        });
    }

    /** Slots in use. */
    get inUse(): number {
        return this.active;
    }

    /** Callers waiting for a slot. */
    get queued(): number {
        return this.waiters.length;
    }

    private releaser(): Release {
        let released = false;
        return () => {
            if (released) {
                return;
            }
            released = true;
            const next = this.waiters.shift();
            if (next) {
                clearTimeout(next.timer);
                next.grant(this.releaser());
            } else {
                this.active--;
            }
        };
    }
}

/** What a lock file says about its holder. */
export interface LockHolder {
    pid: number;
    hostname: string;
    /** Start time of the process (Linux clock ticks since boot), against pid reuse. */
    startTime?: string;
    acquiredAt: string;
    action?: string;
}

/** The start time of process `pid` from /proc (Linux), or undefined elsewhere or when gone. */
export function processStartTime(pid: number): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        // Field 22; the command name (field 2) may hold spaces, so count from its closing paren.
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
}

/** The state letter of process `pid` from /proc (`R`, `S`, `Z` for a zombie, ...), if known. */
function processState(pid: number): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    } catch {
        return undefined;
    }
}

/**
 * True when process `pid` on this machine is alive (and, when known, is the same process). A
 * zombie counts as gone: a killed `pulumi` whose parent died stays a zombie until something
 * reaps it, which in a container may be never.
 */
export function processAlive(pid: number, startTime?: string): boolean {
    try {
        process.kill(pid, 0);
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
    if (processState(pid) === "Z") {
        return false;
    }
    const now = processStartTime(pid);
    return startTime === undefined || now === undefined || now === startTime;
}

/** True when a lock holder is a dead process on this machine: its lock may be taken over. */
export function isStale(holder: LockHolder, host = hostname()): boolean {
    return holder.hostname === host && !processAlive(holder.pid, holder.startTime);
}

/**
 * A lock file shared by the processes of one machine (`<dir>/<key>.lock`, created exclusively).
 * A lock left by a dead process is taken over; a live holder is waited for, polling, until the
 * timeout.
 */
export class FileLock {
    constructor(private readonly dir: string, private readonly pollMs = 200) {}

    /** The lock file of `key`. */
    file(key: string): string {
        return path.join(this.dir, `${key}.lock`);
    }

    /** Reads the current holder of `key`, if any. */
    holder(key: string): LockHolder | undefined {
        try {
            return JSON.parse(readFileSync(this.file(key), "utf8")) as LockHolder;
        } catch {
            return undefined;
        }
    }

    /** Takes the lock of `key` within `timeoutMs`, or throws {@link LockTimeoutError}. */
    async acquire(key: string, timeoutMs: number, action?: string, onWait?: (holder: LockHolder) => void): Promise<Release> {
        mkdirSync(this.dir, { recursive: true });
        const started = Date.now();
        let told = false;
        for (;;) {
            const release = this.tryAcquire(key, action);
            if (release) {
                return release;
            }
            const holder = this.holder(key);
            if (holder && isStale(holder)) {
                this.takeOverStale(key, holder);
                continue;
            }
            const waited = Date.now() - started;
            if (waited >= timeoutMs) {
                throw new LockTimeoutError(key, waited, holder ? describeHolder(holder) : undefined);
            }
            if (holder && !told) {
                told = true;
                onWait?.(holder);
            }
            await new Promise((resolve) => setTimeout(resolve, Math.min(this.pollMs, timeoutMs - waited)));
        }
    }

    private tryAcquire(key: string, action?: string): Release | undefined {
        const file = this.file(key);
        let fd: number;
        try {
            fd = openSync(file, "wx");
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "EEXIST") {
                return undefined;
            }
            throw err;
        }
        const mine: LockHolder = {
            pid: process.pid,
            hostname: hostname(),
            startTime: processStartTime(process.pid),
            acquiredAt: new Date().toISOString(),
            action,
        };
        try {
            writeSync(fd, JSON.stringify(mine));
        } finally {
            closeSync(fd);
        }
        let released = false;
        return () => {
            if (released) {
                return;
            }
            released = true;
            const current = this.holder(key);
            if (current?.pid === mine.pid && current.acquiredAt === mine.acquiredAt) {
                unlinkSync(file);
            }
        };
    }

    /**
     * Removes a dead holder's lock. It is renamed away first: if another process replaced it in
     * the meantime with a live lock, that lock is put back.
     */
    private takeOverStale(key: string, stale: LockHolder): void {
        const file = this.file(key);
        const aside = `${file}.${process.pid}.${Date.now()}.stale`;
        try {
            renameSync(file, aside);
        } catch {
            return;
        }
        let moved: LockHolder | undefined;
        try {
            moved = JSON.parse(readFileSync(aside, "utf8")) as LockHolder;
        } catch {
            moved = undefined;
        }
        if (moved && (moved.pid !== stale.pid || moved.acquiredAt !== stale.acquiredAt) && !existsSync(file)) {
            try {
                linkSync(aside, file);
            } catch {
                // Someone took the lock meanwhile; the displaced holder was live and keeps running.
            }
        }
        unlinkSync(aside);
    }
}

/** A short description of a lock holder for messages. */
export function describeHolder(holder: LockHolder): string {
    return `${holder.action ?? "an operation"} by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}`;
}
