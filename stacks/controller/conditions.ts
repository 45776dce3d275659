import { Condition, ConditionType } from "../resources/types";

/**
 * Status conditions in the standard shape (metav1.Condition): one per type, the transition time
 * kept while the status stays the same, so that `kubectl wait --for=condition=Ready` and
 * dashboards read them as they read any controller's. Pure.
 */

/** A condition to set: its type, status, reason and message. */
export interface ConditionUpdate {
    type: ConditionType;
    status: Condition["status"];
    reason: string;
    message: string;
}

/** `conditions` with each update applied at `generation`; the others are kept as they are. */
export function setConditions(conditions: readonly Condition[] | undefined, updates: ConditionUpdate[], generation: number, now: Date = new Date()): Condition[] {
    const result = [...(conditions ?? [])];
    for (const update of updates) {
        const index = result.findIndex((c) => c.type === update.type);
        const previous = index >= 0 ? result[index] : undefined;
        const next: Condition = {
            type: update.type,
            status: update.status,
            reason: update.reason,
            message: update.message.slice(0, 32768),
            lastTransitionTime: previous !== undefined && previous.status === update.status ? previous.lastTransitionTime : now.toISOString(),
            observedGeneration: generation,
        };
        if (index >= 0) result[index] = next;
        else result.push(next);
    }
    return result;
}

/** The condition of `type`, if set. */
export function condition(conditions: readonly Condition[] | undefined, type: ConditionType): Condition | undefined {
    return conditions?.find((c) => c.type === type);
}

/** True when the condition of `type` is True at `generation`. */
export function isTrue(conditions: readonly Condition[] | undefined, type: ConditionType, generation?: number): boolean {
    const found = condition(conditions, type);
    return found?.status === "True" && (generation === undefined || found.observedGeneration === generation);
}
