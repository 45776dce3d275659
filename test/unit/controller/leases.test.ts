import { LeaseManager, leaseValid } from "../../../stacks/controller/leases";
import { FakeApi } from "./fakes";

describe("per-Environment Leases", () => {
    it("one replica holds a lease; another gets it only after it expires or is released", async () => {
        let now = 1_000_000;
        const api = new FakeApi();
        const a = new LeaseManager(api, { namespace: "ns", identity: "a", durationSeconds: 10, now: () => now });
        const b = new LeaseManager(api, { namespace: "ns", identity: "b", durationSeconds: 10, now: () => now });
        const first = await a.tryAcquire("env-1");
        expect(first.held).toBe(true);
        expect(await b.tryAcquire("env-1")).toEqual({ held: false, holder: "a", retryInMs: 10_000 });
        now += 5_000;
        const renewed = await a.renew(first.held ? first.lease : (undefined as never));
        expect(renewed?.renewTime).toBe(now);
        now += 9_000;
        expect((await b.tryAcquire("env-1")).held).toBe(false);
        now += 2_000;
        const taken = await b.tryAcquire("env-1");
        // a let its lease expire without giving it back: b names it, so that a's backend lock counts as stale.
        expect(taken).toMatchObject({ held: true, takenFrom: "a", lease: { holderIdentity: "b", leaseTransitions: 2 } });
        // a's stale record no longer renews: its resourceVersion is old.
        expect(await a.renew(renewed!)).toBeUndefined();
        await b.release(taken.held ? taken.lease : (undefined as never));
        expect(leaseValid(api.leases.get("env-1")!, now)).toBe(false);
        // A lease given back names nobody; a first lease and one's own neither.
        const again = await a.tryAcquire("env-1");
        expect(again.held && again.takenFrom).toBeUndefined();
        expect(again.held).toBe(true);
        const own = await a.tryAcquire("env-1");
        expect(own.held && own.takenFrom).toBeUndefined();
        const fresh = await a.tryAcquire("env-9");
        expect(fresh.held && fresh.takenFrom).toBeUndefined();
    });

    it("of two replicas racing for a free lease exactly one wins", async () => {
        const api = new FakeApi();
        const managers = ["a", "b", "c"].map((identity) => new LeaseManager(api, { namespace: "ns", identity, durationSeconds: 10 }));
        const results = await Promise.all(managers.map((m) => m.tryAcquire("env-2")));
        expect(results.filter((r) => r.held)).toHaveLength(1);
    });
});
