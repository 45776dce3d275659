import { ProviderStore } from "../../../stacks/oidc/store";

describe("the provider's shared store", () => {
    let now = 1_000_000;
    const store = new ProviderStore(() => now);
    afterAll(() => store.close());
    type Adapter = { upsert(id: string, p: object, e?: number): Promise<void>; find(id: string): Promise<Record<string, unknown> | undefined>; findByUid(u: string): Promise<unknown>; findByUserCode(c: string): Promise<unknown>; consume(id: string): Promise<void>; destroy(id: string): Promise<void>; revokeByGrantId(g: string): Promise<void> };
    const Adapter = store.adapter() as unknown as new (model: string) => Adapter;

    it("is shared by every adapter instance (a provider rebuilt after a key rotation finds earlier sign-ins)", async () => {
        await new Adapter("RefreshToken").upsert("rt1", { grantId: "g1", accountId: "local:alice" }, 60);
        expect(await new Adapter("RefreshToken").find("rt1")).toMatchObject({ accountId: "local:alice" });
        expect(await new Adapter("AccessToken").find("rt1")).toBeUndefined();
    });

    it("expires entries with the lifetime they were given", async () => {
        const tokens = new Adapter("AuthorizationCode");
        await tokens.upsert("c1", { grantId: "g2" }, 10);
        now += 9_999;
        expect(await tokens.find("c1")).toBeDefined();
        now += 1;
        expect(await tokens.find("c1")).toBeUndefined();
    });

    it("finds sessions by uid and device codes by user code, marks consumption, and revokes a whole grant", async () => {
        await new Adapter("Session").upsert("s1", { uid: "u1", accountId: "local:bob" });
        expect(await new Adapter("Session").findByUid("u1")).toMatchObject({ accountId: "local:bob" });
        await new Adapter("DeviceCode").upsert("d1", { userCode: "ABCD-EFGH", grantId: "g3" }, 600);
        expect(await new Adapter("DeviceCode").findByUserCode("ABCD-EFGH")).toMatchObject({ grantId: "g3" });
        const refresh = new Adapter("RefreshToken");
        await refresh.upsert("rt3", { grantId: "g3" }, 600);
        await refresh.consume("rt3");
        expect((await refresh.find("rt3"))?.consumed).toBe(Math.floor(now / 1000));
        await refresh.revokeByGrantId("g3");
        expect(await refresh.find("rt3")).toBeUndefined();
        expect(await new Adapter("DeviceCode").findByUserCode("ABCD-EFGH")).toBeUndefined();
        await new Adapter("Session").destroy("s1");
        expect(await new Adapter("Session").findByUid("u1")).toBeUndefined();
    });
});
