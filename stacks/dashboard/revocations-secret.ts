import type { V1Secret } from "@kubernetes/client-node";
import { ClusterError, clusterCall, coreApi } from "../automation/cluster";
import { MemoryRevocations } from "./revocations";

/**
 * Sign-outs in a Kubernetes Secret, for `catalyst serve` replicas in a cluster (the platform's
 * `catalyst-api`, whose root file system is read-only and whose pods share no volume): every
 * replica reads the same Secret, and it outlives restarts and rollouts.
 *
 * - Reads are cheap: a session is checked on every request against this process's memory, which
 *   a timer refreshes from the Secret every {@link REFRESH_MS} (one GET per replica, whatever the
 *   traffic). The replica that records a sign-out knows it at once; the others within that
 *   interval (docs/dashboard.md, "Limits").
 * - Writes append: read the Secret, add the session id, drop the entries whose sessions have
 *   expired (so the Secret holds at most the sign-outs of the last session lifetime, 8 hours),
 *   and replace it carrying the resourceVersion that was read. A replica that wrote in between
 *   makes the API server answer 409; the write reads again and retries, so no sign-out is lost.
 * - A Secret holds at most 1 MiB of data; one entry is about 36 bytes, so about 29,000 sign-outs
 *   within 8 hours. A write that would pass the limit is refused with a message naming the Secret
 *   (the sign-out then fails and says so; it is recorded in this replica only), until entries expire.
 *
 * Through `@kubernetes/client-node` (stacks/automation/cluster.ts: KUBECONFIG, else in-cluster
 * credentials, a deadline on every call) like the API's other reads in `catalyst serve`, rather than
 * a `kubectl` process every few seconds as the OIDC key store (stacks/oidc/key-secret.ts), which
 * reads once a minute, does. Needs `get` and `update` on this one Secret: the platform creates it
 * empty, so no `create`, and the Role names it (components/platform/controlPlaneRbac.ts).
 */

/** The key of the Secret's data that holds the sign-outs: `{"<session id>": <expiry, seconds>}`. */
export const SIGNED_OUT_DATA_KEY = "signed-out.json";

/** How often a replica reads the Secret again, milliseconds. */
export const REFRESH_MS = 5_000;

/** The most data a Secret may hold (the API server refuses more). */
export const SECRET_DATA_LIMIT = 1024 * 1024;

/** Attempts of one write that meets other replicas' writes (409 Conflict). */
const WRITE_ATTEMPTS = 8;

/** The Secret's two calls, so that unit tests run against a fake. */
export interface SecretAccess {
    /** The Secret as the API server has it (with its resourceVersion); rejects with a ClusterError. */
    get(): Promise<V1Secret>;
    /** Replaces it; rejects with a ClusterError of status 409 when `secret`'s resourceVersion is stale. */
    replace(secret: V1Secret): Promise<V1Secret>;
}

/** The Secret `namespace/name` on the cluster of the current kubeconfig. */
export function kubeSecretAccess(namespace: string, name: string): SecretAccess {
    const api = coreApi();
    return {
        get: () => clusterCall(`get Secret ${namespace}/${name}`, () => api.readNamespacedSecret({ namespace, name })),
        replace: (body) => clusterCall(`update Secret ${namespace}/${name}`, () => api.replaceNamespacedSecret({ namespace, name, body })),
    };
}

/** Options of {@link SecretRevocations}. */
export interface SecretRevocationsOptions {
    /** The Secret's calls; default: the API server of the current kubeconfig. */
    access?: SecretAccess;
    /** Refresh interval, milliseconds (default {@link REFRESH_MS}). */
    refreshMs?: number;
    /** Clock, seconds since the epoch. */
    now?: () => number;
    /** Where a failed refresh is reported (once until one succeeds again); default stderr. */
    log?: (line: string) => void;
}

/** Sign-outs kept in a Kubernetes Secret shared by every replica; call {@link start} before use. */
export class SecretRevocations extends MemoryRevocations {
    private readonly access: SecretAccess;
    private readonly refreshMs: number;
    private readonly log: (line: string) => void;
    private timer: NodeJS.Timeout | undefined;
    private failing = false;

    constructor(private readonly namespace: string, private readonly name: string, options: SecretRevocationsOptions = {}) {
        super(options.now);
        this.access = options.access ?? kubeSecretAccess(namespace, name);
        this.refreshMs = options.refreshMs ?? REFRESH_MS;
        this.log = options.log ?? ((line) => void process.stderr.write(`${line}\n`));
    }

    /** Reads the Secret (a missing or unreadable one fails here, at start), then keeps reading it. */
    async start(): Promise<this> {
        await this.refresh();
        this.timer = setInterval(() => void this.refresh().then(
            () => {
                if (this.failing) this.log(`catalyst serve: dashboard: reading sign-outs from ${this.describe()} again`);
                this.failing = false;
            },
            (err: Error) => {
                // The last sign-outs read stay in force; only new ones of other replicas wait.
                if (!this.failing) this.log(`catalyst serve: dashboard: cannot read sign-outs: ${err.message.split("\n")[0]}`);
                this.failing = true;
            },
        ), this.refreshMs);
        this.timer.unref();
        return this;
    }

    /** Stops the refresh timer. */
    close(): void {
        clearInterval(this.timer);
    }

    override describe(): string {
        return `Secret ${this.namespace}/${this.name}`;
    }

    /** Known here at once; written into the Secret for the other replicas and restarts, retried on conflicts. */
    override async add(sid: string, exp: number): Promise<void> {
        this.remember(sid, exp);
        for (let attempt = 1; ; attempt++) {
            const secret = await this.access.get();
            const entries = { ...this.live(this.entriesOf(secret)), [sid]: exp };
            const text = JSON.stringify(entries);
            if (Buffer.byteLength(text) > SECRET_DATA_LIMIT) {
                throw new Error(`${this.describe()}: full: ${Object.keys(entries).length} sign-outs not yet expired take more than the 1 MiB a Secret holds; ` +
                    "this sign-out holds in this replica only until its session expires");
            }
            try {
                await this.access.replace({ ...secret, data: { ...secret.data, [SIGNED_OUT_DATA_KEY]: Buffer.from(text).toString("base64") } });
                this.rememberAll(Object.entries(entries));
                return;
            } catch (err) {
                if (!(err instanceof ClusterError && err.status === 409) || attempt === WRITE_ATTEMPTS) throw err;
                // Another replica wrote since the read: read again, after a short random pause so that two do not collide again.
                await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
            }
        }
    }

    /** Reads the Secret into memory. */
    async refresh(): Promise<void> {
        this.rememberAll(Object.entries(this.entriesOf(await this.access.get())));
    }

    /** The entries whose sessions have not expired. */
    private live(entries: Record<string, number>): Record<string, number> {
        const now = this.now();
        return Object.fromEntries(Object.entries(entries).filter(([, until]) => until > now));
    }

    /** The sign-outs the Secret holds; an empty Secret (as the platform creates it) holds none. */
    private entriesOf(secret: V1Secret): Record<string, number> {
        const data = secret.data?.[SIGNED_OUT_DATA_KEY];
        if (data === undefined || data === "") return {};
        let parsed: unknown;
        try {
            parsed = JSON.parse(Buffer.from(data, "base64").toString("utf8"));
        } catch {
            throw new Error(`${this.describe()}: ${SIGNED_OUT_DATA_KEY} is not JSON`);
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === "number")) {
            throw new Error(`${this.describe()}: ${SIGNED_OUT_DATA_KEY} must map session ids to expiry times (seconds)`);
        }
        return parsed as Record<string, number>;
    }
}
