import { useEffect, useRef, useState } from "preact/hooks";
import { ApiFailure, call } from "./api";
import { Conditions } from "./conditions";
import { OperationHistory } from "./history";
import { LogView } from "./logs";
import { OperationProgress, StartedOperation } from "./progress";
import { StackResources } from "./stack-resources";
import { canChange, EnvironmentDetail, formatTime, podAge, statusOf, until } from "./view";

/** One environment: status, conditions, outputs, pods, events, logs, kubeconfig how-to, and the owner's actions. */
export function EnvironmentPage({ name, user }: { name: string; user: string }) {
    const [env, setEnv] = useState<EnvironmentDetail | undefined>();
    const [error, setError] = useState<string | undefined>();
    const [operation, setOperation] = useState<StartedOperation | undefined>();
    const [running, setRunning] = useState(false);
    const [actionError, setActionError] = useState<string | undefined>();
    // Bumped on every load, so the history and the resources are read again after an action.
    const [version, setVersion] = useState(0);
    const load = () => call<EnvironmentDetail>("GET", `/environments/${encodeURIComponent(name)}`).then((detail) => {
        setEnv(detail);
        setVersion((v) => v + 1);
    }, (err: unknown) => setError(err instanceof ApiFailure ? err.message : String(err)));
    useEffect(() => {
        void load();
    }, [name]);
    if (error) return <><h1>{name}</h1><p class="error" role="alert">{error}</p><p><a href="#/">Back to the list</a></p></>;
    if (env === undefined) return <p class="loading">Loading {name}…</p>;
    const status = statusOf(env);
    const owner = canChange(env, user);
    const started = (op: { id: string; stack: string; action: string }) => {
        setActionError(undefined);
        setOperation({ ...op, startedAt: Date.now() });
        setRunning(true);
    };
    const ended = (result: string) => {
        // The finished operation's panel stays with its result; the actions are offered again.
        setRunning(false);
        if (operation?.action === "destroy" && result === "succeeded") location.hash = "#/";
        else void load();
    };
    return (
        <>
            <p class="crumbs"><a href="#/">Environments</a> / {env.stack}</p>
            <h1>{env.stack}</h1>
            <div class="cards">
                <section aria-labelledby="status-title">
                    <h2 id="status-title">Status</h2>
                    <dl class="facts">
                        <dt>Status</dt><dd><span class={`status s-${status.word.replace(" ", "-")}`}>{status.word}</span>{status.reason ? ` (${status.reason})` : ""}</dd>
                        <dt>Last update</dt><dd>{env.lastResult ?? "—"}, {formatTime(env.lastUpdate)}</dd>
                        <dt>Resources</dt><dd>{env.resourceCount ?? 0}{env.pendingOperations > 0 ? `, ${env.pendingOperations} interrupted` : ""}</dd>
                        <dt>Type</dt><dd>{env.kind}{env.project ? ` of project ${env.project}` : ""}</dd>
                        <dt>PR and branch</dt><dd>{env.pr !== undefined ? `#${env.pr} ` : ""}{env.branch ?? "—"}{env.sha ? ` @ ${env.sha.slice(0, 7)}` : ""}</dd>
                        <dt>Owner</dt><dd>{env.owner ?? "—"}</dd>
                        <dt>Namespace</dt><dd>{env.namespace ?? "—"}</dd>
                        <dt>URL</dt><dd>{env.url ? <a href={env.url} rel="noopener noreferrer" target="_blank">{env.url}</a> : "—"}</dd>
                        <dt>Created</dt><dd>{formatTime(env.createdAt)}</dd>
                        <dt>Expires</dt><dd data-testid="expires">{env.expiresAt ? `${formatTime(env.expiresAt)} (${until(env.expiresAt, Date.now())})` : "never"}</dd>
                    </dl>
                </section>
                <section aria-labelledby="actions-title">
                    <h2 id="actions-title">Actions</h2>
                    {owner ? <Actions env={env} onStarted={started} onError={setActionError} busy={running} /> : <p class="help">{env.kind === "preview" ? `Only the owners of ${env.stack} may change it.` : `${env.kind} environments are read-only here.`}</p>}
                    {actionError && <p class="error" role="alert">{actionError}</p>}
                    {operation && <OperationProgress operation={operation} onEnd={ended} />}
                    <h3>Kubeconfig</h3>
                    <p class="help">A namespace-scoped kubeconfig (1 hour token) for owners: <code>curl -s -H "authorization: Bearer $CATALYST_TOKEN" {location.origin}/environments/{env.stack}/kubeconfig | jq -r .kubeconfig &gt; kubeconfig</code>, then <code>KUBECONFIG=kubeconfig kubectl get pods</code>.</p>
                    {owner && <KubeconfigDownload name={env.stack} />}
                </section>
            </div>
            <Conditions conditions={env.conditions} />
            <OperationHistory name={env.stack} version={version} />
            <section aria-labelledby="pods-title">
                <h2 id="pods-title">Pods</h2>
                {env.clusterError && <p class="error">Cluster: {env.clusterError}</p>}
                <div class="table-wrap">
                    <table data-testid="pods">
                        <thead><tr><th scope="col">Pod</th><th scope="col">Phase</th><th scope="col">Ready</th><th scope="col">Restarts</th><th scope="col">Age</th><th scope="col">Node</th></tr></thead>
                        <tbody>
                            {(env.pods ?? []).map((p) => <tr key={p.name}><th scope="row" data-label="Pod">{p.name}</th><td data-label="Phase">{p.phase ?? "—"}</td><td data-label="Ready">{p.ready ? "yes" : "no"}</td><td data-label="Restarts">{p.restarts}</td><td data-label="Age" data-testid="pod-age" title={formatTime(p.startedAt ?? p.createdAt)}>{podAge(p, Date.now())}</td><td data-label="Node">{p.node ?? "—"}</td></tr>)}
                            {(env.pods ?? []).length === 0 && <tr><td colSpan={6}>No pods.</td></tr>}
                        </tbody>
                    </table>
                </div>
            </section>
            <section aria-labelledby="events-title">
                <h2 id="events-title">Recent events</h2>
                <ul class="events">
                    {(env.events ?? []).map((e, i) => <li key={i}><time>{formatTime(e.time)}</time> <span class={e.type === "Warning" ? "warn" : ""}>{e.reason ?? e.type}</span> {e.object}: {e.message}</li>)}
                    {(env.events ?? []).length === 0 && <li>No recent events.</li>}
                </ul>
            </section>
            {owner && (env.pods ?? []).length > 0 ? <LogView environment={env.stack} pods={(env.pods ?? []).map((p) => p.name)} /> : <section><h2>Logs</h2><p class="help">{owner ? "No pods to read logs from." : "Logs are for the environment's owners."}</p></section>}
            <StackResources name={env.stack} version={version} />
            <section aria-labelledby="outputs-title">
                <h2 id="outputs-title">Stack outputs</h2>
                <pre class="outputs">{JSON.stringify(env.outputs, null, 2)}</pre>
            </section>
        </>
    );
}

/** Destroy (with a confirmation naming the environment) and extend the time to live. */
function Actions({ env, onStarted, onError, busy }: { env: EnvironmentDetail; onStarted: (op: { id: string; stack: string; action: string }) => void; onError: (message: string) => void; busy: boolean }) {
    const dialog = useRef<HTMLDialogElement>(null);
    const [ttl, setTtl] = useState("72h");
    const run = async (method: string, path: string, body?: unknown) => {
        try {
            const answer = await call<{ operation?: { id: string; stack: string; action: string } }>(method, path, body);
            if (answer.operation) onStarted(answer.operation);
        } catch (err) {
            onError(err instanceof ApiFailure ? `${err.status}: ${err.message}` : String(err));
        }
    };
    return (
        <>
            <form class="inline" onSubmit={(e) => {
                e.preventDefault();
                // Updating the preview with a new ttl moves its expiry (POST /previews updates an existing preview).
                void run("POST", "/previews", { pr: env.pr, branch: env.branch, ...(env.image ? { image: env.image } : {}), ttl });
            }}>
                <label for="ttl">Extend: time to live from now</label>
                <input id="ttl" value={ttl} onInput={(e) => setTtl((e.target as HTMLInputElement).value)} />
                <button type="submit" class="secondary" disabled={busy}>Extend</button>
            </form>
            <button type="button" class="danger" disabled={busy} onClick={() => dialog.current?.showModal()}>Destroy {env.stack}…</button>
            <dialog ref={dialog} aria-labelledby="confirm-title">
                <form method="dialog" onSubmit={(e) => {
                    const confirmed = (e.submitter as HTMLButtonElement | null)?.value === "destroy";
                    if (confirmed) void run("DELETE", `/environments/${encodeURIComponent(env.stack)}`);
                }}>
                    <h2 id="confirm-title">Destroy {env.stack}?</h2>
                    <p>Every resource of <strong>{env.stack}</strong>{env.namespace ? ` and the namespace ${env.namespace}` : ""} will be deleted, with its data. This cannot be undone.</p>
                    <div class="buttons">
                        <button type="submit" value="cancel" class="secondary" autoFocus>Cancel</button>
                        <button type="submit" value="destroy" class="danger">Destroy {env.stack}</button>
                    </div>
                </form>
            </dialog>
        </>
    );
}

/** Fetches the namespace kubeconfig and hands it to the browser as a file. */
function KubeconfigDownload({ name }: { name: string }) {
    const [error, setError] = useState<string | undefined>();
    const download = async () => {
        try {
            const { kubeconfig } = await call<{ kubeconfig: string }>("GET", `/environments/${encodeURIComponent(name)}/kubeconfig`);
            const url = URL.createObjectURL(new Blob([typeof kubeconfig === "string" ? kubeconfig : JSON.stringify(kubeconfig, null, 2)], { type: "application/yaml" }));
            const a = document.createElement("a");
            a.href = url;
            a.download = `${name}.kubeconfig`;
            a.click();
            URL.revokeObjectURL(url);
        } catch (err) {
            setError(err instanceof ApiFailure ? err.message : String(err));
        }
    };
    return <><button type="button" class="secondary" onClick={download}>Download kubeconfig</button>{error && <p class="error" role="alert">{error}</p>}</>;
}
