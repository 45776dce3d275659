/**
 * Namespace-scoped kubeconfigs for an environment, as pure functions. Neither embeds a
 * credential: both obtain a short-lived token at use time through an exec credential plugin
 * (the OIDC one through `catalyst kube-credential`, stacks/login).
 *
 * Why an exec plugin for the owner kubeconfig: a TokenRequest (the API that issues bound,
 * expiring ServiceAccount tokens) is a subresource call, not an object, so it cannot be a Pulumi
 * resource; and a `kubernetes.io/service-account-token` Secret would be a token that never
 * expires, stored in the stack state. Instead the kubeconfig runs
 * `kubectl create token <sa> -n <ns> --duration=1h` with the user's own credentials each time a
 * token is needed; the owner role allows exactly that request for exactly that ServiceAccount.
 */

/** Where the cluster's API server is, as a kubeconfig's `cluster` entry needs it. */
export interface ClusterEndpoint {
    /** The API server URL. */
    server: string;
    /** Base64 PEM of the API server's CA; when absent the system trust store is used. */
    certificateAuthorityData?: string;
}

/** What an OIDC login needs: the issuer and the client the API server trusts. */
export interface OidcSettings {
    /** The issuer URL the API server validates tokens against. */
    issuerUrl: string;
    /** The OAuth client id (the ID tokens' audience). */
    clientId: string;
    /** A CA file to trust for the issuer instead of the system store (the local cluster's). */
    caFile?: string;
    /** How to run the `catalyst` CLI (default: `catalyst` on PATH). */
    command?: string;
}

const EXEC_API = "client.authentication.k8s.io/v1";

function baseConfig(contextName: string, namespace: string, cluster: ClusterEndpoint, user: Record<string, unknown>) {
    const clusterEntry: Record<string, unknown> = { server: cluster.server };
    if (cluster.certificateAuthorityData) {
        clusterEntry["certificate-authority-data"] = cluster.certificateAuthorityData;
    }
    return {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: contextName, cluster: clusterEntry }],
        users: [{ name: contextName, user }],
        contexts: [{ name: contextName, context: { cluster: contextName, user: contextName, namespace } }],
        "current-context": contextName,
    };
}

/**
 * A kubeconfig acting as ServiceAccount `serviceAccount` of `namespace`, with a one-hour token
 * requested on demand. The plugin's kubectl reads the user's own kubeconfig (`KUBECONFIG` is
 * cleared for it, which selects `~/.kube/config`, so it never recurses into this file); pass
 * `baseContext` to pick a context there. The output is JSON, which is valid YAML.
 */
export function ownerKubeconfig(
    namespace: string,
    serviceAccount: string,
    cluster: ClusterEndpoint,
    baseContext?: string,
): string {
    // kubectl prints the TokenRequest; the template turns it into the ExecCredential the
    // client expects, carrying the expiry so the client asks again in time.
    const template =
        `{"apiVersion":"${EXEC_API}","kind":"ExecCredential","status":` +
        `{"token":"{{.status.token}}","expirationTimestamp":"{{.status.expirationTimestamp}}"}}`;
    const args = ["create", "token", serviceAccount, "-n", namespace, "--duration=1h", "-o", `go-template=${template}`];
    if (baseContext) {
        args.push(`--context=${baseContext}`);
    }
    return JSON.stringify(baseConfig(`${namespace}-owner`, namespace, cluster, {
        exec: {
            apiVersion: EXEC_API,
            command: "kubectl",
            args,
            env: [{ name: "KUBECONFIG", value: "" }],
            interactiveMode: "Never",
            provideClusterInfo: false,
        },
    }), null, 2);
}

/**
 * A kubeconfig that signs in through OIDC for people bound by name or group to a role of
 * `namespace`: kubectl (or k9s) runs `catalyst kube-credential`, which prints the cached ID token
 * of `catalyst login` and refreshes it silently; when the sign-in has ended it says to run
 * `catalyst login` and kubectl fails. It never prompts (`interactiveMode: Never`).
 */
export function oidcKubeconfig(namespace: string, cluster: ClusterEndpoint, oidc: OidcSettings): string {
    const args = ["kube-credential", `--issuer=${oidc.issuerUrl}`, `--client-id=${oidc.clientId}`];
    if (oidc.caFile) {
        args.push(`--ca-file=${oidc.caFile}`);
    }
    return JSON.stringify(baseConfig(`${namespace}-oidc`, namespace, cluster, {
        exec: {
            apiVersion: EXEC_API,
            command: oidc.command ?? "catalyst",
            args,
            interactiveMode: "Never",
            provideClusterInfo: false,
        },
    }), null, 2);
}
