import { deflateSync } from "zlib";

/** An RGB colour. */
export type Rgb = [number, number, number];

/** A plain RGB raster that encodes itself as PNG; no dependency beyond zlib. */
export class Raster {
    private readonly pixels: Buffer;

    constructor(readonly width: number, readonly height: number, background: Rgb = [255, 255, 255]) {
        this.pixels = Buffer.alloc(width * height * 3);
        for (let i = 0; i < width * height; i++) this.pixels.set(background, i * 3);
    }

    /** Sets one pixel; points outside the raster are ignored. */
    set(x: number, y: number, colour: Rgb): void {
        const px = Math.round(x);
        const py = Math.round(y);
        if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
        this.pixels.set(colour, (py * this.width + px) * 3);
    }

    /** A filled rectangle. */
    rect(x: number, y: number, w: number, h: number, colour: Rgb): void {
        for (let dy = 0; dy < h; dy++) for (let dx = 0; dx < w; dx++) this.set(x + dx, y + dy, colour);
    }

    /** A line `thickness` pixels wide (simple DDA). */
    line(x0: number, y0: number, x1: number, y1: number, colour: Rgb, thickness = 2, dashed = false): void {
        const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
        for (let i = 0; i <= steps; i++) {
            if (dashed && Math.floor(i / 6) % 2 === 1) continue;
            const x = x0 + ((x1 - x0) * i) / steps;
            const y = y0 + ((y1 - y0) * i) / steps;
            this.rect(x - thickness / 2, y - thickness / 2, thickness, thickness, colour);
        }
    }

    /** The PNG file: signature, IHDR, one IDAT (filter 0 on every row), IEND. */
    encode(): Buffer {
        const header = Buffer.alloc(13);
        header.writeUInt32BE(this.width, 0);
        header.writeUInt32BE(this.height, 4);
        header.set([8, 2, 0, 0, 0], 8); // 8-bit depth, truecolour, deflate, no filter, no interlace
        const rows = Buffer.alloc((this.width * 3 + 1) * this.height);
        for (let y = 0; y < this.height; y++) {
            this.pixels.copy(rows, y * (this.width * 3 + 1) + 1, y * this.width * 3, (y + 1) * this.width * 3);
        }
        return Buffer.concat([
            Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
            chunk("IHDR", header),
            chunk("IDAT", deflateSync(rows)),
            chunk("IEND", Buffer.alloc(0)),
        ]);
    }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});

function crc32(data: Buffer): number {
    let c = 0xffffffff;
    for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
}
