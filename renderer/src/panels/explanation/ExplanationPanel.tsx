import { useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import { ExplanationWaterfall } from '../../components/svg-charts.tsx';
import { chartBus } from '../chart/chart-bus.ts';
import { useChartSelection } from '../chart/selection.ts';
import type { Explanation } from '../../../../shared/contract/models.ts';

function formatValue(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
}

/**
 * Why the model predicts what it does at the bar selected on the chart: prediction vs base value
 * and a waterfall of per-feature contributions (largest first) with each feature's value.
 */
export function ExplanationPanel() {
  const { venue, symbol, timeframe } = useChartSelection();
  const [timeMs, setTimeMs] = useState<number | null>(() => chartBus.lastSelectedTime());
  const [explanation, setExplanation] = useState<Explanation | null>(null);
  const [message, setMessage] = useState<string>('Click a bar on the chart to explain the prediction there.');

  useEffect(() => chartBus.onSelectTime(setTimeMs), []);

  useEffect(() => {
    if (timeMs === null) return;
    let isActive = true;
    setMessage('Explaining…');
    void getApi()
      .models.explain({ venue, symbol, timeframe, timeMs })
      .then((reply) => {
        if (!isActive) return;
        if (reply.ok) {
          setExplanation(reply.value);
          setMessage('');
        } else {
          setExplanation(null);
          setMessage(reply.error.message);
        }
      });
    return () => {
      isActive = false;
    };
  }, [venue, symbol, timeframe, timeMs]);

  return (
    <div className="panel-body" data-testid="explanation-panel">
      {message && (
        <div className="muted" data-testid="explanation-message">
          {message}
        </div>
      )}
      {explanation && (
        <>
          <div className="toolbar" data-testid="explanation-summary">
            <span>
              {explanation.model} ·{' '}
              {new Date(explanation.timeMs).toISOString().replace('T', ' ').slice(0, 16)} ·{' '}
              {explanation.method} · output {explanation.output}
            </span>
          </div>
          <div className="toolbar">
            <span>
              prediction{' '}
              <strong data-testid="explanation-prediction" data-value={explanation.prediction}>
                {explanation.prediction.toFixed(4)}
              </strong>
            </span>
            <span>
              base value{' '}
              <strong data-testid="explanation-base" data-value={explanation.baseValue}>
                {explanation.baseValue.toFixed(4)}
              </strong>
            </span>
            <span className="muted">
              difference {(explanation.prediction - explanation.baseValue).toFixed(4)} = sum of contributions
            </span>
          </div>
          <ExplanationWaterfall
            testId="explanation-waterfall"
            explanation={explanation}
            formatValue={formatValue}
          />
        </>
      )}
    </div>
  );
}
