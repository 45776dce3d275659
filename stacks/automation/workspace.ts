import { existsSync, mkdirSync, rmSync } from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { LocalWorkspace, ProjectSettings, PulumiCommand } from "@pulumi/pulumi/automation";

/**
 * Work directories: every stack operation runs in `.catalyst/work/<stack>/`, which holds a
 * generated `Pulumi.yaml` (the repository's project settings with `main` pointing back at the
 * repository root, so the program is the project's index.ts) and that stack's
 * `Pulumi.<stack>.yaml`. Concurrent stacks never write the same files and the repository stays
 * clean. The stack file is kept between operations: the passphrase secrets provider keeps its
 * salt there (and engine.ts restores the salt from the state when a fresh clone lacks the file).
 */

/** The repository root: the directory holding Pulumi.yaml and index.ts. */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Where work dirs live by default. */
export function defaultWorkRoot(repoRoot: string = REPO_ROOT): string {
    return path.join(repoRoot, ".catalyst", "work");
}

/** The work dir of `stack`. Stack names are DNS labels, so they are safe path segments. */
export function workDirOf(workRoot: string, stack: string): string {
    if (!/^[a-z0-9][-a-z0-9]*$/.test(stack)) {
        throw new Error(`refusing a work dir for the unchecked stack name ${JSON.stringify(stack)}`);
    }
    return path.join(workRoot, stack);
}

/** The read-only work dir used to list stacks and read tags and state. */
export function catalogDirOf(workRoot: string): string {
    return path.join(workRoot, ".catalog");
}

/**
 * The project settings of a work dir: the repository's own, with `main` pointing at the
 * repository root (relative, so the checkout may move).
 */
export function workProjectSettings(repoSettings: ProjectSettings, repoRoot: string, workDir: string): ProjectSettings {
    const relative = path.relative(workDir, repoRoot);
    return { ...repoSettings, main: relative === "" ? "." : relative };
}

/**
 * Creates (or refreshes) the work dir of `stack` with its Pulumi.yaml and returns it. The
 * project file is read and written through the Automation API's project settings, and only
 * written when it changed; nothing else in the directory is touched.
 */
export async function prepareWorkDir(repoRoot: string, workRoot: string, stack: string, pulumiCommand?: PulumiCommand): Promise<string> {
    const dir = stack === ".catalog" ? catalogDirOf(workRoot) : workDirOf(workRoot, stack);
    mkdirSync(dir, { recursive: true });
    const command = pulumiCommand ?? (await PulumiCommand.get());
    const repo = await LocalWorkspace.create({ workDir: repoRoot, pulumiCommand: command });
    const wanted = workProjectSettings(await repo.projectSettings(), repoRoot, dir);
    const work = await LocalWorkspace.create({ workDir: dir, pulumiCommand: command });
    const current = existsSync(path.join(dir, "Pulumi.yaml")) ? await work.projectSettings().catch(() => undefined) : undefined;
    if (!isDeepStrictEqual(current, wanted)) {
        await work.saveProjectSettings(wanted);
    }
    return dir;
}

/** The path of a stack's settings file in a directory. */
export function stackFileOf(dir: string, stack: string): string {
    return path.join(dir, `Pulumi.${stack}.yaml`);
}

/** Removes the work dir of a stack that no longer exists (its salt is no longer needed). */
export function removeWorkDir(workRoot: string, stack: string): void {
    rmSync(workDirOf(workRoot, stack), { recursive: true, force: true });
}
