import { ApiCallError, ControlPlaneApi, LeaseRecord } from "./cluster";

/**
 * One coordination.k8s.io/v1 Lease per Environment decides which replica works on it (the choice
 * over shards: work moves one Environment at a time, a dead replica's Environments are taken
 * over one by one as their leases expire, and any number of replicas join without resharding).
 * A replica takes a lease only when it has a free slot, holds it for the whole reconcile while
 * renewing it, and gives it back afterwards. Takeover is optimistic: every write carries the
 * Lease's resourceVersion, so of two replicas racing for one lease exactly one wins (the other
 * gets 409).
 */

/** The result of {@link LeaseManager.tryAcquire}. */
export type Acquired =
    /** `takenFrom`: the holder whose lease had expired without being given back (it is gone). */
    | { held: true; lease: LeaseRecord; takenFrom?: string }
    /** Held by `holder` until about `retryInMs` from now. */
    | { held: false; holder: string; retryInMs: number };

/** Settings of a {@link LeaseManager}. */
export interface LeaseSettings {
    /** The namespace of the Leases. */
    namespace: string;
    /** This replica's identity (the pod name). */
    identity: string;
    /** Seconds a lease stays valid without a renewal. */
    durationSeconds: number;
    /** The clock (tests). */
    now?: () => number;
}

/** True when `lease` is held by someone at `now`. */
export function leaseValid(lease: LeaseRecord, now: number): boolean {
    if (lease.holderIdentity === undefined || lease.holderIdentity === "") return false;
    const renewed = lease.renewTime ?? lease.acquireTime ?? 0;
    return renewed + (lease.leaseDurationSeconds ?? 0) * 1000 > now;
}

/** Takes, renews and gives back per-Environment Leases. */
export class LeaseManager {
    private readonly now: () => number;

    constructor(private readonly api: ControlPlaneApi, private readonly settings: LeaseSettings) {
        this.now = settings.now ?? Date.now;
    }

    /** Takes lease `name` if it is free, expired, or already ours. Never waits. */
    async tryAcquire(name: string): Promise<Acquired> {
        const { identity, durationSeconds, namespace } = this.settings;
        const now = this.now();
        const current = await this.api.readLease(namespace, name);
        const lost = (holder: string, retryInMs: number): Acquired => ({ held: false, holder, retryInMs: Math.max(250, retryInMs) });
        if (current !== undefined && current.holderIdentity !== identity && leaseValid(current, now)) {
            const until = (current.renewTime ?? now) + (current.leaseDurationSeconds ?? durationSeconds) * 1000;
            return lost(current.holderIdentity ?? "", until - now);
        }
        const next: LeaseRecord = {
            name,
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: current?.holderIdentity === identity ? current.acquireTime ?? now : now,
            renewTime: now,
            leaseTransitions: (current?.leaseTransitions ?? 0) + (current?.holderIdentity === identity ? 0 : 1),
            resourceVersion: current?.resourceVersion,
        };
        try {
            const lease = current === undefined ? await this.api.createLease(namespace, next) : await this.api.replaceLease(namespace, next);
            // A replica gives its leases back (no holder) when done; one still named here let it expire.
            const previous = current?.holderIdentity;
            return previous !== undefined && previous !== "" && previous !== identity ? { held: true, lease, takenFrom: previous } : { held: true, lease };
        } catch (err) {
            if (err instanceof ApiCallError && (err.status === 409 || err.status === 422)) {
                return lost("another replica", 1000);
            }
            throw err;
        }
    }

    /** Renews a held lease; returns the new record, or undefined when it is no longer ours. */
    async renew(lease: LeaseRecord): Promise<LeaseRecord | undefined> {
        try {
            return await this.api.replaceLease(this.settings.namespace, { ...lease, renewTime: this.now() });
        } catch (err) {
            if (err instanceof ApiCallError && err.status === 409) return undefined;
            throw err;
        }
    }

    /** Gives a lease back at once (no holder), so that any replica may take it without waiting. */
    async release(lease: LeaseRecord): Promise<void> {
        try {
            await this.api.replaceLease(this.settings.namespace, { ...lease, holderIdentity: "", renewTime: this.now() });
        } catch (err) {
            // 409: someone took it over already; anything else: it expires on its own.
            if (!(err instanceof ApiCallError)) throw err;
        }
    }
}
