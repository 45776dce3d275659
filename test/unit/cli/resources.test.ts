import { cliCommands, CliDependencies } from "../../../stacks/cli/commands";
import { EXIT } from "../../../stacks/command";
import { main } from "../../../stacks/main";
import { EnvironmentResources, ResourceError } from "../../../stacks/resources/client";
import { FakeStore } from "../resources/fake-store";

/*
 * `catalyst preview up|down|list` in resource mode, over a fake API server: the command writes
 * the Environment and waits on the status a (played) controller writes; no stack runs here.
 */

let store: FakeStore;
let used: string[];
let env: NodeJS.ProcessEnv;

function deps(): CliDependencies {
    return {
        automation: async () => {
            used.push("automation");
            throw new Error("direct mode must not be used");
        },
        resources: async (namespace) => {
            used.push(`resources ${namespace}`);
            return new EnvironmentResources(store, namespace, { intervalMs: 0 });
        },
        env,
    };
}

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) }, undefined, cliCommands(deps()));
    return { code, stdout, stderr };
}

beforeEach(() => {
    store = new FakeStore();
    used = [];
    env = { CATALYST_CONTROL_PLANE_NAMESPACE: "catalyst-system" };
});

/** Plays the controller: Ready with a URL on the third read. */
function readyOnThirdRead(name: string, namespace = "catalyst-system"): void {
    store.onGet = (_object, n) => {
        if (n === 2) store.setStatus(name, { conditions: [{ type: "Progressing", message: `running up on stack ${name} (generation 1)` }], observed: false }, namespace);
        if (n === 3) store.setStatus(name, { conditions: [{ type: "Ready", message: `stack ${name} is up at https://${name}.preview.example` }], url: `https://${name}.preview.example` }, namespace);
    };
}

describe("catalyst preview in resource mode", () => {
    it("up creates the Environment, prints progress on stderr and the URL on stdout, exits 0", async () => {
        readyOnThirdRead("pr-7");
        const run = await cli("preview", "up", "--pr", "7", "--branch", "feat/x", "--image", "nginx:1.27.4", "--ttl", "72h", "--owners", "alice");
        expect(run.code).toBe(EXIT.ok);
        expect(run.stdout).toBe("pr-7: ready at https://pr-7.preview.example\n");
        expect(run.stderr).toContain("pr-7: Environment catalyst-system/pr-7 at generation 1; waiting for the controller");
        expect(run.stderr).toMatch(/pr-7: progressing: running up on stack pr-7 \(generation 1\)/);
        expect(used).toEqual(["resources catalyst-system"]);
        expect(store.objects.get("catalyst-system/pr-7")?.spec).toEqual({
            project: "default", type: "preview", pullRequest: 7, branch: "feat/x", image: "nginx:1.27.4", ttl: "3d", owners: ["alice"],
        });
    });

    it("--control-plane and --project pick the namespace and the Project; --json prints one object", async () => {
        env = {};
        store.projects.add("other/web");
        readyOnThirdRead("pr-8--web", "other");
        const run = await cli("preview", "up", "--pr", "8", "--branch", "b", "--control-plane", "other", "--project", "web", "--json");
        expect(run.code).toBe(EXIT.ok);
        expect(JSON.parse(run.stdout)).toMatchObject({ environment: "pr-8--web", namespace: "other", status: "succeeded", url: "https://pr-8--web.preview.example", generation: 1, pr: 8 });
        expect(store.objects.get("other/pr-8--web")?.spec.project).toBe("web");
        // The default Project's PR 8 would be another Environment.
        expect(store.objects.has("other/pr-8")).toBe(false);
        expect((await cli("preview", "up", "--pr", "8", "--branch", "b", "--control-plane", "other", "--project", "a--b")).stderr)
            .toContain("--project: must be a project name: lower case letters, digits and single '-', at most 30 characters (no '--'), got \"a--b\"");
    });

    it("up exits 1 with the status message when the controller stalls", async () => {
        store.onGet = (_o, n) => {
            if (n === 2) store.setStatus("pr-9", { conditions: [{ type: "Ready", status: "False", reason: "UpFailed", message: "boom" }, { type: "Stalled", message: "3 failures in a row: boom" }] });
        };
        const run = await cli("preview", "up", "--pr", "9", "--branch", "b");
        expect(run.code).toBe(EXIT.failed);
        expect(run.stderr).toContain("catalyst preview: pr-9: Stalled: 3 failures in a row: boom");
    });

    it("up exits 3 with the last status when no controller answers within --timeout", async () => {
        const run = await cli("preview", "up", "--pr", "10", "--branch", "b", "--timeout", "1s");
        expect(run.code).toBe(EXIT.busy);
        expect(run.stderr).toContain("catalyst preview: pr-10: not done after 1 s; last status: waiting for a controller to pick up generation 1");
    });

    it("up refuses a Project that does not exist before writing anything (exit 2)", async () => {
        const run = await cli("preview", "up", "--pr", "11", "--branch", "b", "--project", "nope");
        expect(run.code).toBe(EXIT.usage);
        expect(run.stderr).toBe('catalyst preview up: --project: project "nope" does not exist in namespace catalyst-system; create it first (docs/controller.md)\n');
        expect(store.objects.size).toBe(0);
    });

    it("a spec the API server refuses (422, naming the field) exits 2; an unreachable one exits 1", async () => {
        store.objects.set("catalyst-system/pr-14", { apiVersion: "catalyst.dev/v1alpha1", kind: "Environment", metadata: { name: "pr-14", namespace: "catalyst-system", generation: 1 }, spec: { project: "web", type: "preview", pullRequest: 14, branch: "b" } });
        store.patch = async () => {
            throw new ResourceError(422, 'patch Environment catalyst-system/pr-14: Environment.catalyst.dev "pr-14" is invalid: spec.project: Invalid value: "string": is immutable');
        };
        const refused = await cli("preview", "up", "--pr", "14", "--branch", "b");
        expect([refused.code, refused.stderr]).toEqual([EXIT.usage, 'catalyst preview up: patch Environment catalyst-system/pr-14: Environment.catalyst.dev "pr-14" is invalid: spec.project: Invalid value: "string": is immutable\n']);
        store.getErrors = [new ResourceError(undefined, "get Environment catalyst-system/pr-14: connect ECONNREFUSED 127.0.0.1:6443")];
        const unreachable = await cli("preview", "up", "--pr", "14", "--branch", "b");
        expect([unreachable.code, unreachable.stderr]).toEqual([EXIT.failed, "catalyst preview up: get Environment catalyst-system/pr-14: connect ECONNREFUSED 127.0.0.1:6443\n"]);
    });

    it("down deletes the Environment and waits until the controller removed it; a missing one is a no-op", async () => {
        await cli("preview", "up", "--pr", "12", "--branch", "b", "--timeout", "1s");
        store.onGet = (_o, n) => {
            if (n === 2) store.setStatus("pr-12", { conditions: [{ type: "Progressing", message: "destroying stack pr-12" }] });
            if (n === 3) store.remove("pr-12");
        };
        const run = await cli("preview", "down", "--pr", "12");
        expect([run.code, run.stdout]).toEqual([EXIT.ok, "pr-12: deleted\n"]);
        expect(run.stderr).toContain("pr-12: deleting: destroying stack pr-12");
        const again = await cli("preview", "down", "--pr", "12", "--json");
        expect(again.code).toBe(EXIT.ok);
        expect(JSON.parse(again.stdout)).toMatchObject({ environment: "pr-12", status: "deleted", message: "no such Environment: nothing to do" });
    });

    it("list shows the preview Environments with status and URL", async () => {
        readyOnThirdRead("pr-13");
        await cli("preview", "up", "--pr", "13", "--branch", "feat/y", "--owners", "bob");
        const run = await cli("preview", "list");
        expect(run.code).toBe(EXIT.ok);
        expect(run.stdout.split("\n")[0]).toMatch(/^NAME +PR +BRANCH +OWNERS +STATUS +URL$/);
        expect(run.stdout.split("\n")[1]).toMatch(/^pr-13 +13 +feat\/y +bob +ready +https:\/\/pr-13\.preview\.example$/);
        const json = JSON.parse((await cli("preview", "list", "--json")).stdout);
        expect(json).toMatchObject({ namespace: "catalyst-system", previews: [{ environment: "pr-13", status: "ready" }] });
    });

    it.each([
        [{ CATALYST_CONTROL_PLANE_NAMESPACE: "Bad_NS" }, ["preview", "list"],
            'catalyst preview list: CATALYST_CONTROL_PLANE_NAMESPACE: must be a namespace name (a DNS-1123 label: lower case letters, digits and \'-\', at most 63 characters), got "Bad_NS"'],
        [{}, ["preview", "up", "--pr", "1", "--branch", "b", "--project", "web"],
            "catalyst preview up: --project needs resource mode (--control-plane <namespace> or CATALYST_CONTROL_PLANE_NAMESPACE)"],
        [{ CATALYST_CONTROL_PLANE_NAMESPACE: "catalyst-system" }, ["preview", "down", "--pr", "1", "--wait", "5m"],
            "catalyst preview down: --wait applies to direct mode only; in resource mode the controller queues the work and --timeout bounds the wait"],
        [{}, ["preview", "list", "--control-plane", "x_y"],
            'catalyst preview list: --control-plane: must be a namespace name (a DNS-1123 label: lower case letters, digits and \'-\', at most 63 characters), got "x_y"'],
    ])("refuses bad mode settings with exit 2 naming the setting (%j %j)", async (settings, argv, message) => {
        env = settings;
        const run = await cli(...argv);
        expect([run.code, run.stdout, run.stderr.trimEnd()]).toEqual([EXIT.usage, "", message]);
        expect(used).toEqual([]);
    });

    it("without the switch the same commands run in direct mode", async () => {
        env = {};
        const run = await cli("preview", "list");
        expect(run.code).toBe(EXIT.failed);
        expect(used).toEqual(["automation"]);
    });
});
