/**
 * JPEG-LS (CharLS) and JPEG 2000 (OpenJPEG) through the WebAssembly builds that ship inside the
 * @cornerstonejs codec packages: no download, no native build. Each module is instantiated once per process.
 */
import { createRequire } from 'node:module';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  decode(): void;
  delete(): void;
}

type Factory = (options: { print(): void; printErr(): void }) => Promise<Record<string, new () => WasmDecoder>>;

const require = createRequire(import.meta.url);
const modules = new Map<string, Promise<Record<string, new () => WasmDecoder>>>();

function load(pkg: string): Promise<Record<string, new () => WasmDecoder>> {
  let m = modules.get(pkg);
  if (!m) {
    // print/printErr silence OpenJPEG's per-frame [INFO] lines on stdout.
    m = (require(`${pkg}/decodewasmjs`) as Factory)({ print() {}, printErr() {} });
    modules.set(pkg, m);
  }
  return m;
}

export interface DecodedFrame {
  info: FrameInfo;
  /** Interleaved samples, little endian, `ceil(bitsPerSample / 8)` bytes each. */
  bytes: Uint8Array;
}

async function run(pkg: string, className: string, encoded: Uint8Array): Promise<DecodedFrame> {
  const mod = await load(pkg);
  const decoder = new mod[className]();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    // Copy out of the WASM heap: the view dies with the decoder.
    return { info: { ...info }, bytes: decoder.getDecodedBuffer().slice() };
  } catch (err) {
    // Emscripten throws numbers (pointers) for C++ exceptions; give a readable message instead.
    throw new Error(`${className} failed to decode the frame${err instanceof Error ? `: ${err.message}` : ''}`);
  } finally {
    decoder.delete();
  }
}

export function decodeJpegLs(encoded: Uint8Array): Promise<DecodedFrame> {
  return run('@cornerstonejs/codec-charls', 'JpegLSDecoder', encoded);
}

export function decodeJpeg2000(encoded: Uint8Array): Promise<DecodedFrame> {
  return run('@cornerstonejs/codec-openjpeg', 'J2KDecoder', encoded);
}
