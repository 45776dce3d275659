import { readdirSync, statSync, unlinkSync } from "fs";
import { homedir } from "os";
import * as path from "path";

/**
 * Repair of a DIY file backend after a killed write. The backend stores every object (a
 * checkpoint, its backup, the tags, a lock, a history entry) through gocloud's fileblob, which
 * writes the object itself atomically (a temporary file, then a rename) but its metadata sidecar
 * `<object>.attrs` in place: the file is created empty and then written. A `pulumi` process killed
 * between the two leaves an empty sidecar, and from then on every read of that object fails with
 * `failed to load checkpoint: EOF`: the stack cannot be updated, destroyed or even listed, and
 * `pulumi stack ls` fails for every stack of the project. A missing sidecar is read as "no
 * attributes", which Pulumi does not use, so removing the empty one makes the object readable
 * again, holding its last complete write. That is safe even while a write is in progress, with no
 * wait for one: the writer fills the unlinked file and the object simply ends up without sidecar.
 * The removal runs first thing in every worker, right after a killed operation too.
 */

const SIDECAR_SUFFIX = ".attrs";

/** The directory of a `file://` backend URL (`~` is the home directory), else undefined. */
export function fileBackendRoot(url: string | undefined): string | undefined {
    if (url === undefined || !url.startsWith("file://")) {
        return undefined;
    }
    const location = decodeURIComponent(url.slice("file://".length).split("?")[0]);
    if (location === "~" || location.startsWith("~/")) {
        return path.join(homedir(), location.slice(1));
    }
    return location === "" ? undefined : path.resolve(location);
}

/** The folders whose sidecars belong to a project's stacks, and to one stack's locks and history. */
function folders(root: string, project: string, stack?: string): string[] {
    const base = path.join(root, ".pulumi");
    const list = [path.join(base, "stacks", project), path.join(base, "stacks")];
    if (stack !== undefined) {
        list.push(path.join(base, "locks", project, stack), path.join(base, "history", project, stack));
    }
    return list;
}

/**
 * Removes the empty sidecars beside the stack objects of a project (and, with `stack`, beside that stack's locks and history entries). Returns the removed
 * files, relative to the backend's directory.
 */
export function removeEmptySidecars(root: string | undefined, project: string, stack?: string): string[] {
    if (root === undefined) {
        return [];
    }
    const removed: string[] = [];
    for (const folder of folders(root, project, stack)) {
        let names: string[];
        try {
            names = readdirSync(folder);
        } catch {
            continue; // no such folder: nothing was written there yet
        }
        for (const name of names.filter((n) => n.endsWith(SIDECAR_SUFFIX))) {
            const file = path.join(folder, name);
            try {
                const stat = statSync(file);
                if (stat.isFile() && stat.size === 0) {
                    unlinkSync(file);
                    removed.push(path.relative(root, file));
                }
            } catch {
                // removed by someone else meanwhile
            }
        }
    }
    return removed;
}
