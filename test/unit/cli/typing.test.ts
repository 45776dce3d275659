import { defineCommand } from "../../../stacks/command";

/*
 * A command's option table and its handler's input are one type: `npm test` type-checks this
 * file, and each `@ts-expect-error` fails the type check if the mistake below it ever compiles.
 */
interface Input {
    json: boolean;
    pr?: number;
}
const json = { description: "json" };
const pr = { description: "pull request", value: "<n>", parse: Number };

describe("typed command tables", () => {
    it("refuse a flag nothing reads, a flag the table lacks, and a value of the wrong type, at compile time", () => {
        const commands = [
            // @ts-expect-error: `unread` is a flag the handler's input does not have.
            defineCommand<Input>({ name: "a", summary: "", options: { json, pr, unread: json }, run: async () => 0 }),
            // @ts-expect-error: `pr` is read by the handler but missing from the table.
            defineCommand<Input>({ name: "b", summary: "", options: { json }, run: async (input) => input.pr ?? 0 }),
            // @ts-expect-error: the handler reads a flag no table names.
            defineCommand<Input>({ name: "c", summary: "", options: { json, pr }, run: async (input) => input.missing }),
            // @ts-expect-error: `pr` parses to a number, not a string.
            defineCommand<Input>({ name: "d", summary: "", options: { json, pr: { ...pr, parse: String } }, run: async () => 0 }),
        ];
        expect(commands.map((c) => c.name)).toEqual(["a", "b", "c", "d"]);
    });
});
