import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { adaptMessagePortMain, type MessagePortMainLike } from './ports.ts';

/** A MessagePortMain stand-in: queues messages until start(), like Electron's. */
class FakePortMain extends EventEmitter implements MessagePortMainLike {
  readonly sent: unknown[] = [];
  isStarted = false;
  isClosed = false;
  private readonly queued: unknown[] = [];
  postMessage(message: unknown): void {
    this.sent.push(message);
  }
  deliver(data: unknown): void {
    if (this.isStarted) this.emit('message', { data, ports: [] });
    else this.queued.push(data);
  }
  start(): void {
    this.isStarted = true;
    for (const data of this.queued.splice(0)) this.emit('message', { data, ports: [] });
  }
  close(): void {
    this.isClosed = true;
  }
}

describe('adaptMessagePortMain', () => {
  it('delivers message data (not the event) and messages that arrived before anyone listened', () => {
    const port = new FakePortMain();
    const adapted = adaptMessagePortMain(port);
    port.deliver({ t: 'req', id: 1 });
    const received: unknown[] = [];
    adapted.onMessage((m) => received.push(m));
    port.deliver({ t: 'req', id: 2 });
    expect(received).toEqual([
      { t: 'req', id: 1 },
      { t: 'req', id: 2 },
    ]);
  });

  it('stops delivering after the listener is removed', () => {
    const port = new FakePortMain();
    const adapted = adaptMessagePortMain(port);
    const received: unknown[] = [];
    const off = adapted.onMessage((m) => received.push(m));
    off();
    port.deliver('late');
    expect(received).toEqual([]);
  });

  it('reports the other end closing once and sends nothing after it', () => {
    const port = new FakePortMain();
    const adapted = adaptMessagePortMain(port);
    let closes = 0;
    adapted.onClose?.(() => closes++);
    adapted.postMessage('before');
    port.emit('close');
    port.emit('close');
    adapted.postMessage('after');
    expect(closes).toBe(1);
    expect(port.sent).toEqual(['before']);
  });

  it('closing from this side closes the port and tells listeners', () => {
    const port = new FakePortMain();
    const adapted = adaptMessagePortMain(port);
    let closes = 0;
    adapted.onClose?.(() => closes++);
    adapted.close?.();
    expect(port.isClosed).toBe(true);
    expect(closes).toBe(1);
  });
});
