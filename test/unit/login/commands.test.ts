import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { cacheFile, writeCache } from "../../../stacks/login/cache";
import { runLoginCommand } from "../../../stacks/login/commands";
import { LOGIN_COMMANDS } from "../../../stacks/login/names";

const ISSUER = "https://id.example.com/oidc";

function io(stdin = "") {
    const out = { stdout: "", stderr: "" };
    return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), stdin: async () => stdin } };
}

describe("login commands", () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-login-"));
        env = { CATALYST_OIDC_CACHE_DIR: dir, CATALYST_OIDC_ISSUER: ISSUER };
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("serves every command the CLI dispatches to it, with help", async () => {
        for (const name of LOGIN_COMMANDS) {
            const { out, io: streams } = io();
            expect(await runLoginCommand(name, ["--help"], streams, env)).toBe(0);
            expect(out.stdout).toContain(`Usage: catalyst ${name}`);
        }
    });

    it("refuses a password on the command line or half a password sign-in, exit 2 and one line", async () => {
        const { out, io: streams } = io();
        expect(await runLoginCommand("login", ["--user", "alice"], streams, env)).toBe(2);
        expect(out.stderr).toBe("catalyst login: --user and --password-stdin: give both (the password is read from stdin, never from the command line)\n");
        const second = io();
        expect(await runLoginCommand("login", ["--password", "x"], second.io, env)).toBe(2);
        expect(second.out.stderr).toMatch(/^catalyst login: Unknown option '--password'/);
    });

    it("refuses an issuer that is not https, naming the flag", async () => {
        const { out, io: streams } = io();
        expect(await runLoginCommand("login", ["--issuer", "http://id.example.com/oidc", "--device"], streams, env)).toBe(2);
        expect(out.stderr).toMatch(/^catalyst login: --issuer: must be an https URL ending in \/oidc/);
    });

    it("kube-credential prints a fresh cached token without asking the provider", async () => {
        writeCache(cacheFile(ISSUER, "catalyst-cluster", env), { issuer: ISSUER, clientId: "catalyst-cluster", idToken: "a.b.c", expiresAt: Date.now() + 10 * 60_000, refreshToken: "r", user: "alice" });
        const { out, io: streams } = io();
        expect(await runLoginCommand("kube-credential", [], streams, env)).toBe(0);
        expect(JSON.parse(out.stdout)).toMatchObject({ kind: "ExecCredential", status: { token: "a.b.c" } });
    });

    it("kube-credential says to sign in when there is no sign-in, exit 1", async () => {
        const { out, io: streams } = io();
        expect(await runLoginCommand("kube-credential", [], streams, env)).toBe(1);
        expect(out.stderr).toBe(`catalyst kube-credential: not signed in to ${ISSUER}; sign in with: catalyst login --issuer ${ISSUER}\n`);
    });

    it("kubeconfig targets the environment's namespace and runs kube-credential for this issuer", async () => {
        const { out, io: streams } = io();
        expect(await runLoginCommand("kubeconfig", ["pr-12", "--server", "https://k8s.example.com"], streams, env)).toBe(0);
        const config = JSON.parse(out.stdout);
        expect(config.contexts[0].context.namespace).toBe("env-pr-12");
        expect(config.clusters[0].cluster.server).toBe("https://k8s.example.com");
        expect(config.users[0].user.exec.command).toMatch(/bin\/catalyst\.js$/);
        expect(config.users[0].user.exec.args).toEqual(["kube-credential", `--issuer=${ISSUER}`, "--client-id=catalyst-cluster"]);
        const bad = io();
        expect(await runLoginCommand("kubeconfig", ["pr-012", "--server", "https://k8s.example.com"], bad.io, env)).toBe(2);
        expect(bad.out.stderr).toMatch(/^catalyst kubeconfig: <environment>: .*pr-<n> without leading zeros/);
    });

    it("oidc add-user wants the password on stdin and long enough", async () => {
        const file = path.join(dir, "users.json");
        const { out, io: streams } = io("short\n");
        expect(await runLoginCommand("oidc add-user", ["carol", "--password-stdin", "--users-file", file], streams, env)).toBe(2);
        expect(out.stderr).toBe("catalyst oidc add-user: --password-stdin: the password must have at least 8 characters\n");
    });
});
