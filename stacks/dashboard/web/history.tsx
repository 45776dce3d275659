import { useEffect, useState } from "preact/hooks";
import { ApiFailure, call } from "./api";
import { changesText, formatTime, operationDuration, StackOperation } from "./view";

/** Operations the page lists. */
const LIMIT = 10;

/**
 * The stack's last operations (`GET /environments/:name/operations`): every update, destroy or
 * refresh the backend recorded, whoever ran it. `version` changes when an action of the page
 * ended, so the new operation shows.
 */
export function OperationHistory({ name, version }: { name: string; version: number }) {
    const [operations, setOperations] = useState<StackOperation[] | undefined>();
    const [error, setError] = useState<string | undefined>();
    useEffect(() => {
        call<{ operations: StackOperation[] }>("GET", `/environments/${encodeURIComponent(name)}/operations?limit=${LIMIT}`).then((a) => {
            setOperations(a.operations);
            setError(undefined);
        }, (err: unknown) => setError(err instanceof ApiFailure ? err.message : String(err)));
    }, [name, version]);
    return (
        <section aria-labelledby="history-title">
            <h2 id="history-title">Last operations</h2>
            {error && <p class="error" role="alert">{error}</p>}
            {operations === undefined && error === undefined && <p class="loading">Loading…</p>}
            {operations !== undefined && (
                <div class="table-wrap">
                    <table data-testid="history">
                        <thead><tr><th scope="col">Operation</th><th scope="col">Result</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Changes</th></tr></thead>
                        <tbody>
                            {operations.map((op, i) => (
                                <tr key={`${op.startTime}-${i}`} data-kind={op.kind} data-result={op.result}>
                                    <th scope="row" data-label="Operation" title={op.message}>{op.kind}</th>
                                    <td data-label="Result"><span><span class={`status s-${op.result === "succeeded" ? "ready" : op.result === "failed" ? "failed" : "updating"}`}>{op.result}</span></span></td>
                                    <td data-label="Started"><time dateTime={op.startTime}>{formatTime(op.startTime)}</time></td>
                                    <td data-label="Duration">{operationDuration(op)}</td>
                                    <td data-label="Changes" data-testid="changes">{changesText(op.changes)}</td>
                                </tr>
                            ))}
                            {operations.length === 0 && <tr><td colSpan={5}>No operations recorded.</td></tr>}
                        </tbody>
                    </table>
                </div>
            )}
        </section>
    );
}
