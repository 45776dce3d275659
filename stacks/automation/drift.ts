import type { EngineEvent } from "@pulumi/pulumi/automation";
import { urnName } from "./events";
import { DriftedResource } from "./types";

/**
 * Drift: what a refresh in preview mode (`pulumi refresh --preview-only`) says about a stack,
 * as a list of the resources whose objects no longer match the state, read from the engine's
 * step events; and one line that names them for a status message. Pure.
 */

/** Step results that mean "the object is as the state says". */
const UNCHANGED = new Set(["same", "read", "discard", "read-discard"]);

/** The stack itself and the providers are not objects of the cluster: they never drift. */
function isBookkeeping(type: string): boolean {
    return type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:");
}

interface StepMetadata {
    op: string;
    urn: string;
    type: string;
    diffs?: string[];
    detailedDiff?: Record<string, unknown> | null;
}

/**
 * Collects the drifted resources of one refresh from its engine events. A refresh step carries
 * its result as the op (`update`: the object differs, `delete`: it is gone, `same`); an op of
 * `refresh` counts as drift only when the step names properties that differ. The last event of
 * a resource wins (the outputs event follows the pre event).
 */
export class DriftCollector {
    private readonly steps = new Map<string, DriftedResource | undefined>();

    /** Takes one engine event; ignores everything but resource steps. */
    handle(event: EngineEvent): void {
        const metadata = (event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata) as StepMetadata | undefined;
        if (metadata === undefined || isBookkeeping(metadata.type)) return;
        const properties = Object.keys(metadata.detailedDiff ?? {});
        const named = properties.length > 0 ? properties : metadata.diffs ?? [];
        const drifted = metadata.op === "refresh" ? named.length > 0 : !UNCHANGED.has(metadata.op);
        if (!drifted) {
            this.steps.set(metadata.urn, undefined);
            return;
        }
        const resource: DriftedResource = {
            urn: metadata.urn,
            type: metadata.type,
            name: urnName(metadata.urn),
            op: metadata.op === "refresh" ? "update" : metadata.op,
        };
        if (named.length > 0) resource.properties = [...named].sort();
        this.steps.set(metadata.urn, resource);
    }

    /** The drifted resources, in the order the engine first reported them. */
    get resources(): DriftedResource[] {
        return [...this.steps.values()].filter((r): r is DriftedResource => r !== undefined);
    }

    /** Resources the refresh looked at (drifted or not). */
    get checked(): number {
        return this.steps.size;
    }
}

/** `kubernetes:apps/v1:Deployment` gives `Deployment`. */
function kindOf(type: string): string {
    const colon = type.lastIndexOf(":");
    return colon >= 0 ? type.slice(colon + 1) : type;
}

const MAX_NAMED = 5;

/**
 * One line naming what drifted, e.g. `2 resources drifted: Deployment app (update: spec),
 * ConfigMap settings (deleted)`; at most five are named, the rest counted.
 */
export function driftSummary(drift: readonly DriftedResource[]): string {
    if (drift.length === 0) return "no resource drifted";
    const named = drift.slice(0, MAX_NAMED).map((r) => {
        const what = r.op === "delete" ? "deleted" : r.properties !== undefined ? `${r.op}: ${r.properties.slice(0, 3).join(", ")}${r.properties.length > 3 ? ", ..." : ""}` : r.op;
        return `${kindOf(r.type)} ${r.name} (${what})`;
    });
    const more = drift.length > MAX_NAMED ? ` and ${drift.length - MAX_NAMED} more` : "";
    return `${drift.length} resource${drift.length === 1 ? "" : "s"} drifted: ${named.join(", ")}${more}`;
}
