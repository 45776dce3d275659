/**
 * Which Host and Origin headers the streamable HTTP transport accepts: the DNS-rebinding
 * protection of MCP's security best practices. A web page on another site that resolves its
 * own name to 127.0.0.1 still sends its own Host and Origin, and gets 403.
 */
export interface HostAllowList {
    /** Host names (without port) accepted in `Host`. */
    hosts: readonly string[];
    /** Origins (`scheme://host[:port]`) accepted in `Origin`; loopback origins when undefined. */
    origins?: readonly string[];
}

/** Loopback names: what the transport accepts unless configured otherwise. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

function list(env: NodeJS.ProcessEnv, key: string): string[] | undefined {
    const text = env[key];
    if (text === undefined || text.trim() === "") return undefined;
    return text.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/**
 * The allow-list from CATALYST_MCP_ALLOWED_HOSTS (comma-separated host names) and
 * CATALYST_MCP_ALLOWED_ORIGINS (comma-separated origins); loopback by default.
 */
export function hostAllowList(env: NodeJS.ProcessEnv = process.env): HostAllowList {
    const hosts = list(env, "CATALYST_MCP_ALLOWED_HOSTS");
    for (const host of hosts ?? []) {
        if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)$/.test(host)) throw new Error(`CATALYST_MCP_ALLOWED_HOSTS: "${host}" is not a host name (give names without scheme or port, comma-separated)`);
    }
    const origins = list(env, "CATALYST_MCP_ALLOWED_ORIGINS");
    for (const origin of origins ?? []) {
        if (urlOf(origin)?.origin !== origin) throw new Error(`CATALYST_MCP_ALLOWED_ORIGINS: "${origin}" is not an origin (scheme://host[:port], comma-separated)`);
    }
    return { hosts: (hosts ?? LOOPBACK_HOSTS).map((h) => h.toLowerCase()), origins };
}

/** `text` as a URL, or undefined when it is none. */
function urlOf(text: string): URL | undefined {
    try {
        return new URL(text);
    } catch {
        return undefined;
    }
}

/** The host name of a Host header (port removed), lower case. */
function hostName(header: string): string {
    const host = header.trim().toLowerCase();
    if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
    return host.replace(/:[0-9]*$/, "");
}

/** Why a request's Host or Origin is refused, or undefined when both are allowed. */
export function refusedHeader(allowed: HostAllowList, host: string | undefined, origin: string | undefined): string | undefined {
    if (host === undefined || !allowed.hosts.includes(hostName(host))) return `Host ${JSON.stringify(host ?? "")} is not allowed (DNS-rebinding protection; see CATALYST_MCP_ALLOWED_HOSTS)`;
    if (origin === undefined) return undefined;
    const parsed = urlOf(origin);
    const ok = parsed !== undefined && (allowed.origins === undefined ? LOOPBACK_HOSTS.includes(parsed.hostname.toLowerCase()) : allowed.origins.includes(parsed.origin));
    return ok ? undefined : `Origin ${JSON.stringify(origin)} is not allowed (DNS-rebinding protection; see CATALYST_MCP_ALLOWED_ORIGINS)`;
}
