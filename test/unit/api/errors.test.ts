import { ApiError, toApiError } from "../../../stacks/api/errors";
import { errorResponse } from "../../../stacks/api/http";
import { BusyError } from "../../../stacks/automation/engine";
import { InputError } from "../../../stacks/automation/validation";

describe("error mapping", () => {
    it("maps each kind to its status", () => {
        expect(errorResponse(new ApiError("malformed", "x")).status).toBe(400);
        expect(errorResponse(new ApiError("unauthorized", "x")).status).toBe(401);
        expect(errorResponse(new ApiError("forbidden", "x")).status).toBe(403);
        expect(errorResponse(new ApiError("not-found", "x")).status).toBe(404);
        expect(errorResponse(new ApiError("busy", "x")).status).toBe(409);
        expect(errorResponse(new ApiError("too-large", "x")).status).toBe(413);
        expect(errorResponse(new ApiError("invalid", "x")).status).toBe(422);
        expect(errorResponse(new ApiError("upstream", "x")).status).toBe(502);
    });

    it("maps the library's typed errors", () => {
        expect(toApiError(new InputError("pr", "must be a positive whole number, got \"x\""))).toEqual(new ApiError("invalid", 'pr: must be a positive whole number, got "x"'));
        expect(errorResponse(new BusyError("pr-1 is locked")).status).toBe(409);
    });

    it("hides the text of internal errors", () => {
        expect(errorResponse(new Error("secret path /root/.pulumi"))).toEqual({ status: 500, body: { error: { code: "internal", message: "internal error" } } });
        expect(errorResponse(new ApiError("not-found", "no environment pr-9"))).toEqual({ status: 404, body: { error: { code: "not-found", message: "no environment pr-9" } } });
    });
});
