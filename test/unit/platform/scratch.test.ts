import * as pulumi from "@pulumi/pulumi";
describe("scratch", () => {
    it("transforms on remote component under mocks", async () => {
        const seen: string[] = [];
        pulumi.runtime.setMocks({
            newResource: (a) => { seen.push(a.type + " " + a.name); return { id: a.name + "-id", state: a.inputs }; },
            call: () => { throw new Error("x"); },
        }, "proj", "stack", false);
        const k8s = await import("@pulumi/kubernetes");
        const c = new k8s.helm.v4.Chart("c", { chart: "/tmp/x.tgz" }, { transforms: [async (args) => ({ props: args.props, opts: args.opts })] });
        await new Promise<void>((r) => c.urn.apply(() => r()));
        expect(seen).toContain("kubernetes:helm.sh/v4:Chart c");
    });
});
