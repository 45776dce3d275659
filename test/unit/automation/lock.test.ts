import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { hostname, tmpdir } from "os";
import * as path from "path";
import { FileLock, KeyedLock, LockTimeoutError, Semaphore } from "../../../stacks/automation/lock";

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** The pid of a process that has exited. */
function deadPid(): number {
    return spawnSync(process.execPath, ["-e", ""]).pid as number;
}

describe("KeyedLock (one operation per stack in a process)", () => {
    it("queues a second caller for the same stack and serves callers in arrival order", async () => {
        const lock = new KeyedLock();
        const order: string[] = [];
        const first = await lock.acquire("pr-1", 1000);
        const waits: number[] = [];
        const second = lock.acquire("pr-1", 1000, (position) => waits.push(position)).then((release) => {
            order.push("second");
            return release;
        });
        const third = lock.acquire("pr-1", 1000, (position) => waits.push(position)).then((release) => {
            order.push("third");
            return release;
        });
        await tick();
        expect(order).toEqual([]);
        expect(lock.waiting("pr-1")).toBe(2);
        expect(waits).toEqual([1, 2]);
        first();
        (await second)();
        (await third)();
        expect(order).toEqual(["second", "third"]);
        // Free again: a caller that does not wait gets it at once.
        (await lock.acquire("pr-1", 0))();
    });

    it("does not make different stacks wait for each other", async () => {
        const lock = new KeyedLock();
        const a = await lock.acquire("pr-1", 0);
        const b = await lock.acquire("pr-2", 0);
        a();
        b();
    });

    it("answers busy at once with a timeout of 0, and after the timeout otherwise", async () => {
        const lock = new KeyedLock();
        const held = await lock.acquire("pr-1", 0);
        await expect(lock.acquire("pr-1", 0)).rejects.toBeInstanceOf(LockTimeoutError);
        const started = Date.now();
        await expect(lock.acquire("pr-1", 50)).rejects.toThrow("pr-1 is busy (another operation in this process)");
        expect(Date.now() - started).toBeGreaterThanOrEqual(45);
        expect(lock.waiting("pr-1")).toBe(0);
        held();
        held(); // releasing twice is harmless
        (await lock.acquire("pr-1", 0))();
    });
});

describe("Semaphore (global concurrency limit)", () => {
    it("never lets more than the limit run at once", async () => {
        const slots = new Semaphore(2);
        let running = 0;
        let peak = 0;
        await Promise.all(Array.from({ length: 7 }, async () => {
            const release = await slots.acquire(60_000);
            running++;
            peak = Math.max(peak, running);
            await new Promise((resolve) => setTimeout(resolve, 5));
            running--;
            release();
        }));
        expect(peak).toBe(2);
        expect(slots.inUse).toBe(0);
    });

    it("refuses a limit below 1", () => {
        expect(() => new Semaphore(0)).toThrow("concurrency limit must be a whole number >= 1, got 0");
    });

    it("gives up waiting for a slot at the caller's deadline (defect 3.5)", async () => {
        const slots = new Semaphore(1);
        const release = await slots.acquire(1000);
        const waited = slots.acquire(30).then(() => "granted", (err: Error) => err);
        const outcome = await Promise.race([waited, new Promise((resolve) => setTimeout(() => resolve("still waiting"), 2000))]);
        expect(outcome).toBeInstanceOf(LockTimeoutError);
        expect((outcome as Error).message).toBe("an operation slot is busy (all 1 slots in use); waited 0s");
        expect(slots.queued).toBe(0);
        release();
        expect(slots.inUse).toBe(0);
    });
});

describe("FileLock (one operation per stack on a machine)", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-lock-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("lets one holder in, makes the next wait until release, and removes the file on release", async () => {
        const lock = new FileLock(dir, 10);
        const release = await lock.acquire("pr-1", 0, "up");
        expect(lock.holder("pr-1")).toMatchObject({ pid: process.pid, hostname: hostname(), action: "up" });
        const other = new FileLock(dir, 10);
        let waitedFor;
        const second = other.acquire("pr-1", 2000, "destroy", (holder) => (waitedFor = holder));
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(waitedFor).toMatchObject({ pid: process.pid, action: "up" });
        release();
        const releaseSecond = await second;
        expect(lock.holder("pr-1")?.action).toBe("destroy");
        releaseSecond();
        expect(lock.holder("pr-1")).toBeUndefined();
    });

    it("times out with the holder named", async () => {
        const lock = new FileLock(dir, 10);
        const release = await lock.acquire("pr-1", 0, "up");
        await expect(lock.acquire("pr-1", 30, "up")).rejects.toThrow(new RegExp(`^pr-1 is busy \\(up by pid ${process.pid} on `));
        release();
    });

    it("takes over the lock of a process that is gone", async () => {
        const lock = new FileLock(dir, 10);
        writeFileSync(lock.file("pr-1"), JSON.stringify({ pid: deadPid(), hostname: hostname(), acquiredAt: new Date().toISOString(), action: "up" }));
        const release = await lock.acquire("pr-1", 0, "up");
        expect(JSON.parse(readFileSync(lock.file("pr-1"), "utf8")).pid).toBe(process.pid);
        release();
    });

    it("never takes over a lock of another machine", async () => {
        const lock = new FileLock(dir, 10);
        writeFileSync(lock.file("pr-1"), JSON.stringify({ pid: deadPid(), hostname: "elsewhere", acquiredAt: new Date().toISOString() }));
        await expect(lock.acquire("pr-1", 30)).rejects.toBeInstanceOf(LockTimeoutError);
    });
});
