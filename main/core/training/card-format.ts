import type { EvaluationBlock, ModelCardDocument } from './card.ts';

/** The card as written to disk: stable key order (as built), 2-space JSON, trailing newline. NaN (e.g. AUC of a one-class fold) becomes null. */
export function serialiseCard(card: ModelCardDocument): string {
  return `${JSON.stringify(card, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function line(label: string, block: EvaluationBlock): string {
  const m = block.metrics;
  const quality =
    'auc' in m
      ? `AUC ${m.auc.toFixed(3)}  acc ${pct(m.accuracy)}  logloss ${m.logLoss.toFixed(4)}  brier ${m.brier.toFixed(4)}`
      : `corr ${m.correlation.toFixed(3)}  rmse ${m.rmse.toExponential(2)}  dir ${pct(m.directionAccuracy)}`;
  const s = block.trading.strategy;
  const g = block.trading.strategyBeforeFees;
  const b = block.trading.buyAndHold;
  return `${label.padEnd(12)} ${String(m.rows).padStart(7)} rows  ${quality}  | strategy ${pct(s.totalReturn)} (before fees ${pct(g.totalReturn)}) Sharpe ${s.sharpe.toFixed(2)} DD ${pct(s.maxDrawdown)} turnover ${s.turnover.toFixed(3)} | buy&hold ${pct(b.totalReturn)} Sharpe ${b.sharpe.toFixed(2)} DD ${pct(b.maxDrawdown)}`;
}

/** Human summary of a card's evaluation for the terminal. */
export function formatCardSummary(card: ModelCardDocument): string {
  const lines = [
    `Model ${card.name} (${card.model.kind}, label ${card.label.definition}) on ${card.training.data.source} ${card.training.data.firstBar} .. ${card.training.data.lastBar}`,
    'Out-of-sample (walk-forward, purged + embargo):',
  ];
  for (const f of card.evaluation.outOfSample.folds) lines.push(line(`  fold ${f.fold}`, f.test));
  lines.push(line('  overall', card.evaluation.outOfSample.overall));
  for (const u of card.evaluation.unseenAssets)
    lines.push(
      line(`  ${u.method.startsWith('walk-forward') ? 'unseen wf' : 'unseen all'}`, u) + `  (${u.source})`,
    );
  lines.push(line('in-sample', card.evaluation.inSample) + '  (NOT out-of-sample)');
  lines.push(`Fees/assumptions: ${card.evaluation.tradingAssumptions}`);
  lines.push(`Verdict: ${card.evaluation.verdict}`);
  return lines.join('\n');
}
