import { ApiError, statusOf, toApiError } from "../../../stacks/api/errors";
import { errorResponse } from "../../../stacks/api/http";
import { BusyError } from "../../../stacks/automation/engine";
import { InputError } from "../../../stacks/automation/validation";

describe("error mapping", () => {
    it("maps each kind to its status", () => {
        expect(statusOf(new ApiError("malformed", "x"))).toBe(400);
        expect(statusOf(new ApiError("unauthorized", "x"))).toBe(401);
        expect(statusOf(new ApiError("forbidden", "x"))).toBe(403);
        expect(statusOf(new ApiError("not-found", "x"))).toBe(404);
        expect(statusOf(new ApiError("busy", "x"))).toBe(409);
        expect(statusOf(new ApiError("too-large", "x"))).toBe(413);
        expect(statusOf(new ApiError("invalid", "x"))).toBe(422);
        expect(statusOf(new ApiError("upstream", "x"))).toBe(502);
    });

    it("maps the library's typed errors", () => {
        expect(toApiError(new InputError("pr", "must be a positive whole number, got \"x\""))).toEqual(new ApiError("invalid", 'pr: must be a positive whole number, got "x"'));
        expect(statusOf(new BusyError("pr-1 is locked"))).toBe(409);
    });

    it("hides the text of internal errors", () => {
        expect(errorResponse(new Error("secret path /root/.pulumi"))).toEqual({ status: 500, body: { error: { code: "internal", message: "internal error" } } });
        expect(errorResponse(new ApiError("not-found", "no environment pr-9"))).toEqual({ status: 404, body: { error: { code: "not-found", message: "no environment pr-9" } } });
    });
});
