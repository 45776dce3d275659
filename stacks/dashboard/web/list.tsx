import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiFailure, call } from "./api";
import { CreatePreview } from "./create";
import { OperationProgress, StartedOperation } from "./progress";
import { Activity, age, distinct, EnvironmentRow, filterRows, Filters, formatTime, NO_FILTERS, projectOf, sortRows, statusOf, until } from "./view";

/**
 * `GET /environments` and `GET /events` (activity) together: the list reloads when an
 * operation moves on or ends, so it stays current without a page reload. A slow poll covers
 * what the server does not run itself (resource mode, the CLI).
 */
function useEnvironments(): { rows: EnvironmentRow[]; activities: Map<string, Activity>; error?: string; reload: () => void } {
    const [rows, setRows] = useState<EnvironmentRow[]>([]);
    const [activities, setActivities] = useState(new Map<string, Activity>());
    const [error, setError] = useState<string | undefined>();
    const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
    const load = () => call<{ environments: EnvironmentRow[] }>("GET", "/environments").then((a) => {
        setRows(a.environments);
        setError(undefined);
    }, (err: unknown) => setError(err instanceof ApiFailure ? err.message : String(err)));
    const soon = () => {
        if (pending.current === undefined) pending.current = setTimeout(() => {
            pending.current = undefined;
            void load();
        }, 500);
    };
    useEffect(() => {
        void load();
        const source = new EventSource("/events");
        source.addEventListener("activity", ((e: MessageEvent<string>) => {
            const activity = JSON.parse(e.data) as Activity;
            setActivities((m) => new Map(m).set(activity.stack, activity));
            soon();
        }) as EventListener);
        const poll = setInterval(() => void load(), 30_000);
        return () => {
            source.close();
            clearInterval(poll);
            clearTimeout(pending.current);
        };
    }, []);
    return { rows, activities, error, reload: soon };
}

const STATUSES = ["ready", "updating", "destroying", "failed", "needs repair", "empty"];

/** The environments page: filters, search, the table, and the create form with its progress. */
export function ListPage() {
    const { rows, activities, error, reload } = useEnvironments();
    const [filters, setFilters] = useState<Filters>(NO_FILTERS);
    const [started, setStarted] = useState<StartedOperation[]>([]);
    const [now, setNow] = useState(Date.now());
    useEffect(() => {
        const t = setInterval(() => setNow(Date.now()), 30_000);
        return () => clearInterval(t);
    }, []);
    // Stacks an operation is creating that the backend does not list yet.
    const all = useMemo(() => {
        const known = new Set(rows.map((r) => r.stack));
        const coming = [...activities.values()].filter((a) => a.state === "running" && !known.has(a.stack)).map((a): EnvironmentRow => ({ stack: a.stack, kind: "preview", owner: undefined }));
        return sortRows([...rows, ...coming]);
    }, [rows, activities]);
    const shown = filterRows(all, filters, activities);
    const set = (key: keyof Filters) => (e: Event) => setFilters({ ...filters, [key]: (e.target as HTMLInputElement).value });
    const select = (key: keyof Filters, label: string, options: string[]) => (
        <div class="field">
            <label for={`filter-${key}`}>{label}</label>
            <select id={`filter-${key}`} value={filters[key]} onChange={set(key)}>
                <option value="">any</option>
                {options.map((o) => <option key={o} value={o}>{o}</option>)}
            </select>
        </div>
    );
    return (
        <>
            <h1>Environments</h1>
            <div class="filters" role="search">
                <div class="field grow">
                    <label for="search">Search</label>
                    <input id="search" type="search" placeholder="stack, branch, owner, #PR, URL" value={filters.search} onInput={set("search")} />
                </div>
                {select("project", "Project", distinct(all, projectOf))}
                {select("kind", "Type", distinct(all, (r) => r.kind))}
                {select("owner", "Owner", distinct(all, (r) => r.owner))}
                {select("status", "Status", STATUSES)}
            </div>
            {error && <p class="error" role="alert">{error}</p>}
            <p class="count" aria-live="polite">{shown.length} of {all.length} environments</p>
            <div class="table-wrap">
                <table class="envs" data-testid="environments">
                    <caption class="visually-hidden">Environments across projects</caption>
                    <thead><tr><th scope="col">Environment</th><th scope="col">Project</th><th scope="col">Type</th><th scope="col">PR and branch</th><th scope="col">Owner</th><th scope="col">Status</th><th scope="col">URL</th><th scope="col">Age</th><th scope="col">Expires</th></tr></thead>
                    <tbody>
                        {shown.map((row) => {
                            const status = statusOf(row, activities.get(row.stack));
                            return (
                                <tr key={row.stack} data-stack={row.stack}>
                                    <th scope="row" data-label="Environment"><a href={`#/environments/${row.stack}`}>{row.stack}</a></th>
                                    <td data-label="Project">{projectOf(row)}</td>
                                    <td data-label="Type">{row.kind}</td>
                                    <td data-label="PR and branch"><span>{row.pr !== undefined ? `#${row.pr}` : "—"}{row.branch ? <span class="branch"> {row.branch}</span> : null}</span></td>
                                    <td data-label="Owner">{row.owner ?? "—"}</td>
                                    <td data-label="Status"><span><span class={`status s-${status.word.replace(" ", "-")}`} data-testid="status">{status.word}</span>{status.reason && <span class="reason"> {status.reason}</span>}</span></td>
                                    <td data-label="URL">{row.url ? <a href={row.url} rel="noopener noreferrer" target="_blank">{row.url.replace(/^https?:\/\//, "")}</a> : "—"}</td>
                                    <td data-label="Age" title={formatTime(row.createdAt)}>{age(row.createdAt, now)}</td>
                                    <td data-label="Expires" title={formatTime(row.expiresAt)}>{row.expiresAt ? until(row.expiresAt, now) : row.kind === "preview" ? "—" : "never"}</td>
                                </tr>
                            );
                        })}
                        {shown.length === 0 && <tr><td colSpan={9}>No environment matches.</td></tr>}
                    </tbody>
                </table>
            </div>
            {started.map((op) => <OperationProgress key={op.id} operation={op} onEnd={reload} />)}
            <CreatePreview onStarted={(op) => setStarted((s) => [op, ...s.filter((x) => x.stack !== op.stack)])} />
        </>
    );
}
