import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { workspaceInstanceName } from "../../components/environment/workspace-spec";
import { HOSTS_ANNOTATION } from "../../components/environment/hosts";
import { mergeConfigValue } from "../../stacks/automation/engine";
import { Access, configFromFile, PLATFORM_REFERENCE, previewConfig, waitGone } from "./environment-helpers";
import { ensurePlatform, kubectl, quietOutput, repoRoot, requireTestEnvironment, suffix } from "./harness";
import { deploymentManifest, execFileAsync, Identity, kubectlAs, limited, personIdentity, serviceAccountIdentity } from "./security-helpers";

/*
 * The isolation matrix: what each identity of an environment may do in its own namespace,
 * another environment's, a platform namespace and kube-system, checked twice against the real
 * API server of the local cluster: once with SubjectAccessReviews (RBAC's answer) and once with
 * real requests sent with each identity's own credentials (client certificates the cluster
 * signs for the people, a TokenRequest token for the workspace's ServiceAccount).
 *
 * Two preview environments (through the real engine, on the run's shared platform stack, whose
 * admission policies are in force): `own`, with an observer group, an admin, an owner and an
 * agent workspace; `other`, with other people.
 */
jest.setTimeout(30 * 60_000);

// identities, in the order of each cell below
const IDENTITIES = ["observer", "admin", "owner", "workspace"] as const;
// namespaces, in the order of the columns below
const NAMESPACES = ["own", "other", "platform", "kube-system"] as const;

/**
 * Expectations. A cell lists observer, admin, owner, workspace ServiceAccount: `+` allowed,
 * `-` denied. Tenants may do nothing outside their own namespace, nobody may change the guard
 * rails, and the workspace's ServiceAccount holds exactly the owner role.
 */
const MATRIX: Array<[string, string, string, string, string]> = [
    // action                         own          other        platform     kube-system
    ["get secrets",                   "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["list secrets",                  "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["create pods",                   "- + + +",   "- - - -",   "- - - -",   "- - - -"],
    ["create pods as the workspace",  "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["pods/exec (create)",            "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["pods/exec (get)",               "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["pods/attach",                   "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["pods/portforward",              "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["create serviceaccounts/token",  "- - + +",   "- - - -",   "- - - -",   "- - - -"],
    ["escalate roles",                "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["bind roles",                    "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["impersonate",                   "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["nodes/proxy",                   "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["update resourcequotas",         "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["update networkpolicies",        "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["delete networkpolicies",        "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["update limitranges",            "- - - -",   "- - - -",   "- - - -",   "- - - -"],
    ["update rolebindings",           "- - - -",   "- - - -",   "- - - -",   "- - - -"],
];

type Action = (typeof MATRIX)[number][0];

/** How one action is asked: as a SubjectAccessReview, and as a real request. */
interface Probe {
    review: Omit<Access, "user" | "groups">;
    /** kubectl arguments and stdin for the real request (the identity's kubeconfig is added). */
    request: { args: string[]; input?: string };
    /** What a refusal of the real request looks like (default: an RBAC denial). */
    denial?: RegExp;
}

const run = suffix();
const prOwn = 8_000_000 + Math.floor(Math.random() * 900_000);
const prOther = prOwn + 1;
const own = `env-pr-${prOwn}`;
const other = `env-pr-${prOther}`;
const PLATFORM_NAMESPACE = "database";
const namespaces: Record<(typeof NAMESPACES)[number], string> = { own, other, platform: PLATFORM_NAMESPACE, "kube-system": "kube-system" };
const description = `isolation test ${run}`;
const workspaceAccount = `workspace-${workspaceInstanceName(description)}`;
const people = {
    observer: { user: `oidc:carol-${run}@example.com`, group: `reviewers-${run}` },
    admin: `bob-${run}@example.com`,
    owner: `alice-${run}@example.com`,
    otherOwner: `dave-${run}@example.com`,
    // A member of the group the preview template (Pulumi.pr.yaml) names, and of nothing else.
    developer: `erin-${run}@example.com`,
};
/** The group the preview template (Pulumi.pr.yaml) gives every developer. */
const DEVELOPERS_GROUP = "catalyst-developers";
const DOMAIN = "catalyst.localhost";
const PREVIEW_DOMAIN = `preview.${DOMAIN}`;

/**
 * What a tenant might try in order to take traffic that is not theirs through the shared ingress
 * controller, each as an object to create in its own namespace, and the admission rule that
 * refuses it ("admitted" for the one that is the tenant's own).
 */
const HIJACKS: Array<[string, (namespace: string) => object, string]> = [
    ["an Ingress for the environment's own host", (ns) => ingressFor(ns, "own", [`pr-${prOwn}.${PREVIEW_DOMAIN}`]), "admitted"],
    ["an Ingress for another preview's host", (ns) => ingressFor(ns, "other", [`pr-${prOther}.${PREVIEW_DOMAIN}`]), "catalyst-ingress-own-hosts"],
    ["an Ingress for the registry's host", (ns) => ingressFor(ns, "registry", [`registry.${DOMAIN}`]), "catalyst-ingress-own-hosts"],
    ["an Ingress for the bare domain", (ns) => ingressFor(ns, "bare", [DOMAIN]), "catalyst-ingress-own-hosts"],
    ["an Ingress for an outside name", (ns) => ingressFor(ns, "outside", ["www.example.com"]), "catalyst-ingress-own-hosts"],
    ["an Ingress for every preview (wildcard)", (ns) => ingressFor(ns, "wildcard", [`*.${PREVIEW_DOMAIN}`]), "catalyst-ingress-own-hosts"],
    ["an Ingress rule without a host", (ns) => ingressFor(ns, "hostless", [undefined]), "catalyst-ingress-host-required"],
    ["an Ingress with a default backend", (ns) => ({
        ...ingressFor(ns, "default", []),
        spec: { ingressClassName: "nginx", defaultBackend: { service: { name: "web", port: { number: 80 } } } },
    }), "catalyst-ingress-no-default-backend"],
    ["an ExternalName Service to the registry", (ns) => ({
        apiVersion: "v1", kind: "Service", metadata: { name: `registry-${run}`, namespace: ns },
        spec: { type: "ExternalName", externalName: "registry.registry.svc.cluster.local" },
    }), "catalyst-no-externalname-services"],
];

/** An Ingress of the class nginx with one rule per host (a rule without host for undefined). */
function ingressFor(namespace: string, name: string, hosts: (string | undefined)[]): object {
    const http = { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] };
    return {
        apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: `${name}-${run}`, namespace },
        spec: { ingressClassName: "nginx", rules: hosts.map((host) => (host === undefined ? { http } : { host, http })) },
    };
}

function probe(action: Action, namespace: string): Probe {
    const ns = ["-n", namespace];
    const podAs = (serviceAccountName?: string) => JSON.stringify({
        apiVersion: "v1", kind: "Pod", metadata: { name: `probe-${run}`, namespace },
        spec: {
            ...(serviceAccountName ? { serviceAccountName } : {}),
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
            automountServiceAccountToken: false,
            containers: [{
                name: "probe", image: "registry.k8s.io/pause:3.10",
                resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "20m", memory: "32Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            }],
        },
    });
    const pod = podAs();
    const podPath = (sub: string) => `/api/v1/namespaces/${namespace}/pods/probe-${run}/${sub}`;
    const role = JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: `probe-${run}`, namespace },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }],
    });
    const binding = JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: `probe-${run}`, namespace },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "catalyst-owner" },
        subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: `mallory-${run}` }],
    });
    const tokenRequest = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } });
    const rbac = "rbac.authorization.k8s.io";
    switch (action) {
        case "get secrets":
            return { review: { namespace, verb: "get", resource: "secrets", name: `probe-${run}` }, request: { args: ["get", "secret", `probe-${run}`, ...ns] } };
        case "list secrets":
            return { review: { namespace, verb: "list", resource: "secrets" }, request: { args: ["get", "secrets", ...ns] } };
        case "create pods":
            return { review: { namespace, verb: "create", resource: "pods" }, request: { args: ["create", "--dry-run=server", "-f", "-"], input: pod } };
        case "create pods as the workspace":
            // RBAC admits any pod creator; the platform's service-account-use policy asks for `use`.
            return {
                review: { namespace, verb: "use", resource: "serviceaccounts", name: workspaceAccount },
                request: { args: ["create", "--dry-run=server", "-f", "-"], input: podAs(workspaceAccount) },
                denial: new RegExp(`${RBAC_DENIAL.source}|catalyst-service-account-use: .* may not run pods as ServiceAccount ${workspaceAccount}`),
            };
        case "pods/exec (create)":
            return { review: { namespace, verb: "create", resource: "pods", subresource: "exec" }, request: { args: ["create", "--raw", `${podPath("exec")}?command=id&stdout=true`, "-f", "-"], input: "" } };
        case "pods/exec (get)":
            return { review: { namespace, verb: "get", resource: "pods", subresource: "exec" }, request: { args: ["get", "--raw", `${podPath("exec")}?command=id&stdout=true`] } };
        case "pods/attach":
            return { review: { namespace, verb: "create", resource: "pods", subresource: "attach" }, request: { args: ["create", "--raw", `${podPath("attach")}?stdout=true`, "-f", "-"], input: "" } };
        case "pods/portforward":
            return { review: { namespace, verb: "create", resource: "pods", subresource: "portforward" }, request: { args: ["create", "--raw", `${podPath("portforward")}?ports=8080`, "-f", "-"], input: "" } };
        case "create serviceaccounts/token":
            return {
                review: { namespace, verb: "create", resource: "serviceaccounts", subresource: "token", name: "owner-kubeconfig" },
                request: { args: ["create", "--raw", `/api/v1/namespaces/${namespace}/serviceaccounts/owner-kubeconfig/token`, "-f", "-"], input: tokenRequest },
            };
        case "escalate roles":
            // Writing a Role with rules one does not hold needs `escalate` (and `create` first).
            return { review: { namespace, verb: "escalate", resource: "roles", group: rbac }, request: { args: ["create", "--dry-run=server", "-f", "-"], input: role } };
        case "bind roles":
            return { review: { namespace, verb: "bind", resource: "roles", group: rbac, name: "catalyst-owner" }, request: { args: ["create", "--dry-run=server", "-f", "-"], input: binding } };
        case "impersonate":
            return { review: { namespace, verb: "impersonate", resource: "users", name: "catalyst-admin" }, request: { args: ["--as", "catalyst-admin", "get", "pods", ...ns] } };
        case "nodes/proxy":
            // Cluster-scoped: the same answer in every namespace column.
            return { review: { namespace: "", verb: "get", resource: "nodes", subresource: "proxy", name: "kwok-node-1" }, request: { args: ["get", "--raw", "/api/v1/nodes/kwok-node-1/proxy/healthz"] } };
        case "update resourcequotas":
            return {
                review: { namespace, verb: "update", resource: "resourcequotas", name: "environment-quota" },
                request: { args: ["patch", "resourcequota", "environment-quota", ...ns, "--dry-run=server", "--type", "merge", "-p", '{"spec":{"hard":{"pods":"1000"}}}'] },
            };
        case "update networkpolicies":
            return {
                review: { namespace, verb: "update", resource: "networkpolicies", group: "networking.k8s.io", name: "default-deny" },
                request: { args: ["patch", "networkpolicy", "default-deny", ...ns, "--dry-run=server", "--type", "merge", "-p", '{"spec":{"podSelector":{"matchLabels":{"x":"y"}}}}'] },
            };
        case "delete networkpolicies":
            return {
                review: { namespace, verb: "delete", resource: "networkpolicies", group: "networking.k8s.io", name: "default-deny" },
                request: { args: ["delete", "networkpolicy", "default-deny", ...ns, "--dry-run=server"] },
            };
        case "update limitranges":
            return {
                review: { namespace, verb: "update", resource: "limitranges", name: "environment-limits" },
                request: { args: ["patch", "limitrange", "environment-limits", ...ns, "--dry-run=server", "--type", "json", "-p", '[{"op":"remove","path":"/spec/limits"}]'] },
            };
        case "update rolebindings":
            // Adding oneself to the owners' binding would grant the owner role.
            return {
                review: { namespace, verb: "update", resource: "rolebindings", group: rbac, name: "catalyst-owner-people" },
                request: {
                    args: ["patch", "rolebinding", "catalyst-owner-people", ...ns, "--dry-run=server", "--type", "json", "-p",
                        JSON.stringify([{ op: "add", path: "/subjects/-", value: { kind: "User", apiGroup: rbac, name: `mallory-${run}` } }])],
                },
            };
        default:
            throw new Error(`no probe for ${action}`);
    }
}

/** One cell of the matrix: an action, asked in a namespace, by an identity. */
interface Cell {
    action: Action;
    namespace: string;
    identity: Identity;
}

/**
 * Asks `answers` about every cell at once and renders the results in the matrix's own shape,
 * so that a failure shows exactly the cells that differ.
 */
async function table(identities: Identity[], answers: (cells: Cell[]) => Promise<boolean[]>): Promise<string[]> {
    const cells = MATRIX.flatMap(([action]) => NAMESPACES.flatMap((column) => identities.map((identity) => ({ action, namespace: namespaces[column], identity }))));
    const results = await answers(cells);
    let index = 0;
    return MATRIX.map(([action]) => {
        const columns = NAMESPACES.map(() => identities.map(() => (results[index++] ? "+" : "-")).join(" "));
        return `${action.padEnd(30)} ${columns.join(" | ")}`;
    });
}

/** SubjectAccessReviews of every access, sent as one List with the administrator's credentials. */
async function reviewed(accesses: Access[]): Promise<boolean[]> {
    const items = accesses.map((access) => ({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
            user: access.user,
            groups: access.groups ?? [],
            resourceAttributes: {
                namespace: access.namespace, verb: access.verb, group: access.group ?? "", resource: access.resource,
                ...(access.subresource ? { subresource: access.subresource } : {}),
                ...(access.name ? { name: access.name } : {}),
            },
        },
    }));
    // kubectl prints each created review on its own; one line per review, in order.
    const result = await execFileAsync("kubectl", ["create", "-f", "-", "-o", 'jsonpath={.status.allowed}{"\\n"}'],
        JSON.stringify({ apiVersion: "v1", kind: "List", items }));
    if (!result.ok) {
        throw new Error(`SubjectAccessReviews failed: ${result.stderr}`);
    }
    const answers = result.stdout.split("\n").slice(0, -1);
    expect(answers).toHaveLength(accesses.length);
    return answers.map((answer) => answer === "true");
}

const expected = MATRIX.map(([action, ...cells]) => `${action.padEnd(30)} ${cells.join(" | ")}`);

/**
 * An RBAC denial, as opposed to "not found", "bad request" or an admission rejection. The verb
 * may be compound: Kubernetes 1.36 reports a refused impersonation as the constrained
 * impersonation verb it tried last (`cannot impersonate-on:user-info:list resource "pods"`).
 */
const RBAC_DENIAL = /cannot [a-z:-]+ resource "[^"]+"/;

describe("isolation matrix", () => {
    const stacks: Stack[] = [];
    const dir = mkdtempSync(path.join(tmpdir(), "catalyst-isolation-"));
    const csrs = [...IDENTITIES.slice(0, 3), "developer"].map((label) => `catalyst-test-${run}-${label}`);
    let identities: Identity[] = [];
    let developer: Identity;

    beforeAll(async () => {
        requireTestEnvironment();
        // The real platform: its ValidatingAdmissionPolicies are part of what tenants face.
        await ensurePlatform();
        // `other` is a preview as the automation layer makes one: the template's access with the
        // author named as owner (stacks/automation/engine.ts merges it the same way).
        const templateAccess = JSON.parse(configFromFile("Pulumi.pr.yaml")["catalyst:access"].value);
        // The template must still name the group, or the developer test below would prove nothing.
        expect(JSON.stringify(templateAccess)).toContain(`"${DEVELOPERS_GROUP}"`);
        const environments: Array<[number, object, object | undefined]> = [
            [prOwn, {
                oidcPrefix: "oidc:",
                observers: { groups: [people.observer.group] },
                admins: { users: [people.admin] },
                owners: { users: [people.owner] },
            }, { enabled: true, description, user: "alice" }],
            [prOther, mergeConfigValue(templateAccess, { owners: { users: [people.otherOwner] } }) as object, undefined],
        ];
        await Promise.all(environments.map(async ([pr, access, workspace]) => {
            const stack = await LocalWorkspace.createOrSelectStack({ stackName: `pr-${pr}`, workDir: repoRoot });
            stacks.push(stack);
            await stack.setAllConfig(previewConfig(pr, PLATFORM_REFERENCE, access, workspace));
        }));
        // One at a time: two programs type-checking at once on two cores only slow each other down.
        for (const stack of stacks) {
            const up = await stack.up({ onOutput: quietOutput });
            expect(up.summary.result).toBe("succeeded");
        }
        identities = [
            await personIdentity(dir, "observer", people.observer.user, [`oidc:${people.observer.group}`], csrs[0]),
            await personIdentity(dir, "admin", `oidc:${people.admin}`, [], csrs[1]),
            await personIdentity(dir, "owner", `oidc:${people.owner}`, [], csrs[2]),
            serviceAccountIdentity(dir, "workspace", own, workspaceAccount),
        ];
        developer = await personIdentity(dir, "developer", `oidc:${people.developer}`, [`oidc:${DEVELOPERS_GROUP}`], csrs[3]);
    });

    afterAll(async () => {
        try {
            for (const stack of stacks) {
                await stack.destroy({ onOutput: quietOutput });
                await stack.workspace.removeStack(stack.name);
            }
            await waitGone(`namespace/${own}`);
        } finally {
            kubectl(["delete", "csr", ...csrs, "--ignore-not-found"]);
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("authenticates each identity as who the table means", async () => {
        const who = await Promise.all(identities.map(async (identity) => {
            const result = await kubectlAs(identity, ["auth", "whoami", "-o", "json"]);
            const status = JSON.parse(result.stdout).status.userInfo as { username: string; groups: string[] };
            return [status.username, status.groups.filter((g) => g !== "system:authenticated")];
        }));
        expect(who).toEqual(identities.map((identity) => [identity.user, identity.groups]));
    });

    it("matches the table with SubjectAccessReviews", async () => {
        const actual = await table(identities, (cells) =>
            reviewed(cells.map(({ action, namespace, identity }) => ({ ...probe(action, namespace).review, user: identity.user, groups: identity.groups }))));
        expect(actual).toEqual(expected);
    });

    it("matches the table with real requests as each identity", async () => {
        const actual = await table(identities, (cells) => limited(cells.map(({ action, namespace, identity }) => async () => {
            const { request, denial } = probe(action, namespace);
            const result = await kubectlAs(identity, request.args, request.input);
            // A request that never reached authorization says nothing about the matrix.
            if (/Unauthorized|You must be logged in|Unable to connect|x509/.test(result.stderr)) {
                throw new Error(`${identity.label} could not reach the API server: ${result.stderr}`);
            }
            return result.ok || !(denial ?? RBAC_DENIAL).test(result.stderr);
        }), 8));
        expect(actual).toEqual(expected);
    });

    it("refuses every way into traffic that is not the tenant's, with the rule's message, for admin, owner and workspace", async () => {
        const tenants = identities.slice(1);
        const outcome = async (identity: Identity, object: object) => {
            const result = await kubectlAs(identity, ["create", "--dry-run=server", "-f", "-"], JSON.stringify(object));
            if (result.ok) {
                return "admitted";
            }
            // The denial must be the rule's own, message and all, not RBAC or a schema error.
            const match = /ValidatingAdmissionPolicy '([a-z-]+)' with binding '[a-z-]+' denied request: ([a-z-]+): (.+)/.exec(result.stderr);
            return match !== null && match[1] === match[2] ? match[1] : `refused otherwise: ${result.stderr.trim()}`;
        };
        const actual = await Promise.all(HIJACKS.map(async ([what, object]) =>
            `${what}: ${(await Promise.all(tenants.map((identity) => outcome(identity, object(own))))).join(" | ")}`));
        expect(actual).toEqual(HIJACKS.map(([what, , rule]) => `${what}: ${tenants.map(() => rule).join(" | ")}`));
    });

    it("says why an Ingress for another environment's host is refused", async () => {
        const result = await kubectlAs(identities[2], ["create", "--dry-run=server", "-f", "-"], JSON.stringify(HIJACKS[1][1](own)));
        expect(result.stderr).toContain(`catalyst-ingress-own-hosts: Ingress other-${run} names pr-${prOther}.${PREVIEW_DOMAIN}, not a host of this environment (allowed: `);
        expect(result.stderr).toContain(`pr-${prOwn}.${PREVIEW_DOMAIN}`);
    });

    it("keeps a tenant from rewriting the host names its namespace records", async () => {
        for (const identity of identities) {
            const result = await kubectlAs(identity, ["annotate", "namespace", own, "--overwrite", "--dry-run=server", `${HOSTS_ANNOTATION}=${DOMAIN}`]);
            expect([identity.label, result.ok, RBAC_DENIAL.test(result.stderr)]).toEqual([identity.label, false, true]);
        }
    });

    it("gives a member of the default developers' group no secrets, exec or pods of another author's preview", async () => {
        const checks: Array<[string, string[], boolean]> = [
            ["get pods", ["get", "pods", "-n", other], true],
            ["get secrets", ["get", "secret", `probe-${run}`, "-n", other], false],
            ["list secrets", ["get", "secrets", "-n", other], false],
            ["pods/exec", ["create", "--raw", `/api/v1/namespaces/${other}/pods/probe-${run}/exec?command=id&stdout=true`, "-f", "-"], false],
            ["create pods (could mount a Secret)", ["create", "--dry-run=server", "-f", "-"], false],
        ];
        const pod = probe("create pods", other).request.input;
        const actual = await Promise.all(checks.map(async ([what, args]) => {
            const result = await kubectlAs(developer, args, what.startsWith("create pods") ? pod : undefined);
            if (/Unauthorized|Unable to connect|x509/.test(result.stderr)) {
                throw new Error(`the developer could not reach the API server: ${result.stderr}`);
            }
            return `${what}: ${result.ok || !RBAC_DENIAL.test(result.stderr) ? "allowed" : "denied"}`;
        }));
        expect(actual).toEqual(checks.map(([what, , allowed]) => `${what}: ${allowed ? "allowed" : "denied"}`));
    });

    it("denies a tenant's latest-tagged or privileged Deployment with the admission policy's message", async () => {
        const admin = identities[1];
        const deployment = (name: string, container: object) => deploymentManifest(own, name, container);
        const apply = (body: string) => kubectlAs(admin, ["create", "--dry-run=server", "-f", "-"], body);
        // The admin may create Deployments (the matrix): only admission stands in the way.
        expect((await apply(deployment(`compliant-${run}`, {}))).ok).toBe(true);
        const latest = await apply(deployment(`latest-${run}`, { image: "registry.k8s.io/pause:latest" }));
        expect(latest.ok).toBe(false);
        expect(latest.stderr).toContain("ValidatingAdmissionPolicy 'catalyst-image-pinned-workloads'");
        expect(latest.stderr).toContain("catalyst-image-pinned: container web uses registry.k8s.io/pause:latest; pin a version tag or a digest");
        // Pod Security only warns about workload templates; the admission policy denies them.
        const privileged = await apply(deployment(`privileged-${run}`, { securityContext: { privileged: true, allowPrivilegeEscalation: true } }));
        expect(privileged.ok).toBe(false);
        expect(privileged.stderr).toContain("catalyst-no-privileged-containers: container web must not run privileged");
    });

    it("denies a tenant's privileged Pod at Pod Security, before it could run", async () => {
        const pod = JSON.stringify({
            apiVersion: "v1", kind: "Pod", metadata: { name: `privileged-${run}`, namespace: own },
            spec: {
                containers: [{
                    name: "root", image: "registry.k8s.io/pause:3.10",
                    resources: { limits: { cpu: "20m", memory: "32Mi" } },
                    securityContext: { privileged: true },
                }],
            },
        });
        const result = await kubectlAs(identities[1], ["create", "--dry-run=server", "-f", "-"], pod);
        expect(result.ok).toBe(false);
        expect(result.stderr).toMatch(/violates PodSecurity "restricted:v1\.36": privileged \(container "root" must not set securityContext\.privileged=true\)/);
    });
});
