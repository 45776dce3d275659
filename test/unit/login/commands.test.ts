import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { cacheFile, writeCache } from "../../../stacks/login/cache";
import { addUser, guarded, kubeconfig, kubeCredential, login, LoginIo } from "../../../stacks/login/commands";
import { main } from "../../../stacks/main";

const ISSUER = "https://id.example.com/oidc";

function streams(stdin = "") {
    const out = { stdout: "", stderr: "" };
    const io: LoginIo = { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), stdin: async () => stdin };
    return { out, io };
}

describe("login commands", () => {
    let dir: string;
    let env: NodeJS.ProcessEnv;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-login-"));
        env = { CATALYST_OIDC_CACHE_DIR: dir, CATALYST_OIDC_ISSUER: ISSUER };
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("are commands of the catalyst program, with help from their tables", async () => {
        for (const name of ["login", "logout", "kube-credential", "kubeconfig", "oidc add-user"]) {
            const { out, io } = streams();
            expect(await main([...name.split(" "), "--help"], io)).toBe(0);
            expect(out.stdout).toContain(`Usage: catalyst ${name}`);
        }
        const { out, io } = streams();
        expect(await main(["login", "--password", "x"], io)).toBe(2);
        expect(out.stderr).toMatch(/^catalyst login: unknown option '--password'/);
    });

    it("refuses half a password sign-in, exit 2 and one line", async () => {
        const { out, io } = streams();
        const code = await guarded("login", io, () => login({ device: false, user: "alice", passwordStdin: false }, io, env));
        expect(code).toBe(2);
        expect(out.stderr).toBe("catalyst login: --user and --password-stdin: give both (the password is read from stdin, never from the command line)\n");
    });

    it("refuses an issuer that is not https, naming the flag", async () => {
        const { out, io } = streams();
        expect(await guarded("login", io, () => login({ issuer: "http://id.example.com/oidc", device: true, passwordStdin: false }, io, env))).toBe(2);
        expect(out.stderr).toMatch(/^catalyst login: --issuer: must be an https URL ending in \/oidc/);
    });

    it("kube-credential prints a fresh cached token without asking the provider", async () => {
        writeCache(cacheFile(ISSUER, "catalyst-cluster", env), { issuer: ISSUER, clientId: "catalyst-cluster", idToken: "a.b.c", expiresAt: Date.now() + 10 * 60_000, refreshToken: "r", user: "alice" });
        const { out, io } = streams();
        expect(await guarded("kube-credential", io, () => kubeCredential({}, io, env))).toBe(0);
        expect(JSON.parse(out.stdout)).toMatchObject({ kind: "ExecCredential", status: { token: "a.b.c" } });
    });

    it("kube-credential says to sign in when there is no sign-in, exit 1", async () => {
        const { out, io } = streams();
        expect(await guarded("kube-credential", io, () => kubeCredential({}, io, env))).toBe(1);
        expect(out.stderr).toBe(`catalyst kube-credential: not signed in to ${ISSUER}; sign in with: catalyst login --issuer ${ISSUER}\n`);
    });

    it("kubeconfig targets the environment's namespace and runs kube-credential for this issuer", async () => {
        const { out, io } = streams();
        expect(await guarded("kubeconfig", io, () => kubeconfig({ environment: "pr-12", server: "https://k8s.example.com" }, io, env))).toBe(0);
        const config = JSON.parse(out.stdout);
        expect(config.contexts[0].context.namespace).toBe("env-pr-12");
        expect(config.clusters[0].cluster.server).toBe("https://k8s.example.com");
        expect(config.users[0].user.exec.command).toMatch(/bin\/catalyst\.js$/);
        expect(config.users[0].user.exec.args).toEqual(["kube-credential", `--issuer=${ISSUER}`, "--client-id=catalyst-cluster"]);
        const bad = streams();
        expect(await guarded("kubeconfig", bad.io, () => kubeconfig({ environment: "pr-012", server: "https://k8s.example.com" }, bad.io, env))).toBe(2);
        expect(bad.out.stderr).toMatch(/^catalyst kubeconfig: <environment>: .*pr-<n> without leading zeros/);
    });

    it("oidc add-user wants the password on stdin and long enough", async () => {
        const { out, io } = streams("short\n");
        expect(await guarded("oidc add-user", io, () => addUser({ name: "carol", passwordStdin: true, usersFile: path.join(dir, "users.json") }, io, env))).toBe(2);
        expect(out.stderr).toBe("catalyst oidc add-user: --password-stdin: the password must have at least 8 characters\n");
    });
});
