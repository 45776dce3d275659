import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { apiNamespaceRules } from "../../components/platform/controlPlaneRbac";
import { SecretKeyStore } from "../../stacks/oidc/key-secret";
import { FileKeyStore, rotate, signingKey } from "../../stacks/oidc/keys";
import { LocalIssuer, readLocalIssuer } from "../../stacks/oidc/settings";
import { hashPassword } from "../../stacks/oidc/users";
import { API_GROUP } from "../../stacks/resources/types";
import { PLATFORM_REFERENCE, previewConfig, waitGone } from "./environment-helpers";
import { ensurePlatform, kubectl, quietOutput, repoRoot, requireTestEnvironment, suffix } from "./harness";
import { FakeGitHub, FakeGitHubPerson, startFakeGitHub } from "./fake-github";
import { browse, catalyst, decodeJwt, https, keyFromJwk, Serve, signJwt, startLogin, startServe, strangerKey, unsignedJwt, waitFor, whoAmI } from "./oidc-helpers";
import { CommandResult, deploymentManifest, execFileAsync, limited } from "./security-helpers";

/*
 * Signing in with Catalyst's own OpenID provider, end to end on the local cluster: the real
 * `catalyst serve --local-oidc` (oidc-provider) on the issuer URL the local kube-apiserver trusts
 * (tools/cluster/oidc.sh), people from a local users file, `catalyst login --password-stdin`,
 * `catalyst kubeconfig` and kubectl calling `catalyst kube-credential` for every identity's own
 * ID token. One preview environment through the real engine binds an owner, an admin and an
 * observer group; an outsider is bound to nothing.
 */
jest.setTimeout(20 * 60_000);

const run = suffix();
const pr = 8_100_000 + Math.floor(Math.random() * 800_000);
const stackName = `pr-${pr}`;
const own = `env-${stackName}`;
const OTHER = "kube-system";
const PASSWORD = `pw-${run}-correct-horse`;
const people = {
    owner: { name: `owner-${run}`, groups: [] as string[] },
    admin: { name: `admin-${run}`, groups: [] as string[] },
    observer: { name: `observer-${run}`, groups: [`reviewers-${run}`] },
    outsider: { name: `outsider-${run}`, groups: [`strangers-${run}`] },
};
type Label = keyof typeof people;
const LABELS = Object.keys(people) as Label[];

const dir = mkdtempSync(path.join(tmpdir(), "catalyst-oidc-"));
const usersFile = path.join(dir, "users.json");
const keysFile = path.join(dir, "keys.json");
const cacheOf = (label: string) => path.join(dir, "cache", label);
const kubeconfigOf = (label: string) => path.join(dir, `${label}.kubeconfig`);
const envOf = (label: string): NodeJS.ProcessEnv => ({ CATALYST_OIDC_CACHE_DIR: cacheOf(label), KUBECONFIG: kubeconfigOf(label) });

let issuer: LocalIssuer;
let ca: Buffer;
let serve: Serve;
let stack: Stack;
let github: FakeGitHub;

/** kubectl as `label`: its own kubeconfig, whose exec plugin is `catalyst kube-credential`. */
function kubectlAs(label: string, args: string[], input?: string): Promise<CommandResult> {
    return execFileAsync("kubectl", ["--kubeconfig", kubeconfigOf(label), "--request-timeout=60s", ...args], input, { ...process.env, ...envOf(label) });
}

function cachedTokens(label: string): { idToken: string; refreshToken: string; expiresAt: number } {
    const folder = cacheOf(label);
    const file = readdirSync(folder).find((f) => f.endsWith(".json"));
    if (file === undefined) throw new Error(`no token cache for ${label}`);
    return JSON.parse(readFileSync(path.join(folder, file), "utf8"));
}

/** Makes the cached ID token look expired, so that the next kubectl call refreshes it. */
function expireCachedToken(label: string): void {
    const folder = cacheOf(label);
    const file = path.join(folder, readdirSync(folder).find((f) => f.endsWith(".json"))!);
    const tokens = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...tokens, expiresAt: Date.now() }), { mode: 0o600 });
}

const FORBIDDEN = /Forbidden|forbidden|cannot [a-z:-]+ resource/;
const UNAUTHENTICATED = /Unauthorized|You must be logged in|getting credentials|catalyst login/;

/** Allowed means: not refused by RBAC (the request may still fail later, e.g. kwok runs no exec here). */
async function allowed(label: string, args: string[], input?: string): Promise<boolean> {
    const result = await kubectlAs(label, args, input);
    if (UNAUTHENTICATED.test(result.stderr)) throw new Error(`${label} was not authenticated: ${result.stderr}`);
    return result.ok || !FORBIDDEN.test(result.stderr);
}

async function jwks(): Promise<string[]> {
    const reply = await https(`${issuer.issuer}/jwks`, ca);
    return (JSON.parse(reply.body) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

describe("Catalyst as the cluster's OpenID provider", () => {
    beforeAll(async () => {
        requireTestEnvironment();
        const local = readLocalIssuer();
        if (local === undefined) throw new Error("the local cluster has no issuer (.catalyst/cluster/oidc.json): tools/cluster.sh up writes it");
        issuer = local;
        ca = readFileSync(issuer.caFile);
        // One person through the CLI (bcrypt at its production cost), the others written directly.
        const added = await catalyst(["oidc", "add-user", people.owner.name, "--password-stdin", "--email", `${people.owner.name}@example.com`], { CATALYST_OIDC_USERS_FILE: usersFile }, `${PASSWORD}\n`);
        expect(added.stderr).toBe("");
        const existing = JSON.parse(readFileSync(usersFile, "utf8")) as { users: object[] };
        const hash = await hashPassword(PASSWORD, 8);
        for (const label of LABELS.filter((l) => l !== "owner")) existing.users.push({ name: people[label].name, passwordHash: hash, groups: people[label].groups });
        writeFileSync(usersFile, JSON.stringify(existing), { mode: 0o600 });

        // Both ways in at once, as the sign-in page offers them: the users file and GitHub (the fake).
        github = await startFakeGitHub(`acme-${run}`);
        serve = await startServe({
            CATALYST_OIDC_USERS_FILE: usersFile, CATALYST_OIDC_KEYS_FILE: keysFile, CATALYST_OIDC_KEY_RELOAD: "1s", CATALYST_API_TOKENS: "",
            CATALYST_OIDC_GITHUB_CLIENT_ID: github.clientId, CATALYST_OIDC_GITHUB_CLIENT_SECRET: github.clientSecret, CATALYST_OIDC_GITHUB_ORG: github.organization,
            CATALYST_OIDC_GITHUB_URL: github.url, CATALYST_OIDC_GITHUB_API_URL: `${github.url}/api/v3`,
        });

        await ensurePlatform();
        stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: repoRoot });
        await stack.setAllConfig(previewConfig(pr, PLATFORM_REFERENCE, {
            oidcPrefix: "oidc:",
            owners: { users: [people.owner.name] },
            admins: { users: [people.admin.name] },
            observers: { groups: people.observer.groups },
        }));
        const up = await stack.up({ onOutput: quietOutput });
        expect(up.summary.result).toBe("succeeded");

        for (const label of LABELS) {
            mkdirSync(cacheOf(label), { recursive: true });
            const login = await catalyst(["login", "--user", people[label].name, "--password-stdin"], envOf(label), `${PASSWORD}\n`);
            expect(login).toMatchObject({ ok: true, stderr: "" });
            const config = await catalyst(["kubeconfig", stackName], envOf(label));
            expect(config.ok).toBe(true);
            writeFileSync(kubeconfigOf(label), config.stdout, { mode: 0o600 });
        }
        // The API server fetches discovery and JWKS in the background (and retries): the issuer may
        // have started after it. Wait until it accepts the provider's tokens at all.
        await waitFor("the API server to trust the issuer", async () => (await whoAmI(issuer, cachedTokens("owner").idToken)).status === 201, 90_000, 1000);
    });

    afterAll(async () => {
        try {
            if (stack) {
                await stack.destroy({ onOutput: quietOutput });
                await stack.workspace.removeStack(stackName);
                await waitGone(`namespace/${own}`);
            }
        } finally {
            await serve?.stop();
            await github?.close();
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("issues ID tokens with sub, preferred_username, email, groups and the cluster's client as audience, for 15 minutes", () => {
        const { header, claims } = decodeJwt(cachedTokens("owner").idToken);
        expect(header.alg).toBe("ES256");
        expect(claims).toMatchObject({ iss: issuer.issuer, aud: issuer.clientId, sub: `local:${people.owner.name}`, preferred_username: people.owner.name, email: `${people.owner.name}@example.com`, groups: [] });
        expect(Number(claims.exp) - Number(claims.iat)).toBe(15 * 60);
        expect(decodeJwt(cachedTokens("observer").idToken).claims.groups).toEqual(people.observer.groups);
    });

    it("publishes discovery and JWKS, and refuses an authorization request without PKCE", async () => {
        const discovery = JSON.parse((await https(`${issuer.issuer}/.well-known/openid-configuration`, ca)).body);
        expect(discovery).toMatchObject({ issuer: issuer.issuer, code_challenge_methods_supported: ["S256"], id_token_signing_alg_values_supported: expect.arrayContaining(["ES256"]) });
        expect(discovery.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]));
        expect(discovery.revocation_endpoint).toBe(`${issuer.issuer}/token/revocation`);
        expect((await jwks()).length).toBeGreaterThan(0);
        const query = new URLSearchParams({ client_id: issuer.clientId, response_type: "code", scope: "openid", redirect_uri: "http://127.0.0.1:9/callback", state: "s" });
        const reply = await https(`${issuer.issuer}/auth?${query}`, ca);
        expect(reply.status).toBe(303);
        const back = new URL(String(reply.headers.location));
        expect(back.searchParams.get("error")).toBe("invalid_request");
        expect(back.searchParams.get("error_description")).toMatch(/requires PKCE/);
    });

    it("authenticates each person through kubectl as oidc:<name> with oidc:<groups>", async () => {
        const who = await limited(LABELS.map((label) => async () => {
            const result = await kubectlAs(label, ["auth", "whoami", "-o", "json"]);
            expect(result.stderr).toBe("");
            const info = JSON.parse(result.stdout).status.userInfo as { username: string; groups: string[] };
            return [info.username, info.groups.filter((g) => g !== "system:authenticated")];
        }), 2);
        expect(who).toEqual(LABELS.map((label) => [`oidc:${people[label].name}`, people[label].groups.map((g) => `oidc:${g}`)]));
    });

    it("gives each person exactly the rights of their role, in that namespace only", async () => {
        const pod = kubectl(["get", "pods", "-n", own, "-o", "jsonpath={.items[0].metadata.name}"]).trim();
        expect(pod).not.toBe("");
        const deployment = deploymentManifest(own, `deployed-${run}`);
        const ns = (namespace: string) => ["-n", namespace];
        const actions: Array<[string, (namespace: string) => [string[], string?]]> = [
            ["list pods", (n) => [["get", "pods", ...ns(n)]]],
            ["read logs", (n) => [["logs", n === own ? pod : "kube-apiserver", ...ns(n)]]],
            ["list secrets", (n) => [["get", "secrets", ...ns(n)]]],
            ["exec", (n) => [["exec", n === own ? pod : "etcd", ...ns(n), "--", "id"]]],
            ["port-forward", (n) => [["create", "--raw", `/api/v1/namespaces/${n}/pods/${n === own ? pod : "etcd"}/portforward?ports=8080`, "-f", "-"], ""]],
            ["deploy", (n) => [["create", "--dry-run=server", "-f", "-"], deploymentManifest(n, `deployed-${run}`)]],
            ["change quota", (n) => [["patch", "resourcequota", "environment-quota", ...ns(n), "--dry-run=server", "--type", "merge", "-p", '{"spec":{"hard":{"pods":"1000"}}}']]],
            ["change network policies", (n) => [["delete", "networkpolicy", "default-deny", ...ns(n), "--dry-run=server"]]],
            ["change role bindings", (n) => [["patch", "rolebinding", "catalyst-owner-people", ...ns(n), "--dry-run=server", "--type", "json", "-p",
                JSON.stringify([{ op: "add", path: "/subjects/-", value: { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: `mallory-${run}` } }])]]],
        ];
        // Expected, per action: own namespace then the other, each "owner admin observer outsider".
        const expected: Record<string, [string, string]> = {
            "list pods": ["+ + + -", "- - - -"],
            "read logs": ["+ + + -", "- - - -"],
            "list secrets": ["+ - - -", "- - - -"],
            "exec": ["+ - - -", "- - - -"],
            "port-forward": ["+ - - -", "- - - -"],
            "deploy": ["+ + - -", "- - - -"],
            "change quota": ["- - - -", "- - - -"],
            "change network policies": ["- - - -", "- - - -"],
            "change role bindings": ["- - - -", "- - - -"],
        };
        const order: Label[] = ["owner", "admin", "observer", "outsider"];
        const cells = actions.flatMap(([action, build]) => [own, OTHER].flatMap((namespace) => order.map((label) => ({ action, label, request: build(namespace) }))));
        const results = await limited(cells.map((cell) => () => allowed(cell.label, cell.request[0], cell.request[1])), 4);
        const actual: Record<string, [string, string]> = {};
        actions.forEach(([action], a) => {
            const row = results.slice(a * 8, a * 8 + 8).map((ok) => (ok ? "+" : "-"));
            actual[action] = [row.slice(0, 4).join(" "), row.slice(4).join(" ")];
        });
        expect(actual).toEqual(expected);
        // The admin deploys for real too (the dry runs above stop at admission).
        const real = await kubectlAs("admin", ["create", "-f", "-"], deployment);
        expect(real).toMatchObject({ ok: true });
    });

    it("gives the outsider 403, not 401: signed in, but granted nothing", async () => {
        const result = await kubectlAs("outsider", ["get", "pods", "-n", own]);
        expect(result.ok).toBe(false);
        expect(result.stderr).toContain(`User "oidc:${people.outsider.name}" cannot list resource "pods"`);
    });

    describe("tokens the API server refuses with 401", () => {
        const now = () => Math.floor(Date.now() / 1000);
        const claimsFor = (overrides: Record<string, unknown> = {}) => ({
            iss: issuer.issuer, aud: issuer.clientId, sub: `local:${people.owner.name}`, preferred_username: people.owner.name, groups: [],
            iat: now() - 10, exp: now() + 600, ...overrides,
        });
        const currentKey = () => {
            const key = signingKey(JSON.parse(readFileSync(keysFile, "utf8")));
            return { kid: key.kid, key: keyFromJwk(key.jwk) };
        };
        const status = async (token: string) => (await whoAmI(issuer, token)).status;

        it("accepts a token the test signs with the provider's own key (so each refusal below is about one thing)", async () => {
            const { kid, key } = currentKey();
            expect(await status(signJwt(key, kid, claimsFor()))).toBe(201);
        });

        it("an expired token", async () => {
            const { kid, key } = currentKey();
            expect(await status(signJwt(key, kid, claimsFor({ iat: now() - 1200, exp: now() - 300 })))).toBe(401);
        });

        it("a token with a tampered signature", async () => {
            const [header, claims, signature] = cachedTokens("owner").idToken.split(".");
            const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
            expect(await status([header, claims, flipped].join("."))).toBe(401);
            // Claims changed under the provider's signature: refused just the same.
            const forged = Buffer.from(JSON.stringify({ ...decodeJwt(cachedTokens("outsider").idToken).claims, preferred_username: people.owner.name })).toString("base64url");
            expect(await status([header, forged, signature].join("."))).toBe(401);
        });

        it("a token for another audience", async () => {
            const { kid, key } = currentKey();
            expect(await status(signJwt(key, kid, claimsFor({ aud: "someone-else" })))).toBe(401);
        });

        it("a token from another issuer", async () => {
            expect(await status(signJwt(strangerKey(), "stranger", claimsFor({ iss: "https://127.0.0.1:31599/oidc" })))).toBe(401);
            // Another issuer's token claiming to be ours, signed with a key ours never published.
            expect(await status(signJwt(strangerKey(), currentKey().kid, claimsFor()))).toBe(401);
        });

        it("a token with alg none", async () => {
            expect(await status(unsignedJwt(claimsFor()))).toBe(401);
        });
    });

    it("keeps kubectl working through a key rotation and a refresh, then refuses tokens of a removed key", async () => {
        const store = new FileKeyStore(keysFile);
        const policy = { rotateAfterMs: 24 * 3_600_000, tokenTtlMs: 15 * 60_000 };
        const oldToken = cachedTokens("owner").idToken;
        const oldKid = String(decodeJwt(oldToken).header.kid);
        // Rotate as the schedule would (forced, not waited for); the provider rereads the store.
        const rotated = rotate(await store.load(), new Date(), policy, true);
        await store.save(rotated);
        const newKid = signingKey(rotated).kid;
        await waitFor("the JWKS to publish the new key first", async () => (await jwks())[0] === newKid, 30_000);
        expect(await jwks()).toContain(oldKid);
        // The session goes on: the next kubectl call refreshes silently and gets a new-key token.
        expireCachedToken("owner");
        const listed = await kubectlAs("owner", ["get", "pods", "-n", own, "-o", "name"]);
        expect(listed).toMatchObject({ ok: true, stderr: "" });
        const refreshed = cachedTokens("owner").idToken;
        expect(decodeJwt(refreshed).header.kid).toBe(newKid);
        expect(await whoAmI(issuer, refreshed)).toMatchObject({ status: 201, user: `oidc:${people.owner.name}` });
        // The old key is still published, so its unexpired tokens still work.
        expect((await whoAmI(issuer, oldToken)).status).toBe(201);

        // The old key's retention ends: rotate again and drop it (what the schedule does once its
        // tokens expired). The API server refetches the JWKS when it meets the newest key ...
        const removed = rotate({ keys: (await store.load()).keys.filter((k) => k.kid !== oldKid) }, new Date(), policy, true);
        await store.save(removed);
        const newestKid = signingKey(removed).kid;
        await waitFor("the JWKS to drop the old key", async () => {
            const kids = await jwks();
            return kids[0] === newestKid && !kids.includes(oldKid);
        }, 30_000);
        expireCachedToken("owner");
        expect(await kubectlAs("owner", ["get", "pods", "-n", own, "-o", "name"])).toMatchObject({ ok: true, stderr: "" });
        expect(decodeJwt(cachedTokens("owner").idToken).header.kid).toBe(newestKid);
        // ... and from then on a token signed with the removed key is refused, once the API server's
        // cache of successful authentications (10 s; the old token passed just above) let it go.
        await waitFor("the API server to refuse the removed key's token", async () => (await whoAmI(issuer, oldToken)).status === 401, 30_000, 1000);
        expect((await whoAmI(issuer, oldToken)).status).toBe(401);
    });

    it("keeps signing keys in a Kubernetes Secret, refusing a write based on a stale read", async () => {
        const name = `catalyst-oidc-keys-${run}`;
        const store = new SecretKeyStore("default", name);
        const other = new SecretKeyStore("default", name);
        try {
            expect(await store.load()).toEqual({ keys: [] });
            const first = rotate({ keys: [] }, new Date(), { rotateAfterMs: 3_600_000, tokenTtlMs: 900_000 });
            await store.save(first);
            expect(await other.load()).toEqual(first);
            // Two replicas rotating at once: the second write carries a stale resourceVersion.
            await other.save(rotate(first, new Date(), { rotateAfterMs: 3_600_000, tokenTtlMs: 900_000 }, true));
            await expect(store.save(rotate(first, new Date(), { rotateAfterMs: 3_600_000, tokenTtlMs: 900_000 }, true))).rejects.toThrow(/replace failed/);
            expect((await store.load()).keys).toHaveLength(2);
        } finally {
            kubectl(["delete", "secret", name, "-n", "default", "--ignore-not-found"]);
        }
    });

    it("rotates keys in a Secret created beforehand with only the in-cluster API's Role: get and update on that one name", async () => {
        // As the platform stack with catalyst:oidc: the Secret exists empty, the Role names it.
        const name = `catalyst-oidc-keys-api-${run}`;
        const account = `catalyst-api-${run}`;
        const namespace = "default";
        const metadata = { name: account, namespace };
        const saKubeconfig = path.join(dir, "api.kubeconfig");
        const saved = process.env.KUBECONFIG;
        try {
            kubectl(["apply", "-f", "-"], JSON.stringify({
                apiVersion: "v1", kind: "List", items: [
                    { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "catalyst-platform" } } },
                    { apiVersion: "v1", kind: "ServiceAccount", metadata },
                    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata, rules: apiNamespaceRules(API_GROUP, { oidcKeys: name }) },
                    {
                        apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata,
                        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: account },
                        subjects: [{ kind: "ServiceAccount", name: account, namespace }],
                    },
                ],
            }));
            const config = JSON.parse(kubectl(["config", "view", "--raw", "--minify", "-o", "json"])) as { users: { user: object }[] };
            config.users[0].user = { token: kubectl(["create", "token", account, "-n", namespace, "--duration=10m"]).trim() };
            writeFileSync(saKubeconfig, JSON.stringify(config), { mode: 0o600 });
            const as = `system:serviceaccount:${namespace}:${account}`;
            // `can-i` exits 1 when the answer is no.
            const can = async (verb: string, what: string) => (await execFileAsync("kubectl", ["auth", "can-i", verb, what, "-n", namespace, "--as", as])).stdout.trim();
            expect(await Promise.all([can("get", `secrets/${name}`), can("update", `secrets/${name}`)])).toEqual(["yes", "yes"]);
            expect(await Promise.all([can("get", "secrets/catalyst-oidc-github"), can("list", "secrets"), can("create", "secrets"), can("delete", `secrets/${name}`)]))
                .toEqual(["no", "no", "no", "no"]);

            process.env.KUBECONFIG = saKubeconfig;
            const store = new SecretKeyStore(namespace, name);
            expect(await store.load()).toEqual({ keys: [] });
            const first = rotate({ keys: [] }, new Date(), { rotateAfterMs: 3_600_000, tokenTtlMs: 900_000 });
            await store.save(first);
            await store.save(rotate(await store.load(), new Date(), { rotateAfterMs: 3_600_000, tokenTtlMs: 900_000 }, true));
            expect((await new SecretKeyStore(namespace, name).load()).keys).toHaveLength(2);
            process.env.KUBECONFIG = saved;
            // The creator's labels survive the provider's writes (no drift for the platform stack).
            expect(JSON.parse(kubectl(["get", "secret", name, "-n", namespace, "-o", "jsonpath={.metadata.labels}"]))).toEqual({ "app.kubernetes.io/part-of": "catalyst-platform" });
        } finally {
            process.env.KUBECONFIG = saved;
            for (const kind of ["secret", "rolebinding", "role", "serviceaccount"]) {
                kubectl(["delete", kind, kind === "secret" ? name : account, "-n", namespace, "--ignore-not-found"]);
            }
        }
    });

    it("refuses a wrong password: exit 2, one line, nothing cached", async () => {
        const env = { CATALYST_OIDC_CACHE_DIR: path.join(dir, "cache", "wrong") };
        const result = await catalyst(["login", "--user", people.owner.name, "--password-stdin"], env, "not-the-password\n");
        expect(result.code).toBe(2);
        expect(result.stderr).toBe(`catalyst login: wrong user name or password for ${people.owner.name}\n`);
        expect(result.stdout).toBe("");
        const cached = path.join(dir, "cache", "wrong");
        expect(existsSync(cached) ? readdirSync(cached) : []).toEqual([]);
        expect(serve.log()).toMatch(new RegExp(`"event":"sign-in-refused","user":"${people.owner.name}","method":"password"`));
    });

    it("makes the next kubectl call ask to sign in again once the refresh token is revoked", async () => {
        const revoked = await https(`${issuer.issuer}/token/revocation`, ca, {
            method: "POST", contentType: "application/x-www-form-urlencoded",
            body: new URLSearchParams({ client_id: issuer.clientId, token: cachedTokens("observer").refreshToken, token_type_hint: "refresh_token" }).toString(),
        });
        expect(revoked.status).toBe(200);
        expireCachedToken("observer");
        const result = await kubectlAs("observer", ["get", "pods", "-n", own]);
        expect(result.ok).toBe(false);
        expect(result.stderr).toContain("catalyst kube-credential: the sign-in has ended (invalid_grant)");
        expect(result.stderr).toContain(`sign in with: catalyst login --issuer ${issuer.issuer}`);
        // Signing in again works at once.
        const login = await catalyst(["login", "--user", people.observer.name, "--password-stdin"], envOf("observer"), `${PASSWORD}\n`);
        expect(login.ok).toBe(true);
        expect((await kubectlAs("observer", ["get", "pods", "-n", own])).ok).toBe(true);
    });

    const cachedIn = (folder: string) => JSON.parse(readFileSync(path.join(folder, readdirSync(folder).find((f) => f.endsWith(".json"))!), "utf8")) as { idToken: string };

    it("signs in in a browser: PKCE, the provider's sign-in page, the loopback redirect", async () => {
        const env = { CATALYST_OIDC_CACHE_DIR: path.join(dir, "cache", "browser") };
        const login = await startLogin([], env, /visit:\n {2}(\S+)/);
        const authorize = new URL(login.url);
        expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
        expect(authorize.searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
        const last = await browse(ca, login.url, people.observer.name, PASSWORD, /Signed in; you can close this window/);
        expect(last.status).toBe(200);
        expect(await login.done).toMatchObject({ code: 0, stdout: expect.stringContaining(`as ${people.observer.name}`) });
        expect(await whoAmI(issuer, cachedIn(env.CATALYST_OIDC_CACHE_DIR).idToken)).toMatchObject({ status: 201, user: `oidc:${people.observer.name}` });
    });

    it("signs in a terminal with the device flow: a code confirmed in a browser", async () => {
        const env = { CATALYST_OIDC_CACHE_DIR: path.join(dir, "cache", "device") };
        const login = await startLogin(["--device"], env, /\(or open (\S+)\)/);
        expect(login.stderr()).toMatch(new RegExp(`visit ${issuer.issuer}/device and enter the code [A-Z]{4}-[A-Z]{4}`));
        const last = await browse(ca, login.url, people.admin.name, PASSWORD, /Your terminal is signed in/);
        expect(last.status).toBe(200);
        expect(await login.done).toMatchObject({ code: 0, stdout: expect.stringContaining(`as ${people.admin.name}`) });
        expect(await whoAmI(issuer, cachedIn(env.CATALYST_OIDC_CACHE_DIR).idToken)).toMatchObject({ status: 201, user: `oidc:${people.admin.name}` });
    });

    it("signs in through GitHub: an active member of the organization, with its teams as groups and the rights they are bound to", async () => {
        const octo: FakeGitHubPerson = { id: 4_200_000 + parseInt(run, 16), login: `octo-${run}`, email: `octo-${run}@example.com`, membership: "active", teams: people.observer.groups };
        github.signedIn = octo;
        const env = { CATALYST_OIDC_CACHE_DIR: cacheOf("github"), KUBECONFIG: kubeconfigOf("github") };
        const login = await startLogin([], env, /visit:\n {2}(\S+)/);
        const last = await browse(ca, login.url, "", "", /Signed in; you can close this window/, "github");
        expect(last.status).toBe(200);
        expect(await login.done).toMatchObject({ code: 0, stdout: expect.stringContaining(`as ${octo.login}`) });
        // The provider exchanged the code with the client secret and read the person, the membership and both pages of teams.
        expect(github.requests).toEqual(expect.arrayContaining(["GET /login/oauth/authorize", "POST /login/oauth/access_token", "GET /api/v3/user", `GET /api/v3/user/memberships/orgs/${github.organization}`, "GET /api/v3/user/teams"]));
        expect(github.requests.filter((r) => r === "GET /api/v3/user/teams")).toHaveLength(2);
        const idToken = cachedIn(env.CATALYST_OIDC_CACHE_DIR).idToken;
        expect(decodeJwt(idToken).claims).toMatchObject({ sub: `github:${octo.id}`, preferred_username: octo.login, email: octo.email, groups: people.observer.groups });
        expect(await whoAmI(issuer, idToken)).toMatchObject({ status: 201, user: `oidc:${octo.login}`, groups: expect.arrayContaining(people.observer.groups.map((g) => `oidc:${g}`)) });
        // The team is the preview's observer group: pods yes, secrets no, as for the observer.
        const config = await catalyst(["kubeconfig", stackName], env);
        expect(config.ok).toBe(true);
        writeFileSync(kubeconfigOf("github"), config.stdout, { mode: 0o600 });
        expect(await allowed("github", ["get", "pods", "-n", own])).toBe(true);
        expect(await allowed("github", ["get", "secrets", "-n", own])).toBe(false);
    });

    it("refuses a GitHub user who is not an active member of the organization: 403 with the reason, an audit line, nothing cached", async () => {
        github.signedIn = { id: 4_300_000 + parseInt(run, 16), login: `pending-${run}`, email: null, membership: "pending", teams: people.observer.groups };
        const env = { CATALYST_OIDC_CACHE_DIR: cacheOf("github-pending") };
        const login = await startLogin([], env, /visit:\n {2}(\S+)/);
        const last = await browse(ca, login.url, "", "", /is not an active member/, "github");
        expect([last.status, last.body]).toEqual([403, expect.stringContaining(`pending-${run} is not an active member of the GitHub organization ${github.organization}`)]);
        login.kill();
        await login.done;
        expect(existsSync(env.CATALYST_OIDC_CACHE_DIR) ? readdirSync(env.CATALYST_OIDC_CACHE_DIR).filter((f) => f.endsWith(".json")) : []).toEqual([]);
        const lines = serve.log().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, string>);
        expect(lines).toContainEqual(expect.objectContaining({ event: "sign-in-refused", method: "github", reason: expect.stringContaining(`pending-${run} is not an active member`) }));
    });

    it("writes an audit line for every sign-in and refusal, never a token", () => {
        const lines = serve.log().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, string>);
        const signIns = lines.filter((l) => l.event === "sign-in").map((l) => l.user);
        for (const label of LABELS) expect(signIns).toContain(people[label].name);
        expect(lines).toContainEqual(expect.objectContaining({ event: "token-refused", method: "refresh_token", reason: expect.stringContaining("invalid_grant") }));
        expect(lines).toContainEqual(expect.objectContaining({ event: "token-issued", method: "refresh_token", user: people.owner.name }));
        const log = serve.log();
        for (const label of LABELS) {
            const tokens = cachedTokens(label);
            expect(log).not.toContain(tokens.idToken.split(".")[2]);
            expect(log).not.toContain(tokens.refreshToken);
        }
        expect(log).not.toContain(PASSWORD);
    });
});
