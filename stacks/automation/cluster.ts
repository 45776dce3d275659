import { execFile } from "child_process";
import { NamespaceInfo, PREVIEW_NAMESPACE_SELECTOR } from "./gc";

/**
 * The few direct reads and writes of the cluster the layer makes, through `kubectl` (on PATH from
 * tools/env.sh, against KUBECONFIG): listing preview namespaces for gc, and deleting an orphan
 * namespace when explicitly asked. Stacks themselves are only ever changed through Pulumi.
 */

/** Runs kubectl; rejects with its first error line. */
export function kubectl(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("kubectl", [...args, "--request-timeout=60s"], { env: process.env, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
            if (err) {
                reject(new Error(stderr.trim().split("\n")[0] || err.message));
            } else {
                resolve(stdout);
            }
        });
    });
}

/** Namespaces labelled as previews, from the cluster of KUBECONFIG. */
export async function listPreviewNamespaces(): Promise<NamespaceInfo[]> {
    const list = JSON.parse(await kubectl(["get", "namespaces", "-l", PREVIEW_NAMESPACE_SELECTOR, "-o", "json"])) as {
        items: { metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string } }[];
    };
    return list.items.map((item) => ({
        name: item.metadata.name,
        labels: item.metadata.labels ?? {},
        terminating: item.metadata.deletionTimestamp !== undefined,
    }));
}

