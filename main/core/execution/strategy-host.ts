import type { Scheduler } from '../clock.ts';
import type { RandomSource } from '../random.ts';
import type { FeedSubscription, MarketFeed } from '../data/feed.ts';
import { BarAggregator } from '../data/bar-aggregator.ts';
import { StrategyEngine, type DecisionRecord } from '../strategy/engine.ts';
import type { StrategyRunner } from '../strategy/runner.ts';
import { builtinInfo, createBuiltinStrategy, resolveStrategyParams } from '../strategy/builtins/index.ts';
import type { ConditionTrace, TracedStrategy } from '../strategy/decision-trace.ts';
import { LiveModel, type ModelSource } from '../strategy/live-model.ts';
import { parseSizing, type ProtectionSpec, type SizingInput } from '../strategy/sizing.ts';
import type { Prediction, StrategyParams } from '../strategy/types.ts';
import type { TradingService } from './trading-service.ts';
import { appError, AppErrorException } from '../../../shared/errors.ts';
import { TIMEFRAME_MS, type Candle, type CandleColumns, type Timeframe } from '../../../shared/market.ts';
import type { OrderSide, OrderType } from '../../../shared/trading.ts';
import type { Explanation } from '../../../shared/contract/models.ts';
import type {
  RuleEvaluation,
  Signal,
  SignalDetail,
  StrategyInstance,
} from '../../../shared/contract/strategies.ts';

/**
 * Runs built-in strategies on an account for the app (trading module) and for `vantage run`
 * (PaperSession): one implementation, so the headless session trades exactly as the app does.
 *
 * Each instance: bars of its timeframe built from the feed's trades (BarAggregator), features
 * warmed up from history, one StrategyEngine whose orders go through the account's order manager
 * (risk gate, journal, audit) and whose P&L is its own position slot in the account's portfolio.
 * Model-driven built-ins get ctx.prediction from a LiveModel (feature pipeline + ONNX session).
 *
 * A bar is processed to the end before the next (prediction -> strategy -> orders -> signal
 * records), so every signal is recorded with the bar, features, rule values and prediction it
 * was decided on. Every decision becomes a signal: one `strategy.signal` audit record holding the
 * prediction (model name, version, sha256, outputs), the explanation (signal bars only), the
 * feature values, the conditions evaluated and the risk verdict with every check.
 */

/** Closed bars before now (oldest first) and the bar still forming, for warm-up. */
export interface WarmupHistory {
  bars: CandleColumns;
  forming: Candle | null;
}

export interface StrategyHostOptions {
  service: TradingService;
  feed: MarketFeed;
  scheduler: Scheduler;
  random: RandomSource;
  /** History to warm indicators and the model's features with (null: start cold). */
  history?: (symbol: string, timeframe: Timeframe, bars: number) => WarmupHistory | null;
  /** Model registry for model-driven built-ins (absent: they cannot start). */
  models?: () => ModelSource | null;
  defaultModel?: () => string | null;
  /** Number for the next instance id; the app persists it so ids (and position slots) are never reused. */
  nextInstanceNumber?: () => number;
  /** Signal summaries kept in memory for strategies:signals (default 5,000; details of the newest 500; the rest are read back from the audit ledger). */
  maxSignals?: number;
  /** Signals whose full detail stays in memory (default 500). */
  signalDetailsKept?: number;
  onChange?: () => void;
  onSignal?: (signal: Signal) => void;
  /** An instance failed (inference error, broken invariant): it was stopped and its orders cancelled. */
  onFailure?: (strategyId: string, message: string) => void;
}

export interface StartStrategyRequest {
  builtin: string;
  symbol: string;
  timeframe: Timeframe;
  params: StrategyParams;
  sizing: SizingInput;
  protection: ProtectionSpec;
  model?: string | undefined;
  /** Fixed instance id (vantage run uses the strategy's name); default: `<builtin>-<symbol>-<n>`. */
  strategyId?: string;
}

export const SIGNAL_RECORD = 'strategy.signal';
export const WARMUP_BARS = 1000;
const DEFAULT_MAX_SIGNALS = 5000;
const DEFAULT_DETAILS_KEPT = 500;

interface DecisionContext {
  barTimeMs: number;
  rules: RuleEvaluation[];
  features: Record<string, number | null>;
  prediction: Prediction | null;
}

interface Instance {
  info: StrategyInstance;
  strategy: TracedStrategy;
  isModelDriven: boolean;
  engine: StrategyEngine;
  runner: StrategyRunner;
  aggregator: BarAggregator;
  subscription: FeedSubscription | null;
  model: LiveModel | null;
  /** Bar and signal work of this instance, in order. */
  chain: Promise<void>;
  isDrainQueued: boolean;
  rejectedByRisk: number;
  unsubscribeOrders: () => void;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function nullable(values: Record<string, number>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(values)) out[k] = finiteOrNull(v);
  return out;
}

export class StrategyHost {
  private readonly options: StrategyHostOptions;
  private readonly service: TradingService;
  private readonly scheduler: Scheduler;
  private readonly instances = new Map<string, Instance>();
  /** Summaries, newest last; bounded by maxSignals. */
  private readonly recent: Signal[] = [];
  /** Full details of the newest signals (insertion order); older ones are read back from the ledger. */
  private readonly byId = new Map<string, SignalDetail>();
  private readonly maxSignals: number;
  private readonly detailsKept: number;
  private readonly removeStopper: () => void;
  private localNumber = 0;

  constructor(options: StrategyHostOptions) {
    this.options = options;
    this.service = options.service;
    this.scheduler = options.scheduler;
    this.maxSignals = options.maxSignals ?? DEFAULT_MAX_SIGNALS;
    this.detailsKept = options.signalDetailsKept ?? DEFAULT_DETAILS_KEPT;
    // The kill switch stops every strategy (it cancels every working order itself right after).
    this.removeStopper = this.service.addStrategyStopper(async (reason) => {
      await this.stopAll(reason, { isCancellingOrders: false });
    });
  }

  /** Starts a built-in on a symbol of the feed; audited. Throws STRATEGY_INVALID / BAD_INPUT / model errors before anything runs. */
  async start(request: StartStrategyRequest): Promise<StrategyInstance> {
    const info = builtinInfo(request.builtin);
    const params = resolveStrategyParams(request.builtin, request.params);
    const strategy = createBuiltinStrategy(request.builtin, params);
    const sizing = parseSizing(request.sizing);
    const feed = this.options.feed;
    if (!feed.symbols().includes(request.symbol)) {
      throw appError(
        'BAD_INPUT',
        `${feed.venue} has no symbol ${request.symbol}; it has ${feed.symbols().join(', ')}.`,
        { symbol: request.symbol },
      );
    }
    if (this.service.risk.isHalted('kill-switch')) {
      throw appError(
        'TRADING_HALTED',
        'The kill switch is engaged: release it (Risk dashboard) before starting a strategy.',
      );
    }
    let model: LiveModel | null = null;
    if (info.isModelDriven) {
      const models = this.options.models?.() ?? null;
      if (!models)
        throw appError(
          'ENGINE_NOT_READY',
          `${request.builtin} needs a model, but no model registry is available.`,
        );
      const name = request.model ?? this.options.defaultModel?.() ?? null;
      if (!name)
        throw appError(
          'NOT_FOUND',
          `${request.builtin} needs a model: name one (model) or load a default model in the Model manager.`,
        );
      model = await LiveModel.open(models, name, this.options.random);
    } else if (request.model !== undefined) {
      throw appError('STRATEGY_INVALID', `${request.builtin} does not read a model; leave 'model' out.`);
    }

    // Loading a model takes a while: the kill switch may have been engaged meanwhile.
    if (this.service.risk.isHalted('kill-switch')) {
      throw appError(
        'TRADING_HALTED',
        'The kill switch was engaged while the strategy was starting; it was not started.',
      );
    }
    if (
      request.strategyId !== undefined &&
      this.instances.get(request.strategyId)?.info.state === 'running'
    ) {
      throw appError('STRATEGY_INVALID', `Strategy id '${request.strategyId}' is already running.`);
    }
    const strategyId = request.strategyId ?? this.makeInstanceId(request.builtin, request.symbol);
    const timeframeMs = TIMEFRAME_MS[request.timeframe];
    const engine = new StrategyEngine({
      orderManager: this.service.orders,
      portfolio: this.service.portfolio,
      clock: this.scheduler,
    });
    const runner = engine.add({
      strategyId,
      symbol: request.symbol,
      strategy,
      params,
      sizing,
      protection: request.protection,
    });
    const nowMs = this.scheduler.nowMs();
    const instance: Instance = {
      info: {
        strategyId,
        builtin: request.builtin,
        symbol: request.symbol,
        timeframe: request.timeframe,
        params,
        state: 'starting',
        stopReason: null,
        startedMs: nowMs,
        stoppedMs: null,
        model: model ? { ...model.ref } : null,
        bars: 0,
        signals: 0,
        position: 0,
        realisedPnl: 0,
        unrealisedPnl: 0,
        feesPaid: 0,
      },
      strategy,
      isModelDriven: info.isModelDriven,
      engine,
      runner,
      aggregator: new BarAggregator({
        timeframes: [request.timeframe],
        onBar: ({ bar }) => this.onBar(instance, bar, timeframeMs),
      }),
      subscription: null,
      model,
      chain: Promise.resolve(),
      isDrainQueued: false,
      rejectedByRisk: 0,
      unsubscribeOrders: () => undefined,
    };
    let warmupBars: number;
    try {
      warmupBars = this.warmUp(instance);
    } catch (error) {
      // Detach the engine from the order manager (its listeners go with stop(), which needs a start()).
      engine.start();
      engine.stop();
      throw error;
    }
    this.service.follow(request.symbol);
    // Protective exits queued by a fill (entry filled between bars) are sent at once, not at the next bar.
    instance.unsubscribeOrders = this.service.orders.onOrder((order) => {
      if (order.strategyId === strategyId && engine.hasPending()) this.queueDrain(instance);
    });
    this.instances.set(strategyId, instance);
    instance.subscription = feed.subscribe(request.symbol, (event) => {
      if (event.kind === 'trade')
        instance.aggregator.add(event.trade.tsMs, event.trade.price, event.trade.quantity);
    });
    instance.aggregator.start(this.scheduler);
    engine.start();
    instance.info.state = 'running';
    this.service.audit.append('strategy.start', {
      strategyId,
      builtin: request.builtin,
      symbol: request.symbol,
      timeframe: request.timeframe,
      params,
      sizing,
      protection: { ...request.protection },
      model: instance.info.model,
      warmupBars,
      venue: feed.venue,
      account: this.service.account,
    });
    this.options.onChange?.();
    return this.describe(instance);
  }

  /** Stops one strategy: no new decisions, pending work finishes, its working orders are cancelled; audited. */
  async stop(
    strategyId: string,
    reason: string,
    options: { isCancellingOrders: boolean } = { isCancellingOrders: true },
  ): Promise<StrategyInstance> {
    const instance = this.instances.get(strategyId);
    if (!instance)
      throw appError(
        'NOT_FOUND',
        `No strategy '${strategyId}' in this engine run (strategies:list shows them).`,
        { strategyId },
      );
    if (instance.info.state === 'running' || instance.info.state === 'starting')
      await this.halt(instance, 'stopped', reason, options.isCancellingOrders);
    return this.describe(instance);
  }

  /** Stops every running strategy (kill switch, engine stop). */
  async stopAll(reason: string, options: { isCancellingOrders: boolean }): Promise<number> {
    const running = [...this.instances.values()].filter(
      (i) => i.info.state === 'running' || i.info.state === 'starting',
    );
    await Promise.all(running.map((i) => this.halt(i, 'stopped', reason, options.isCancellingOrders)));
    return running.length;
  }

  list(): StrategyInstance[] {
    return [...this.instances.values()].map((i) => this.describe(i));
  }

  instance(strategyId: string): StrategyInstance | null {
    const i = this.instances.get(strategyId);
    return i ? this.describe(i) : null;
  }

  /** Orders of an instance refused by risk so far. */
  rejectedByRisk(strategyId: string): number {
    return this.instances.get(strategyId)?.rejectedByRisk ?? 0;
  }

  /** Recent signals, newest first (from memory: the last maxSignals of this engine run). */
  signals(filter: { strategyId?: string | undefined; symbol?: string | undefined; limit: number }): Signal[] {
    const out: Signal[] = [];
    for (let i = this.recent.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const s = this.recent[i]!;
      if (filter.strategyId !== undefined && s.strategyId !== filter.strategyId) continue;
      if (filter.symbol !== undefined && s.symbol !== filter.symbol) continue;
      out.push(s);
    }
    return out;
  }

  /** One signal with everything behind it; older than memory holds: read back from its audit record. */
  signal(signalId: string): SignalDetail {
    const kept = this.byId.get(signalId);
    if (kept) return kept;
    const m = /^signal-(\d{1,15})$/.exec(signalId);
    const seq = m ? Number(m[1]) : NaN;
    const record = Number.isSafeInteger(seq)
      ? this.service.audit.query({ fromSeq: seq, toSeq: seq, limit: 1 })[0]
      : undefined;
    if (!record || record.type !== SIGNAL_RECORD)
      throw appError('NOT_FOUND', `No signal ${signalId}.`, { signalId });
    return {
      ...(record.payload as Omit<SignalDetail, 'signalId' | 'auditSeq'>),
      signalId,
      auditSeq: record.seq,
    };
  }

  /** Waits for every instance's queued bar and signal work (tests, clean stops). */
  async idle(): Promise<void> {
    await Promise.all([...this.instances.values()].map((i) => i.chain));
  }

  /** Detaches from the trading service (call after stopAll). */
  close(): void {
    this.removeStopper();
  }

  private makeInstanceId(builtin: string, symbol: string): string {
    let n = this.options.nextInstanceNumber?.() ?? ++this.localNumber;
    const base = `${builtin}-${symbol.replace(/[^A-Za-z0-9]+/g, '-')}`;
    while (this.instances.has(`${base}-${n}`)) n++;
    return `${base}-${n}`;
  }

  /** Indicators (and the model's features) from history; decisions are not taken on history. */
  private warmUp(instance: Instance): number {
    const { symbol, timeframe } = instance.info;
    const history = this.options.history?.(symbol, timeframe, WARMUP_BARS) ?? null;
    if (!history) return 0;
    const b = history.bars;
    const features = instance.runner.featureSet;
    let n = 0;
    for (let i = 0; i < b.time.length; i++) {
      const bar = {
        time: b.time[i]!,
        open: b.open[i]!,
        high: b.high[i]!,
        low: b.low[i]!,
        close: b.close[i]!,
        volume: b.volume[i]!,
      };
      if (![bar.open, bar.high, bar.low, bar.close, bar.volume].every(Number.isFinite)) continue;
      features.step(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume);
      instance.model?.warm(bar);
      n++;
    }
    // The bar forming now continues in this instance's aggregator, so its first bar is a whole one.
    if (history.forming) instance.aggregator.seedForming(timeframe, history.forming);
    return n;
  }

  private onBar(instance: Instance, bar: Candle, timeframeMs: number): void {
    if (instance.info.state !== 'running') return;
    instance.chain = instance.chain
      .then(() => this.processBar(instance, bar, bar.time + timeframeMs))
      .catch((error: unknown) => this.fail(instance, error));
  }

  private queueDrain(instance: Instance): void {
    if (instance.isDrainQueued || instance.info.state !== 'running') return;
    instance.isDrainQueued = true;
    instance.chain = instance.chain
      .then(async () => {
        instance.isDrainQueued = false;
        if (instance.info.state !== 'running') return;
        await this.drainAndRecord(instance, this.captureContext(instance, null));
      })
      .catch((error: unknown) => this.fail(instance, error));
  }

  private async processBar(instance: Instance, bar: Candle, closeMs: number): Promise<void> {
    if (instance.info.state !== 'running') return;
    instance.info.bars++;
    const { engine, info } = instance;
    let prediction: Prediction | null = null;
    if (instance.model) {
      prediction = await instance.model.predict(info.symbol, bar, closeMs);
      if (instance.info.state !== 'running') return;
      if (prediction) engine.onPrediction(prediction);
    }
    engine.onBar(info.symbol, bar.time, closeMs, bar.open, bar.high, bar.low, bar.close, bar.volume);
    // What the strategy saw, captured before its orders move the position.
    const context = engine.hasPending() ? this.captureContext(instance, prediction) : null;
    if (context) await this.drainAndRecord(instance, context);
  }

  private captureContext(instance: Instance, prediction: Prediction | null): DecisionContext {
    const { runner } = instance;
    const features: Record<string, number | null> = {};
    const set = runner.featureSet;
    set.names.forEach((name, i) => (features[name] = finiteOrNull(set.values[i]!)));
    if (instance.model) Object.assign(features, nullable(instance.model.featureValues()));
    const rules: RuleEvaluation[] = instance.strategy.traceDecision(runner).map((c: ConditionTrace) => ({
      name: c.name,
      expression: c.expression,
      isTrue: c.isTrue,
      inputs: nullable(c.inputs),
    }));
    return { barTimeMs: runner.bar.timeMs, rules, features, prediction };
  }

  private async drainAndRecord(instance: Instance, context: DecisionContext): Promise<void> {
    await instance.engine.drain();
    const decisions = instance.engine.decisions.splice(0);
    if (decisions.length === 0) return;
    // Explanations cost a model evaluation or more: computed for bars that produced a signal only.
    const usesModel =
      instance.isModelDriven && context.prediction !== null && decisions.some((d) => d.role !== 'protective');
    const explanation = usesModel && instance.model ? await instance.model.explain() : null;
    for (const d of decisions)
      this.recordSignal(instance, d, context, d.role === 'protective' ? null : explanation);
    this.options.onChange?.();
  }

  private recordSignal(
    instance: Instance,
    d: DecisionRecord,
    context: DecisionContext,
    explanation: Explanation | null,
  ): void {
    if (d.outcome === 'risk-rejected') instance.rejectedByRisk++;
    const { info } = instance;
    const prediction =
      instance.model && context.prediction && d.role !== 'protective'
        ? { model: { ...instance.model.ref }, values: { ...context.prediction.values } }
        : null;
    const body: Omit<SignalDetail, 'signalId' | 'auditSeq'> = {
      tsMs: d.tsMs,
      strategyId: d.strategyId,
      builtin: info.builtin,
      symbol: d.symbol,
      barTimeMs: context.barTimeMs,
      role: d.role,
      side: d.side as OrderSide,
      type: d.type as OrderType,
      quantity: d.quantity,
      reason: d.reason,
      outcome: d.outcome,
      clientOrderId: d.clientOrderId,
      message: d.message,
      prediction,
      explanation,
      features: context.features,
      rules: context.rules,
      verdict: d.verdict
        ? {
            isApproved: d.verdict.isApproved,
            reason: d.verdict.reason,
            checks: d.verdict.checks.map((c) => ({ ...c })),
          }
        : null,
    };
    const seq = this.service.audit.append(SIGNAL_RECORD, body);
    const detail: SignalDetail = { signalId: `signal-${seq}`, auditSeq: seq, ...body };
    const summary = summaryOf(detail);
    this.recent.push(summary);
    if (this.recent.length > this.maxSignals) this.recent.shift();
    this.byId.set(detail.signalId, detail);
    // A detail (verdict, explanation, features) is ~10 KB: only the newest stay in memory.
    if (this.byId.size > this.detailsKept) this.byId.delete(this.byId.keys().next().value!);
    info.signals++;
    this.options.onSignal?.(summary);
  }

  private async halt(
    instance: Instance,
    state: 'stopped' | 'failed',
    reason: string,
    isCancellingOrders: boolean,
  ): Promise<void> {
    const { info } = instance;
    if (info.state === 'stopped' || info.state === 'failed') return;
    info.state = state;
    info.stopReason = reason;
    info.stoppedMs = this.scheduler.nowMs();
    instance.subscription?.unsubscribe();
    instance.subscription = null;
    instance.aggregator.stop();
    instance.unsubscribeOrders();
    // Work already under way (an order being sent) finishes before the orders are cancelled.
    await instance.chain.catch(() => undefined);
    instance.engine.stop();
    const canceled = isCancellingOrders
      ? await this.service.orders.cancelAll({ strategyId: info.strategyId }, `strategy ${state}: ${reason}`)
      : 0;
    const d = this.describe(instance);
    this.service.audit.append(state === 'failed' ? 'strategy.failed' : 'strategy.stop', {
      strategyId: info.strategyId,
      reason,
      canceled,
      bars: info.bars,
      signals: info.signals,
      position: d.position,
      realisedPnl: d.realisedPnl,
      feesPaid: d.feesPaid,
    });
    this.options.onChange?.();
  }

  private fail(instance: Instance, error: unknown): void {
    const message =
      error instanceof AppErrorException || error instanceof Error ? error.message : String(error);
    if (instance.info.state !== 'running') return;
    // halt() awaits the chain this runs on: detach it so it does not wait on itself.
    instance.chain = Promise.resolve();
    void this.halt(instance, 'failed', message, true).then(() =>
      this.options.onFailure?.(instance.info.strategyId, message),
    );
  }

  private describe(instance: Instance): StrategyInstance {
    const slot = instance.runner.slot;
    const q = slot.quantity;
    return {
      ...instance.info,
      params: { ...instance.info.params },
      model: instance.info.model ? { ...instance.info.model } : null,
      position: q,
      realisedPnl: slot.realisedPnl,
      unrealisedPnl: q === 0 ? 0 : q * (slot.market.markPrice - slot.averagePrice),
      feesPaid: slot.feesPaid,
    };
  }
}

function summaryOf(s: SignalDetail): Signal {
  return {
    signalId: s.signalId,
    auditSeq: s.auditSeq,
    tsMs: s.tsMs,
    strategyId: s.strategyId,
    builtin: s.builtin,
    symbol: s.symbol,
    barTimeMs: s.barTimeMs,
    role: s.role,
    side: s.side,
    type: s.type,
    quantity: s.quantity,
    reason: s.reason,
    outcome: s.outcome,
    clientOrderId: s.clientOrderId,
    message: s.message,
    prediction: s.prediction,
  };
}
