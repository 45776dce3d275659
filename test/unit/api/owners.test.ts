import type * as pulumi from "@pulumi/pulumi";
import { CatalystService } from "../../../stacks/api/service";
import { installMocks, runEnvironmentProgram, valueOf } from "../environment/mocks";
import { FakeLibrary, fakeCluster } from "./fakes";

/*
 * Issue 12, defect 3.3: the API's owners come from what the real environment program exports,
 * not from an output a fake invents. The program runs here under Pulumi's mocks and its outputs
 * are what the library's getEnvironment hands the API.
 */

beforeAll(() => installMocks());

async function realOutputs(stack: string, config: Record<string, unknown>): Promise<Record<string, unknown>> {
    const outputs = await runEnvironmentProgram(stack, config);
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(outputs)) values[key] = await valueOf(value as pulumi.Input<unknown>);
    return values;
}

describe("owners from the environment program's outputs (issue 12, 3.3)", () => {
    it("a second owner named at create reads logs; a stranger is refused", async () => {
        const outputs = await realOutputs("pr-5", { branch: "feat/owners", image: "ghcr.io/acme/web:1.0.0", access: { owners: { users: ["alice", "bob"] } } });
        const library = new FakeLibrary();
        library.stacks.set("pr-5", { stack: "pr-5", kind: "preview", owner: "alice", namespace: "env-pr-5", outputs, pendingOperations: 0 });
        const service = new CatalystService(library, undefined, fakeCluster());
        await expect(service.logs("bob", { environment: "pr-5", pod: "app-1" })).resolves.toMatchObject({ text: "hello\n" });
        await expect(service.logs("carol", { environment: "pr-5", pod: "app-1" })).rejects.toThrow("carol does not own pr-5");
    });
});
