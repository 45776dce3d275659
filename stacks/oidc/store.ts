/**
 * Where the provider keeps sessions, grants, codes and refresh tokens: an in-process store shared
 * by every provider instance of this process. oidc-provider's own memory adapter belongs to one
 * instance (and keeps at most 1000 entries), but a key rotation builds a new instance, and
 * sign-ins must survive it. Entries expire with the lifetime oidc-provider gives them; a sweep
 * each minute drops the expired ones. State is lost when the process ends (docs/security.md).
 *
 * The shape is oidc-provider's adapter interface: upsert, find, findByUid, findByUserCode,
 * consume, destroy, revokeByGrantId.
 */

type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; consumed?: number };

interface Entry {
    payload: Payload;
    /** ms since the epoch; Infinity when oidc-provider gave no lifetime. */
    expiresAt: number;
}

/** The entries of one process, with indexes by grant, user code and session uid. */
export class ProviderStore {
    private readonly entries = new Map<string, Entry>();
    private readonly byGrant = new Map<string, Set<string>>();
    private readonly byUserCode = new Map<string, string>();
    private readonly byUid = new Map<string, string>();
    private readonly timer: NodeJS.Timeout;

    constructor(private readonly now: () => number = Date.now) {
        this.timer = setInterval(() => this.sweep(), 60_000);
        this.timer.unref();
    }

    /** The adapter class oidc-provider instantiates once per model ("Session", "RefreshToken", ...). */
    adapter(): new (model: string) => object {
        // eslint-disable-next-line @typescript-eslint/no-this-alias
        const store = this;
        return class {
            constructor(private readonly model: string) {}

            async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
                store.set(`${this.model}:${id}`, payload, expiresIn);
            }

            async find(id: string): Promise<Payload | undefined> {
                return store.get(`${this.model}:${id}`);
            }

            async findByUid(uid: string): Promise<Payload | undefined> {
                const key = store.byUid.get(uid);
                return key === undefined ? undefined : store.get(key);
            }

            async findByUserCode(userCode: string): Promise<Payload | undefined> {
                const key = store.byUserCode.get(userCode);
                return key === undefined ? undefined : store.get(key);
            }

            async consume(id: string): Promise<void> {
                const entry = store.get(`${this.model}:${id}`);
                if (entry) entry.consumed = Math.floor(store.now() / 1000);
            }

            async destroy(id: string): Promise<void> {
                store.delete(`${this.model}:${id}`);
            }

            async revokeByGrantId(grantId: string): Promise<void> {
                for (const key of store.byGrant.get(grantId) ?? []) store.delete(key);
                store.byGrant.delete(grantId);
            }
        };
    }

    /** How many entries are alive (tests). */
    size(): number {
        this.sweep();
        return this.entries.size;
    }

    close(): void {
        clearInterval(this.timer);
    }

    private set(key: string, payload: Payload, expiresIn?: number): void {
        this.delete(key);
        this.entries.set(key, { payload, expiresAt: typeof expiresIn === "number" ? this.now() + expiresIn * 1000 : Infinity });
        if (payload.grantId) {
            const members = this.byGrant.get(payload.grantId) ?? new Set<string>();
            members.add(key);
            this.byGrant.set(payload.grantId, members);
        }
        if (payload.userCode) this.byUserCode.set(payload.userCode, key);
        if (key.startsWith("Session:") && payload.uid) this.byUid.set(payload.uid, key);
    }

    private get(key: string): Payload | undefined {
        const entry = this.entries.get(key);
        if (entry === undefined) return undefined;
        if (entry.expiresAt <= this.now()) {
            this.delete(key);
            return undefined;
        }
        return entry.payload;
    }

    private delete(key: string): void {
        const entry = this.entries.get(key);
        if (entry === undefined) return;
        this.entries.delete(key);
        const { grantId, userCode, uid } = entry.payload;
        if (grantId) this.byGrant.get(grantId)?.delete(key);
        if (userCode && this.byUserCode.get(userCode) === key) this.byUserCode.delete(userCode);
        if (uid && this.byUid.get(uid) === key) this.byUid.delete(uid);
    }

    private sweep(): void {
        const now = this.now();
        for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.delete(key);
    }
}
