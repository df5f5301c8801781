import { resolve } from 'node:path';
import type { ManualScheduler } from '../../clock.ts';
import { Dispatcher } from '../../host.ts';
import { Engine } from '../../engine.ts';
import type { EngineModule } from '../../module.ts';
import { SeededRandom } from '../../random.ts';
import type { RequestChannel, ResponseOf } from '../../../../shared/contract/index.ts';
import type { AppError } from '../../../../shared/errors.ts';

/**
 * Drives an engine on a ManualScheduler in tests: market time moves only while a test waits on
 * something (a request's reply, a condition), in small steps with the event loop turned between
 * them so promise chains and worker threads (model inference) make progress. No sleeps.
 */
export class ManualDriver {
  private readonly scheduler: ManualScheduler;
  private readonly dispatcher: () => Dispatcher;

  constructor(
    scheduler: ManualScheduler,
    dispatcher: () => Dispatcher = () => {
      throw new Error('no dispatcher given to this driver');
    },
  ) {
    this.scheduler = scheduler;
    this.dispatcher = dispatcher;
  }

  /** Turns the event loop and advances stepMs of market time until the promise settles. */
  async drive<T>(promise: Promise<T>, stepMs = 1): Promise<T> {
    let isDone = false;
    void promise.then(
      () => (isDone = true),
      () => (isDone = true),
    );
    for (let i = 0; i < 100_000 && !isDone; i++) {
      await new Promise<void>((r) => setImmediate(r));
      this.scheduler.advance(stepMs);
    }
    return promise;
  }

  /** Runs the market until cond holds; throws after maxMs of market time. */
  async runUntil(cond: () => boolean, maxMs: number, stepMs = 50): Promise<void> {
    const endMs = this.scheduler.nowMs() + maxMs;
    while (!cond()) {
      if (this.scheduler.nowMs() >= endMs)
        throw new Error(`condition not met within ${maxMs} ms of market time`);
      await new Promise<void>((r) => setImmediate(r));
      this.scheduler.advance(stepMs);
    }
  }

  /** A request through the Dispatcher (contract validation included) that must succeed. */
  async ok<C extends RequestChannel>(channel: C, payload: unknown): Promise<ResponseOf<C>> {
    const reply = await this.drive(this.dispatcher().dispatch(channel, payload, { origin: 'test' }));
    if (!reply.ok) throw new Error(`${channel} failed: ${reply.error.code} ${reply.error.message}`);
    return reply.value as ResponseOf<C>;
  }

  /** A request that must fail; returns its error. */
  async fail(channel: RequestChannel, payload: unknown): Promise<AppError> {
    const reply = await this.drive(this.dispatcher().dispatch(channel, payload, { origin: 'test' }));
    if (reply.ok) throw new Error(`${channel} unexpectedly succeeded`);
    return reply.error;
  }
}

/**
 * An engine with the given modules on a data folder and a manual clock (demo venue seed 77, CPU
 * models), started through the driver; every published stream payload goes to `published`.
 */
export async function startTestEngine(options: {
  dataDir: string;
  driver: ManualDriver;
  scheduler: ManualScheduler;
  modules: EngineModule[];
  published: { stream: string; payload: unknown }[];
}): Promise<{ engine: Engine; dispatcher: Dispatcher }> {
  const engine = new Engine({
    dataDir: options.dataDir,
    resourcesDir: resolve(import.meta.dirname, '..', '..', '..', '..', 'resources'),
    version: '0.0.0-test',
    scheduler: options.scheduler,
    random: new SeededRandom(3),
    modules: options.modules,
    moduleOptions: { demoSeed: 77, forceCpu: true },
  });
  engine.bus.listen((stream, payload) => options.published.push({ stream, payload }));
  await options.driver.drive(engine.start());
  return { engine, dispatcher: new Dispatcher({ handlers: engine.handlerTable() }) };
}
