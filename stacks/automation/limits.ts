import { z } from "zod";
import { EnvironmentRecord } from "./types";
import { InputError } from "./validation";

/**
 * Fair limits on previews: at most so many per owner and per Project, so that one author (or one
 * busy repository) cannot take the cluster. Checked by `upPreview` before anything is created;
 * an update of a preview that exists already is never refused, so a capped owner can still push.
 * One schema for every source: the Project resource's `spec.limits` (stacks/resources/types.ts)
 * and the environment variables of direct mode both go through it.
 */

/** The largest cap accepted: anything larger is a typo, not a limit. */
export const MAX_PREVIEW_CAP = 1000;

const cap = z.number().int().min(1).max(MAX_PREVIEW_CAP);

/** The caps; a cap left out is no cap. Also the `limits` field of a Project's spec. */
export const previewLimitsSchema = z.strictObject({
    previewsPerOwner: cap.optional().meta({ description: "Previews one owner (the first of its owners, else the actor) may have in this Project at once." }),
    previewsPerProject: cap.optional().meta({ description: "Previews this Project may have at once." }),
});
export type PreviewLimits = z.infer<typeof previewLimitsSchema>;

/** Where direct mode (the CLI, the API) reads the caps: repository variables in CI. */
export const PREVIEW_LIMIT_ENV: Record<keyof PreviewLimits, string> = {
    previewsPerOwner: "CATALYST_PREVIEWS_PER_OWNER",
    previewsPerProject: "CATALYST_PREVIEWS_PER_PROJECT",
};

/** The caps set in `env`; an empty variable is no cap, a bad one throws naming it. */
export function previewLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): PreviewLimits {
    const limits: PreviewLimits = {};
    for (const [key, name] of Object.entries(PREVIEW_LIMIT_ENV) as [keyof PreviewLimits, string][]) {
        const text = env[name]?.trim();
        if (text === undefined || text === "") continue;
        if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > MAX_PREVIEW_CAP) {
            throw new InputError(name, `must be a whole number from 1 to ${MAX_PREVIEW_CAP} (or unset: no cap), got ${JSON.stringify(text)}`);
        }
        limits[key] = Number(text);
    }
    return limits;
}

/** The preview about to be created or updated. */
export interface PreviewClaim {
    stack: string;
    /** undefined: the default Project. */
    project?: string;
    owner: string;
}

/** Who counts against a cap, with the previews it counted. */
export interface PreviewRefusal {
    cap: keyof PreviewLimits;
    limit: number;
    /** The previews counted (oldest first). */
    previews: string[];
    /** One line for people: the cap, the owner or Project, and its current previews. */
    message: string;
}

function ageKey(record: EnvironmentRecord): string {
    return record.createdAt ?? record.updatedAt ?? record.lastUpdate ?? "";
}

/**
 * Whether `claim` would break a cap, given the backend's previews. Counts previews of the same
 * Project only (caps are Project config); a claim on a stack that exists already is an update
 * and always allowed. Expired previews still count until gc destroys them: the message names
 * them, because they are what `catalyst preview gc` collects first.
 */
export function checkPreviewLimits(previews: readonly EnvironmentRecord[], claim: PreviewClaim, limits: PreviewLimits, now = new Date()): PreviewRefusal | undefined {
    const project = previews.filter((p) => p.kind === "preview" && p.project === claim.project);
    if (project.some((p) => p.stack === claim.stack)) return undefined;
    const where = claim.project === undefined ? "the default Project" : `Project ${claim.project}`;
    const refuse = (cap: keyof PreviewLimits, limit: number, counted: EnvironmentRecord[], who: string | undefined): PreviewRefusal => {
        const sorted = [...counted].sort((a, b) => ageKey(a).localeCompare(ageKey(b)));
        const expired = sorted.filter((p) => p.expiresAt !== undefined && Date.parse(p.expiresAt) <= now.getTime()).map((p) => p.stack);
        const names = sorted.map((p) => p.stack);
        const hint = expired.length > 0 ? `; expired, collected by the next preview gc: ${expired.join(", ")}` : "";
        return {
            cap, limit, previews: names,
            message: `preview cap reached: ${who === undefined ? where : `owner ${who}`} already has ${names.length} preview(s)${who === undefined ? "" : ` in ${where}`} (${names.join(", ")}) ` +
                `and ${cap} is ${limit} (${PREVIEW_LIMIT_ENV[cap]} or the Project's spec.limits.${cap}); ` +
                `destroy one with catalyst preview down --pr <n> before ${claim.stack} can be created${hint}`,
        };
    };
    if (limits.previewsPerOwner !== undefined) {
        const owned = project.filter((p) => p.owner === claim.owner);
        if (owned.length >= limits.previewsPerOwner) return refuse("previewsPerOwner", limits.previewsPerOwner, owned, claim.owner);
    }
    if (limits.previewsPerProject !== undefined && project.length >= limits.previewsPerProject) {
        return refuse("previewsPerProject", limits.previewsPerProject, project, undefined);
    }
    return undefined;
}
