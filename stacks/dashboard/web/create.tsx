import { useState } from "preact/hooks";
import { ApiFailure, call } from "./api";
import { StartedOperation } from "./progress";
import { fieldError, previewBody, PreviewForm } from "./view";

const FIELDS = ["pr", "branch", "image", "ttl"] as const;
const LABELS: Record<(typeof FIELDS)[number], string> = { pr: "Pull request number", branch: "Branch", image: "Image (optional)", ttl: "Time to live (optional)" };
const HELP: Record<(typeof FIELDS)[number], string> = { pr: "The preview is pr-<number>.", branch: "The pull request's head branch.", image: "A pinned tag or digest; empty: the default image.", ttl: "e.g. 72h or 7d; empty: the server's default." };

/**
 * The create-preview form: `POST /previews` as typed; the API validates, and its error
 * appears next to the field it names (or above the button when it names none).
 */
export function CreatePreview({ onStarted }: { onStarted: (operation: StartedOperation) => void }) {
    const [form, setForm] = useState<PreviewForm>({ pr: "", branch: "", image: "", ttl: "" });
    const [errors, setErrors] = useState<{ field?: string; message: string } | undefined>();
    const [busy, setBusy] = useState(false);
    const submit = async (e: Event) => {
        e.preventDefault();
        setBusy(true);
        setErrors(undefined);
        try {
            const answer = await call<{ operation?: { id: string; stack: string; action: string } }>("POST", "/previews", previewBody(form));
            if (answer.operation !== undefined) onStarted({ ...answer.operation, startedAt: Date.now() });
            setForm({ pr: "", branch: "", image: "", ttl: "" });
        } catch (err) {
            setErrors(err instanceof ApiFailure ? fieldError(err.message, FIELDS) : { message: String(err) });
        } finally {
            setBusy(false);
        }
    };
    return (
        <form class="create" onSubmit={submit} noValidate aria-labelledby="create-title">
            <h2 id="create-title">Create a preview</h2>
            <div class="fields">
                {FIELDS.map((field) => {
                    const bad = errors?.field === field;
                    return (
                        <div class="field" key={field}>
                            <label for={`f-${field}`}>{LABELS[field]}</label>
                            <input id={`f-${field}`} name={field} inputMode={field === "pr" ? "numeric" : undefined} value={form[field]}
                                aria-invalid={bad} aria-describedby={bad ? `f-${field}-error` : `f-${field}-help`}
                                onInput={(e) => setForm({ ...form, [field]: (e.target as HTMLInputElement).value })} />
                            {bad ? <p id={`f-${field}-error`} class="error" role="alert" data-testid={`error-${field}`}>{errors?.message}</p> : <p id={`f-${field}-help`} class="help">{HELP[field]}</p>}
                        </div>
                    );
                })}
            </div>
            {errors !== undefined && errors.field === undefined && <p class="error" role="alert" data-testid="error-form">{errors.message}</p>}
            <button type="submit" disabled={busy}>Create preview</button>
        </form>
    );
}
