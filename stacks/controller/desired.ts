import { environmentResourceStackName, NameError } from "../../components/naming";
import type { PreviewLimits } from "../automation/limits";
import { InputError } from "../automation/validation";
import { parseBranch, parseDurationInput, parseImage, parseOwners, parseSha } from "../automation/validation";
import { ENVIRONMENT_SECRET_KEYS, environmentSchema } from "../config/environment-schema";
import { ConfigError, parseConfig } from "../config/validate";
import { EnvironmentObject, ProjectObject } from "../resources/types";

/**
 * What an Environment asks for, checked with the stack config's own rules (deeper than the CRD
 * schema the API server enforces): the stack it maps to and the arguments of the automation
 * call, or the first problem, naming the field. Pure.
 */

/** The automation call an Environment maps to. */
export interface DesiredStack {
    stack: string;
    /** `spec.project`: its stacks are `pr-<n>--<project>` and so on, except the default Project's. */
    project: string;
    type: EnvironmentObject["spec"]["type"];
    pr?: number;
    branch?: string;
    sha?: string;
    image?: string;
    owners?: string[];
    /** Milliseconds; undefined: no expiry. */
    ttlMs?: number;
    /** `spec.sleep`: true asleep, false awake, undefined as it is. */
    sleep?: boolean;
    /** Stack config (`catalyst:<key>` to value) laid over the template. */
    config: Record<string, unknown>;
    /** The Project's caps on previews (`spec.limits`), checked before a new preview is created. */
    limits?: PreviewLimits;
}

/** Why an Environment cannot be reconciled as it stands (a spec problem, not a failure). */
export class SpecError extends Error {
    constructor(public readonly reason: string, message: string) {
        super(message);
        this.name = "SpecError";
    }
}

function overridesProblem(values: Record<string, unknown> | undefined, field: string): string | undefined {
    if (values === undefined) return undefined;
    const secret = Object.keys(values).find((key) => (ENVIRONMENT_SECRET_KEYS as readonly string[]).includes(key));
    if (secret !== undefined) {
        return `${field}.${secret}: holds secrets, which a resource must not carry; set it as a Pulumi secret on the stack`;
    }
    try {
        parseConfig("catalyst", environmentSchema, values);
        return undefined;
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems.map((p) => p.replace(/^catalyst:/, `${field}.`)).join("; ");
    }
}

/**
 * The stack and call of `environment`; throws {@link SpecError} naming the field. `siblings`
 * are the other Environments of the namespace: an older one mapping to the same stack owns it.
 */
export function desiredStack(environment: EnvironmentObject, project: ProjectObject | undefined, siblings: readonly EnvironmentObject[] = []): DesiredStack {
    const { spec, metadata } = environment;
    if (project === undefined) {
        throw new SpecError("ProjectNotFound", `spec.project: project "${spec.project}" does not exist in namespace ${metadata.namespace}; create it first`);
    }
    try {
        const stack = environmentResourceStackName({ project: spec.project, type: spec.type, pullRequest: spec.pullRequest, name: metadata.name });
        const owner = siblings.find((other) => other.metadata.uid !== metadata.uid && other.metadata.deletionTimestamp === undefined &&
            safeStack(other) === stack && (other.metadata.creationTimestamp ?? "") < (metadata.creationTimestamp ?? ""));
        if (owner !== undefined) {
            throw new SpecError("StackTaken", `spec: the stack ${stack} belongs to Environment ${owner.metadata.name}; one Environment per stack`);
        }
        const image = spec.image ?? project.spec.source?.image;
        const desired: DesiredStack = {
            stack,
            project: spec.project,
            type: spec.type,
            pr: spec.pullRequest,
            branch: spec.branch === undefined ? undefined : parseBranch(spec.branch, "spec.branch"),
            sha: spec.sha === undefined ? undefined : parseSha(spec.sha, "spec.sha"),
            image: image === undefined ? undefined : parseImage(image, spec.image === undefined ? "project spec.source.image" : "spec.image"),
            owners: spec.owners === undefined ? undefined : parseOwners(spec.owners, "spec.owners"),
            ...(spec.sleep === undefined ? {} : { sleep: spec.sleep }),
            config: {},
        };
        if (spec.type === "preview" && project.spec.limits !== undefined) desired.limits = project.spec.limits;
        const ttl = spec.ttl ?? project.spec.defaults?.ttl;
        if (ttl !== undefined) {
            const ms = parseDurationInput(ttl, spec.ttl === undefined ? "project spec.defaults.ttl" : "spec.ttl");
            desired.ttlMs = ms > 0 ? ms : undefined;
        }
        const template = spec.type === "preview" ? project.spec.preview?.config : undefined;
        const problem = overridesProblem(template, `project ${project.metadata.name} spec.preview.config`) ?? overridesProblem(spec.overrides, "spec.overrides");
        if (problem !== undefined) throw new SpecError("InvalidSpec", problem);
        const services: Record<string, unknown> = {};
        if (project.spec.services?.postgres === false) services.database = { mode: "none" };
        if (project.spec.services?.redis === false) services.redis = { enabled: false };
        for (const [key, value] of Object.entries({ ...services, ...template, ...spec.overrides })) {
            desired.config[`catalyst:${key}`] = value;
        }
        if (desired.owners !== undefined && spec.type !== "preview") {
            desired.config["catalyst:access"] = { owners: { users: desired.owners } };
        }
        return desired;
    } catch (err) {
        if (err instanceof InputError || err instanceof NameError) throw new SpecError("InvalidSpec", err.message);
        throw err;
    }
}

function safeStack(environment: EnvironmentObject): string | undefined {
    try {
        return environmentResourceStackName({ project: environment.spec.project, type: environment.spec.type, pullRequest: environment.spec.pullRequest, name: environment.metadata.name });
    } catch {
        return undefined;
    }
}
