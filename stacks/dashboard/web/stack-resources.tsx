import { useEffect, useState } from "preact/hooks";
import { ApiFailure, call } from "./api";
import { groupResources, parentName, StackResource } from "./view";

/**
 * The resources the stack's state holds (`GET /environments/:name/resources`: type, name, URN,
 * parent, provider; never inputs or outputs), grouped by type, each group collapsible.
 */
export function StackResources({ name, version }: { name: string; version: number }) {
    const [resources, setResources] = useState<StackResource[] | undefined>();
    const [error, setError] = useState<string | undefined>();
    useEffect(() => {
        call<{ resources: StackResource[] }>("GET", `/environments/${encodeURIComponent(name)}/resources`).then((a) => {
            setResources(a.resources);
            setError(undefined);
        }, (err: unknown) => setError(err instanceof ApiFailure ? err.message : String(err)));
    }, [name, version]);
    const groups = groupResources(resources ?? []);
    return (
        <section aria-labelledby="resources-title" data-testid="resources">
            <h2 id="resources-title">Resources</h2>
            {error && <p class="error" role="alert">{error}</p>}
            {resources === undefined && error === undefined && <p class="loading">Loading…</p>}
            {resources !== undefined && <p class="count">{resources.length} resources of {groups.length} types</p>}
            {groups.map((group) => (
                <details key={group.type} class="resource-group" data-type={group.type}>
                    <summary><code>{group.type}</code> ({group.resources.length})</summary>
                    <ul>
                        {group.resources.map((r) => <li key={r.urn} title={r.urn}>{r.name}{parentName(r) !== undefined && <span class="help"> in {parentName(r)}</span>}</li>)}
                    </ul>
                </details>
            ))}
        </section>
    );
}
