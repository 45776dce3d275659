import { urnName } from "./events";
import { StackResource } from "./types";

/**
 * The resources a stack's state holds (`pulumi stack export`, read by catalog.ts), reduced to
 * what names and links them: type, name, URN, parent, provider. Inputs and outputs never leave
 * here, so no secret can, and the export is read without `--show-secrets`.
 */

/** The resources of an exported deployment, in the state's order (parents before children). */
export function resourcesOf(deployment: unknown): StackResource[] {
    const resources = (deployment as { resources?: unknown } | undefined)?.resources;
    if (!Array.isArray(resources)) return [];
    return resources.filter((r): r is Record<string, unknown> => typeof r === "object" && r !== null && typeof r.urn === "string" && typeof r.type === "string")
        // Resources marked for deletion are the old halves of replacements still in the state: not held.
        .filter((r) => r.delete !== true)
        .map((r) => {
            const resource: StackResource = { type: r.type as string, name: urnName(r.urn as string), urn: r.urn as string, custom: r.custom === true };
            if (typeof r.parent === "string" && r.parent !== "") resource.parent = r.parent;
            // A provider reference is `<provider urn>::<provider id>`: the URN names it.
            if (typeof r.provider === "string" && r.provider !== "") resource.provider = providerUrn(r.provider);
            return resource;
        });
}

/** The URN of a provider reference (`urn:pulumi:...::default_4_25_0::<uuid>` gives the URN). */
export function providerUrn(reference: string): string {
    const index = reference.lastIndexOf("::");
    return index > 0 && reference.slice(0, index).split("::").length >= 4 ? reference.slice(0, index) : reference;
}
