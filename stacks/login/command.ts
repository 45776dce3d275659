import { AnyCommand, CommandContext, defineCommand, OptionSpec } from "../command";
import type { AddUserInput, KubeconfigInput, LoginInput, LoginIo, TargetInput } from "./commands";

/**
 * The client side's commands (`login`, `logout`, `kube-credential`, `kubeconfig`,
 * `oidc add-user`), declared with the program's command kit; their handlers (./commands.ts) load
 * only when run. `kube-credential` runs on every kubectl call, so nothing heavy loads on its way.
 */

const target: { issuer: OptionSpec<string>; clientId: OptionSpec<string>; caFile: OptionSpec<string> } = {
    issuer: { value: "<url>", description: "The OpenID issuer (default: CATALYST_OIDC_ISSUER, else the local cluster's)" },
    clientId: { value: "<id>", description: "The client the cluster trusts (default: CATALYST_OIDC_CLIENT_ID, else catalyst-cluster)" },
    caFile: { value: "<file>", description: "CA to trust for the issuer (default: CATALYST_OIDC_CA_FILE, else the local cluster's CA for its issuer)" },
};

type Handlers = typeof import("./commands");

/** Runs handler `pick` of ./commands.ts with stdin and the process environment, errors as one line. */
function handler<I>(name: string, pick: (handlers: Handlers) => (input: I, io: LoginIo, env: NodeJS.ProcessEnv) => Promise<number>) {
    return async (input: I, { io }: CommandContext): Promise<number> => {
        const handlers = await import("./commands");
        const streams: LoginIo = { stdout: io.stdout, stderr: io.stderr, stdin: handlers.readStdin };
        return handlers.guarded(name, streams, () => pick(handlers)(input, streams, process.env));
    };
}

/** The commands of stacks/login. */
export function loginCommands(): AnyCommand[] {
    return [
        defineCommand<LoginInput>({
            name: "login",
            summary: "Sign in to the OpenID provider for kubectl and k9s; tokens cached (0600) for kube-credential (docs/security.md).",
            options: {
                device: { description: "Device flow: prints a URL and a code to enter on any device with a browser" },
                user: { value: "<name>", description: "Sign in with a password of the provider's local users file ..." },
                passwordStdin: { description: "... read from stdin (one line); never from the command line" },
                ...target,
            },
            notes: ["Default: a browser, with PKCE and a loopback redirect (the URL is printed too). A refused sign-in exits 2 and caches nothing."],
            run: handler("login", (h) => h.login),
        }),
        defineCommand<TargetInput>({
            name: "logout",
            summary: "Revoke the cached sign-in (its refresh token) and remove the cache.",
            options: target,
            run: handler("logout", (h) => h.logout),
        }),
        defineCommand<TargetInput>({
            name: "kube-credential",
            summary: "The OIDC kubeconfigs' exec credential plugin: prints an ExecCredential, refreshing the token silently.",
            options: target,
            notes: ["Exits 1, saying to run `catalyst login`, when there is no sign-in or it has ended."],
            run: handler("kube-credential", (h) => h.kubeCredential),
        }),
        defineCommand<KubeconfigInput>({
            name: "kubeconfig",
            summary: "Print a kubeconfig for an environment's namespace that signs in as whoever ran catalyst login.",
            options: {
                environment: { value: "<environment>", positional: true, required: true, description: "pr-<n>, dev-<user>, staging or production" },
                server: { value: "<url>", description: "The API server (default: the local cluster's)" },
                clusterCa: { value: "<file>", description: "The API server's CA (default: the local cluster's CA)" },
                ...target,
            },
            run: handler("kubeconfig", (h) => h.kubeconfig),
        }),
        defineCommand<AddUserInput>({
            name: "oidc add-user",
            group: "The OpenID provider's local users file",
            summary: "Add or replace a person in the provider's local users file (a bcrypt hash, never the password).",
            options: {
                name: { value: "<name>", positional: true, required: true, description: "The user name (lower-case letters, digits, '.', '_', '-')" },
                passwordStdin: { description: "Read the password from stdin (required)" },
                email: { value: "<address>", description: "E-mail address for the ID token" },
                groups: { value: "<a,b>", description: "Groups, comma-separated" },
                usersFile: { value: "<file>", description: "The users file (default: CATALYST_OIDC_USERS_FILE, else .catalyst/oidc/users.json)" },
            },
            run: handler("oidc add-user", (h) => h.addUser),
        }),
    ];
}
