/**
 * The API's typed errors and how each maps to an HTTP status. The automation library signals
 * bad input with InputError (thrown before anything is created) and a busy stack with a
 * `busy` result; the API adds its own kinds for auth and lookups.
 */

/** What went wrong, independent of the transport. */
export type ApiErrorKind = "malformed" | "unauthorized" | "forbidden" | "not-found" | "busy" | "invalid" | "too-large" | "upstream";

const STATUS: Record<ApiErrorKind, number> = {
    malformed: 400,
    unauthorized: 401,
    forbidden: 403,
    "not-found": 404,
    busy: 409,
    "too-large": 413,
    invalid: 422,
    upstream: 502,
};

/** An error the API reports to its caller with a status and a one-line message. */
export class ApiError extends Error {
    constructor(public readonly kind: ApiErrorKind, message: string) {
        super(message);
        this.name = "ApiError";
    }

    /** The HTTP status of this error. */
    get status(): number {
        return STATUS[this.kind];
    }
}

/**
 * Maps any error to an ApiError: ApiErrors as they are, the library's InputError and
 * NameError (bad pr, branch, image, stack name) to `invalid`, a BusyError or LockTimeoutError
 * to `busy`; anything else is an internal error (undefined) whose text is not shown to callers.
 */
export function toApiError(err: unknown): ApiError | undefined {
    if (err instanceof ApiError) return err;
    const name = (err as Error | undefined)?.name;
    const message = ((err as Error | undefined)?.message ?? "").split("\n")[0];
    if (name === "InputError" || name === "NameError") return new ApiError("invalid", message);
    if (name === "BusyError" || name === "LockTimeoutError") return new ApiError("busy", message);
    // The API server's answer in resource mode: a conflict is busy, a refused spec names its field.
    if (name === "ResourceError") {
        const status = (err as { status?: number }).status;
        return new ApiError(status === 409 ? "busy" : status === 404 ? "not-found" : status === 422 ? "invalid" : "upstream", message);
    }
    return undefined;
}
