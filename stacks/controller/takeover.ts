import type { CallOptions } from "../automation/executor";
import type { StackOperations } from "./reconcile";

/**
 * What a replica's Lease vouches for in the stack operations it runs while holding it:
 * - `deadLockHosts`: the replica took the Lease over from a holder that let it expire without
 *   giving it back (a released Lease has no holder), so that holder is gone and its backend lock
 *   is stale, even on another machine, where the library cannot look at its pid. The holder's
 *   identity is its pod name, which is the host name its `pulumi` wrote into the lock;
 * - `signal`: fires when this replica can no longer be sure it holds the Lease, and stops the
 *   operation before another replica may take the Lease over and remove this one's lock.
 */
export type LeaseCall = Pick<CallOptions, "signal" | "deadLockHosts">;

/** `stacks` with `lease` merged into every call's options. */
export function leaseBound(stacks: StackOperations, lease: LeaseCall): StackOperations {
    const merge = (call: CallOptions = {}): CallOptions => ({ ...call, ...lease });
    return {
        upPreview: (args, call) => stacks.upPreview(args, merge(call)),
        up: (name, args, call) => stacks.up(name, args, merge(call)),
        destroyPreview: (pr, call) => stacks.destroyPreview(pr, merge(call)),
        destroy: (name, call) => stacks.destroy(name, merge(call)),
        checkDrift: (stack, call) => stacks.checkDrift(stack, merge(call)),
    };
}

/**
 * Whether a replica whose last successful renewal was at `renewedAt` must stop its work at `now`:
 * after two thirds of the lease duration without a renewal, one third is left for the operation
 * to stop gracefully (and give its backend lock back) before the Lease expires and another
 * replica may take it over.
 */
export function mustStop(renewedAt: number, durationSeconds: number, now: number): boolean {
    return now - renewedAt >= (durationSeconds * 1000 * 2) / 3;
}
