import { PassThrough, Readable } from "stream";
import { endOnSourceError } from "../../../stacks/api/kube";

describe("a followed log whose request is aborted", () => {
    it("ends the output instead of throwing the source's AbortError uncaught", async () => {
        const controller = new AbortController();
        const web = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode("line 1\n")) });
        const source = Readable.fromWeb(web as import("stream/web").ReadableStream, { signal: controller.signal });
        const out = new PassThrough();
        endOnSourceError(out);
        source.pipe(out);
        const text: string[] = [];
        out.on("data", (chunk: Buffer) => text.push(chunk.toString()));
        const ended = new Promise((resolve) => out.once("end", resolve));
        await new Promise((r) => setImmediate(r));
        controller.abort();
        await ended;
        expect(text.join("")).toBe("line 1\n");
        expect(source.listenerCount("error")).toBeGreaterThan(0);
    });
});
