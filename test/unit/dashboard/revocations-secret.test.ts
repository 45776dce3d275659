import type { V1Secret } from "@kubernetes/client-node";
import { ClusterError } from "../../../stacks/automation/cluster";
import { SECRET_DATA_LIMIT, SecretAccess, SecretRevocations, SIGNED_OUT_DATA_KEY } from "../../../stacks/dashboard/revocations-secret";

/*
 * Sign-outs in a Kubernetes Secret, against a fake API server that keeps one Secret with a
 * resourceVersion and refuses a stale replace with 409, as the real one does (the integration
 * test test/integration/dashboard-signed-out.test.ts runs the same against kube-apiserver).
 */

/** One Secret, optimistic concurrency, and a hook that runs between a read and the next replace. */
class FakeSecret implements SecretAccess {
    version = 1;
    data: Record<string, string> | undefined;
    labels = { "app.kubernetes.io/part-of": "catalyst-platform" };
    gets = 0;
    replaces = 0;
    conflicts = 0;
    /** Runs once, after the next get: another replica writing in between. */
    interleave: (() => Promise<void>) | undefined;

    async get(): Promise<V1Secret> {
        this.gets++;
        const secret: V1Secret = { metadata: { name: "signed-out", namespace: "ns", resourceVersion: String(this.version), labels: { ...this.labels } }, data: this.data && { ...this.data } };
        const hook = this.interleave;
        this.interleave = undefined;
        if (hook !== undefined) await hook();
        return secret;
    }

    async replace(secret: V1Secret): Promise<V1Secret> {
        this.replaces++;
        if (secret.metadata?.resourceVersion !== String(this.version)) {
            this.conflicts++;
            throw new ClusterError(409, "update Secret ns/signed-out: Operation cannot be fulfilled on secrets \"signed-out\": the object has been modified");
        }
        this.version++;
        this.data = secret.data;
        this.labels = secret.metadata?.labels as typeof this.labels;
        return { ...secret, metadata: { ...secret.metadata, resourceVersion: String(this.version) } };
    }

    entries(): Record<string, number> {
        return JSON.parse(Buffer.from(this.data?.[SIGNED_OUT_DATA_KEY] ?? "e30=", "base64").toString("utf8"));
    }
}

const stores: SecretRevocations[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

async function store(fake: FakeSecret, now: () => number, refreshMs = 60_000, log: string[] = []): Promise<SecretRevocations> {
    const s = await new SecretRevocations("ns", "signed-out", { access: fake, now, refreshMs, log: (line) => log.push(line) }).start();
    stores.push(s);
    return s;
}

describe("sign-outs in a Secret", () => {
    it("starts from the empty Secret the platform creates, and knows its own sign-out at once", async () => {
        const fake = new FakeSecret();
        const a = await store(fake, () => 1000);
        expect(a.has("sid-1")).toBe(false);
        await a.add("sid-1", 2000);
        expect(a.has("sid-1")).toBe(true);
        expect(fake.entries()).toEqual({ "sid-1": 2000 });
        // The creator's metadata is kept: the platform stack sees no drift.
        expect(fake.labels).toEqual({ "app.kubernetes.io/part-of": "catalyst-platform" });
        expect(a.describe()).toBe("Secret ns/signed-out");
    });

    it("another replica learns a sign-out on its next refresh, not before; a request costs no API call", async () => {
        const fake = new FakeSecret();
        const a = await store(fake, () => 1000);
        const b = await store(fake, () => 1000);
        await a.add("sid-1", 2000);
        const gets = fake.gets;
        expect(b.has("sid-1")).toBe(false);
        expect(fake.gets).toBe(gets);
        await b.refresh();
        expect(b.has("sid-1")).toBe(true);
    });

    it("refreshes on its own timer", async () => {
        jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
        try {
            const fake = new FakeSecret();
            const b = await store(fake, () => 1000, 5_000);
            fake.data = { [SIGNED_OUT_DATA_KEY]: Buffer.from('{"sid-9":2000}').toString("base64") };
            await jest.advanceTimersByTimeAsync(4_999);
            expect(b.has("sid-9")).toBe(false);
            await jest.advanceTimersByTimeAsync(1);
            expect(b.has("sid-9")).toBe(true);
        } finally {
            jest.useRealTimers();
        }
    });

    it("retries a write that met another replica's write (409), keeping both sign-outs", async () => {
        const fake = new FakeSecret();
        const a = await store(fake, () => 1000);
        const b = await store(fake, () => 1000);
        fake.interleave = () => b.add("sid-b", 3000);
        await a.add("sid-a", 2000);
        expect(fake.conflicts).toBe(1);
        expect(fake.entries()).toEqual({ "sid-a": 2000, "sid-b": 3000 });
        // What the write read back is known here too.
        expect(a.has("sid-b")).toBe(true);
    });

    it.each([
        [409, 8, "update Secret ns/signed-out: the object has been modified"],
        [403, 1, "update Secret ns/signed-out: forbidden"],
    ])("a write refused with %i is tried %i times (conflicts are retried), then fails with the API server's message", async (status, attempts, message) => {
        const fake = new FakeSecret();
        const a = await store(fake, () => 1000);
        fake.replace = async () => {
            fake.replaces++;
            throw new ClusterError(status, message);
        };
        await expect(a.add("sid-a", 2000)).rejects.toThrow(message);
        expect(fake.replaces).toBe(attempts);
        // Still signed out in this replica.
        expect(a.has("sid-a")).toBe(true);
    });

    it("prunes expired entries on write, and forgets them in memory", async () => {
        const fake = new FakeSecret();
        let now = 1000;
        const a = await store(fake, () => now);
        await a.add("old", 1500);
        await a.add("newer", 4000);
        now = 2000;
        expect(a.has("old")).toBe(false);
        await a.add("latest", 5000);
        expect(fake.entries()).toEqual({ newer: 4000, latest: 5000 });
    });

    it("refuses a write past the 1 MiB a Secret holds, naming the Secret", async () => {
        const fake = new FakeSecret();
        // Just under the limit (36 bytes an entry): one more passes it.
        const full = Object.fromEntries(Array.from({ length: Math.floor(SECRET_DATA_LIMIT / 36) }, (_, i) => [`sid-${String(i).padStart(18, "0")}`, 9_000_000_000]));
        fake.data = { [SIGNED_OUT_DATA_KEY]: Buffer.from(JSON.stringify(full)).toString("base64") };
        const a = await store(fake, () => 1000);
        await expect(a.add("one-more", 2000)).rejects.toThrow(/^Secret ns\/signed-out: full: 29128 sign-outs not yet expired take more than the 1 MiB a Secret holds; this sign-out holds in this replica only until its session expires$/);
        expect(fake.replaces).toBe(0);
        expect(a.has("one-more")).toBe(true);
    });

    it("fails at start on a missing Secret or foreign data, naming it", async () => {
        const missing = new FakeSecret();
        missing.get = async () => {
            throw new ClusterError(404, 'get Secret ns/signed-out: secrets "signed-out" not found');
        };
        await expect(store(missing, () => 1000)).rejects.toThrow('get Secret ns/signed-out: secrets "signed-out" not found');
        const foreign = new FakeSecret();
        foreign.data = { [SIGNED_OUT_DATA_KEY]: Buffer.from("[1,2]").toString("base64") };
        await expect(store(foreign, () => 1000)).rejects.toThrow("Secret ns/signed-out: signed-out.json must map session ids to expiry times (seconds)");
    });

    it("keeps what it knows when a refresh fails, and says so once", async () => {
        const fake = new FakeSecret();
        const log: string[] = [];
        jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
        try {
            const a = await store(fake, () => 1000, 5_000, log);
            await a.add("sid-1", 2000);
            const get = fake.get.bind(fake);
            fake.get = async () => {
                throw new ClusterError(undefined, "get Secret ns/signed-out: no answer from the cluster within 60 s");
            };
            await jest.advanceTimersByTimeAsync(15_000);
            expect(a.has("sid-1")).toBe(true);
            expect(log).toEqual(["catalyst serve: dashboard: cannot read sign-outs: get Secret ns/signed-out: no answer from the cluster within 60 s"]);
            fake.get = get;
            await jest.advanceTimersByTimeAsync(5_000);
            expect(log[1]).toBe("catalyst serve: dashboard: reading sign-outs from Secret ns/signed-out again");
        } finally {
            jest.useRealTimers();
        }
    });
});
