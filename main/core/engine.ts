import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Dispatcher, StreamBus, type Handlers } from './host.ts';
import { TrackingScheduler, type Scheduler, type TimerHandle } from './clock.ts';
import { SeededRandom, type RandomSource } from './random.ts';
import { openDatabase, type OpenedDatabase } from './store/sqlite.ts';
import { marketMigrations } from './store/market-migrations.ts';
import { ledgerMigrations } from './store/ledger-migrations.ts';
import { describeRuntime } from './models/runtime-info.ts';
import { silentLogger, type Logger } from './telemetry/logger.ts';
import type { EngineContext, EngineModule, ModuleInstance } from './module.ts';
import { engineModules } from './modules.ts';
import type { AppError } from '../../shared/errors.ts';
import { AppErrorException } from '../../shared/errors.ts';
import type { DatabaseStatus, EngineState, EngineStatus } from '../../shared/contract/engine.ts';

export interface EngineOptions {
  dataDir: string;
  resourcesDir: string;
  version: string;
  scheduler: Scheduler;
  random?: RandomSource;
  logger?: Logger;
  mode?: 'live' | 'paper' | 'backtest';
  modules?: EngineModule[];
  /** How often the engine restarted under its supervisor (reported in status). */
  restarts?: number;
  forceCpu?: boolean;
  /** Free-form options passed to modules (e.g. demo seed). */
  moduleOptions?: Record<string, unknown>;
}

/**
 * The composition root. Opens the stores, starts the domain modules, serves their handlers
 * through one Dispatcher, and reports its lifecycle: starting -> ready | degraded -> stopped.
 */
export class Engine {
  readonly bus = new StreamBus();
  readonly dispatcher: Dispatcher;
  private readonly options: EngineOptions;
  private readonly logger: Logger;
  private readonly handlers: Handlers = {};
  private readonly instances: { name: string; instance: ModuleInstance }[] = [];
  private readonly problems: AppError[] = [];
  private readonly haltReasons = new Set<string>();
  private readonly services = new Map<string, unknown>();
  private state: EngineState = 'starting';
  private startedAtMs: number;
  private marketDb: OpenedDatabase | null = null;
  private ledgerDb: OpenedDatabase | null = null;
  private heartbeat: TimerHandle | null = null;
  private heartbeatSeq = 0;
  private readonly dbStatusCache = new Map<string, DatabaseStatus>();
  /** Modules schedule through this, so stop() can cancel whatever they left pending. */
  private readonly moduleScheduler: TrackingScheduler;

  constructor(options: EngineOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger();
    this.startedAtMs = options.scheduler.nowMs();
    this.moduleScheduler = new TrackingScheduler(options.scheduler);
    this.handlers['engine:status'] = () => this.status();
    this.handlers['engine:ping'] = (req) => ({
      nonce: req.nonce,
      engineTimeMs: this.options.scheduler.nowMs(),
    });
    this.dispatcher = new Dispatcher({ handlers: this.handlers, logger: this.logger });
  }

  get currentState(): EngineState {
    return this.state;
  }

  /** The live handler table (tests wrap it to prove invalid payloads never reach a handler). */
  handlerTable(): Handlers {
    return this.handlers;
  }

  getService<T>(name: string): T | undefined {
    return this.services.get(name) as T | undefined;
  }

  async start(): Promise<void> {
    this.startedAtMs = this.options.scheduler.nowMs();
    mkdirSync(this.options.dataDir, { recursive: true });
    this.marketDb = this.openStore('market', 'normal');
    this.ledgerDb = this.openStore('ledger', 'full');
    if (!this.ledgerDb || !this.marketDb) this.haltReasons.add('store');

    const context: EngineContext = {
      dataDir: this.options.dataDir,
      resourcesDir: this.options.resourcesDir,
      scheduler: this.moduleScheduler,
      random: this.options.random ?? new SeededRandom(1),
      bus: this.bus,
      logger: this.logger,
      marketDb: this.marketDb,
      ledgerDb: this.ledgerDb,
      isTradingEnabled: () => this.haltReasons.size === 0 && this.state !== 'stopped',
      reportProblem: (problem) => this.reportProblem(problem),
      services: this.services,
      options: { forceCpu: this.options.forceCpu ?? false, ...this.options.moduleOptions },
    };
    for (const module of this.options.modules ?? engineModules) {
      try {
        const instance = await module.start(context);
        this.instances.push({ name: module.name, instance });
        Object.assign(this.handlers, instance.handlers);
      } catch (err) {
        const problem =
          err instanceof AppErrorException
            ? err.toAppError()
            : { code: 'INTERNAL' as const, message: `Module ${module.name} failed to start: ${String(err)}` };
        this.logger.error({ module: module.name, err }, 'module failed to start');
        this.problems.push(problem);
      }
    }
    this.state = this.problems.length > 0 ? 'degraded' : 'ready';
    this.logger.info({ state: this.state, dataDir: this.options.dataDir }, 'engine started');
    this.publishStatus();
    this.scheduleHeartbeat();
  }

  private openStore(name: 'market' | 'ledger', durability: 'normal' | 'full'): OpenedDatabase | null {
    const path = join(this.options.dataDir, `${name}.db`);
    try {
      const opened = openDatabase({
        name: `${name}.db`,
        path,
        durability,
        migrations: name === 'market' ? marketMigrations : ledgerMigrations,
      });
      return opened;
    } catch (err) {
      const problem =
        err instanceof AppErrorException
          ? err.toAppError()
          : { code: 'STORE_CORRUPT' as const, message: `${name}.db could not be opened: ${String(err)}` };
      this.problems.push(problem);
      this.dbStatusCache.set(name, {
        name: `${name}.db`,
        path,
        schemaVersion: 0,
        latestSchemaVersion: (name === 'market' ? marketMigrations : ledgerMigrations).length,
        journalMode: 'unknown',
        synchronous: 'unknown',
        integrity: problem.code === 'STORE_CORRUPT' ? 'corrupt' : 'unavailable',
        message: problem.message,
        sizeBytes: 0,
      });
      this.logger.error({ path, problem }, 'store failed to open');
      return null;
    }
  }

  reportProblem(problem: AppError): void {
    this.problems.push(problem);
    if (this.state === 'ready') this.state = 'degraded';
    this.publishStatus();
  }

  /** Halts trading for a named reason (kill switch, store failure, ...) until released. */
  setHalt(reason: string, isHalted: boolean): void {
    if (isHalted) this.haltReasons.add(reason);
    else this.haltReasons.delete(reason);
    this.publishStatus();
  }

  status(): EngineStatus {
    const runtime = describeRuntime({ forceCpu: this.options.forceCpu ?? false });
    const databases: DatabaseStatus[] = [];
    for (const [name, db] of [
      ['market', this.marketDb],
      ['ledger', this.ledgerDb],
    ] as const) {
      databases.push(db ? db.status() : this.dbStatusCache.get(name)!);
    }
    const now = this.options.scheduler.nowMs();
    return {
      version: this.options.version,
      state: this.state,
      mode: this.options.mode ?? 'paper',
      uptimeMs: Math.max(0, now - this.startedAtMs),
      startedAtMs: this.startedAtMs,
      dataDir: this.options.dataDir,
      databases,
      onnxRuntime: runtime,
      nodeVersion: process.versions.node,
      platform: process.platform,
      arch: process.arch,
      pid: process.pid,
      tradingEnabled: this.haltReasons.size === 0 && this.state !== 'stopped',
      problems: [...this.problems],
      restarts: this.options.restarts ?? 0,
    };
  }

  private publishStatus(): void {
    this.bus.publish('engine:changed', this.status());
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.options.scheduler.schedule(1000, () => {
      this.bus.publish('engine:heartbeat', {
        engineTimeMs: this.options.scheduler.nowMs(),
        seq: ++this.heartbeatSeq,
      });
      if (this.state !== 'stopped') this.scheduleHeartbeat();
    });
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.heartbeat?.cancel();
    for (const { name, instance } of [...this.instances].reverse()) {
      try {
        await instance.stop?.();
      } catch (err) {
        this.logger.error({ module: name, err }, 'module failed to stop');
      }
    }
    const leftover = this.moduleScheduler.cancelAll();
    if (leftover > 0)
      this.logger.warn({ timers: leftover }, 'modules left timers pending at stop; cancelled');
    // Keep the last known database facts for status after the files are closed.
    if (this.marketDb) this.dbStatusCache.set('market', this.marketDb.status());
    if (this.ledgerDb) this.dbStatusCache.set('ledger', this.ledgerDb.status());
    this.marketDb?.close();
    this.ledgerDb?.close();
    this.marketDb = null;
    this.ledgerDb = null;
    this.state = 'stopped';
    this.logger.info({}, 'engine stopped');
    this.publishStatus();
  }
}
