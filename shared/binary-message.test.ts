import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeHostMessage, encodeHostMessage } from './binary-message.ts';
import { candlesResponseSchema } from './contract/market.ts';

function toArrayBuffer(frame: Uint8Array): ArrayBuffer {
  // What a browser WebSocket with binaryType 'arraybuffer' hands over: the frame's own buffer.
  return frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer;
}

describe('binary host messages', () => {
  it('sends messages without typed arrays as plain JSON text', () => {
    const message = {
      t: 'res',
      id: 3,
      reply: { ok: true, value: { symbols: [{ venue: 'demo', symbol: 'BTC/USDT' }] } },
    };
    expect(encodeHostMessage(message)).toBe(JSON.stringify(message));
  });

  it('round-trips candle columns bit for bit as aligned views, whatever the other fields hold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double(), { maxLength: 300 }),
        fc.string(),
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
        (values, symbol, extra) => {
          const time = Float64Array.from(values);
          const volume = new Float32Array(values.length).map((_, i) => i);
          const message = {
            t: 'res',
            id: 7,
            reply: { ok: true, value: { symbol, extra, time, columns: [{ volume }] } },
          };
          const frame = encodeHostMessage(message);
          expect(frame).toBeInstanceOf(Uint8Array);
          const decoded = decodeHostMessage(toArrayBuffer(frame as Uint8Array)) as typeof message;
          expect(decoded.reply.value.symbol).toBe(symbol);
          expect(decoded.reply.value.extra).toEqual(JSON.parse(JSON.stringify(extra)));
          const t = decoded.reply.value.time;
          expect(t).toBeInstanceOf(Float64Array);
          expect(t.byteOffset % 8).toBe(0);
          expect(new Uint8Array(t.buffer, t.byteOffset, t.byteLength)).toEqual(new Uint8Array(time.buffer));
          expect(Array.from(decoded.reply.value.columns[0]!.volume)).toEqual(Array.from(volume));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects frames whose arrays run past the end or whose paths do not end at a placeholder', () => {
    const frame = encodeHostMessage({
      t: 'res',
      id: 1,
      reply: { value: { time: new Float64Array(4) } },
    }) as Uint8Array;
    expect(() => decodeHostMessage(toArrayBuffer(frame.subarray(0, frame.byteLength - 8)))).toThrow(
      /past the end/,
    );
    const headerLength = new DataView(frame.buffer).getUint32(0, true);
    const header = new TextDecoder().decode(frame.subarray(4, 4 + headerLength));
    // Same length, so the frame stays well-formed: the placeholder moved, the path did not.
    for (const forged of [
      header.replace('"time":null', '"tim2":null'),
      header.replace('"time"]', '"tim2"]'),
    ]) {
      const copy = new Uint8Array(frame);
      copy.set(new TextEncoder().encode(forged), 4);
      expect(() => decodeHostMessage(toArrayBuffer(copy))).toThrow(/placeholder|bad array path/);
    }
    const garbled = new Uint8Array(frame);
    garbled[6] = 0x7b;
    expect(() => decodeHostMessage(toArrayBuffer(garbled))).toThrow(/Malformed/);
    expect(() => decodeHostMessage(new ArrayBuffer(2))).toThrow(/Malformed/);
  });
});

describe('market:candles reply contract', () => {
  const columns = (n: number) => ({
    time: Float64Array.from({ length: n }, (_, i) => 60_000 * (i + 1)),
    open: new Float64Array(n).fill(1),
    high: new Float64Array(n).fill(2),
    low: new Float64Array(n).fill(0.5),
    close: new Float64Array(n).fill(1.5),
    volume: new Float64Array(n).fill(3),
  });
  const reply = (overrides: object) => ({
    venue: 'demo',
    symbol: 'BTC/USDT',
    timeframe: '1m',
    ...columns(5),
    forming: null,
    hasMoreBefore: false,
    source: 'store',
    ...overrides,
  });

  it('accepts equal-length finite Float64Array columns with increasing times', () => {
    expect(candlesResponseSchema.safeParse(reply({})).success).toBe(true);
  });

  it('refuses number arrays, unequal lengths, NaN or infinite values and unordered times', () => {
    const bad = [
      { time: [60_000, 120_000, 180_000, 240_000, 300_000] },
      { close: new Float64Array(4) },
      { high: Float64Array.from([2, 2, NaN, 2, 2]) },
      { volume: Float64Array.from([1, Infinity, 1, 1, 1]) },
      { time: Float64Array.from([60_000, 60_000, 120_000, 180_000, 240_000]) },
    ];
    for (const b of bad)
      expect(candlesResponseSchema.safeParse(reply(b)).success, JSON.stringify(Object.keys(b))).toBe(false);
  });

  it('refuses more than the per-request bar limit', () => {
    const huge = columns(500_001);
    expect(candlesResponseSchema.safeParse(reply(huge)).success).toBe(false);
  });
});
