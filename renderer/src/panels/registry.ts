import type { FunctionComponent } from 'react';
import { SystemPanel } from './system/SystemPanel.tsx';
import { BacktestLab } from './backtest-lab/BacktestLab.tsx';
import { OrderTicket } from './order-ticket/OrderTicket.tsx';
import { Blotter } from './blotter/Blotter.tsx';
import { RiskDashboard } from './risk/RiskDashboard.tsx';
import { AuditViewer } from './audit/AuditViewer.tsx';
import { ChartPanel } from './chart/ChartPanel.tsx';
import { Watchlist } from './watchlist/Watchlist.tsx';
import { DataManager } from './data-manager/DataManager.tsx';
import { ModelManager } from './model-manager/ModelManager.tsx';
import { ExplanationPanel } from './explanation/ExplanationPanel.tsx';
import { StrategiesPanel } from './strategies/StrategiesPanel.tsx';
import { SignalsPanel } from './signals/SignalsPanel.tsx';

export interface PanelDefinition {
  /** Stable id, used in the saved layout. */
  id: string;
  title: string;
  component: FunctionComponent;
  /** Where the panel goes in the default layout. */
  defaultArea: 'main' | 'side' | 'bottom';
}

/**
 * Every panel of the workspace. A domain adds its panel with one entry; the default layout
 * places panels by area, and a saved layout restores the user's arrangement.
 */
export const panels: PanelDefinition[] = [
  { id: 'chart', title: 'Chart', component: ChartPanel, defaultArea: 'main' },
  { id: 'watchlist', title: 'Watchlist', component: Watchlist, defaultArea: 'side' },
  { id: 'order-ticket', title: 'Order ticket', component: OrderTicket, defaultArea: 'side' },
  { id: 'risk', title: 'Risk', component: RiskDashboard, defaultArea: 'side' },
  { id: 'system', title: 'System', component: SystemPanel, defaultArea: 'side' },
  { id: 'blotter', title: 'Blotter', component: Blotter, defaultArea: 'bottom' },
  { id: 'audit', title: 'Audit', component: AuditViewer, defaultArea: 'bottom' },
  { id: 'backtest-lab', title: 'Backtest lab', component: BacktestLab, defaultArea: 'main' },
  { id: 'data-manager', title: 'Data', component: DataManager, defaultArea: 'bottom' },
  { id: 'model-manager', title: 'Models', component: ModelManager, defaultArea: 'bottom' },
  { id: 'explanation', title: 'Explanation', component: ExplanationPanel, defaultArea: 'side' },
  { id: 'strategies', title: 'Strategies', component: StrategiesPanel, defaultArea: 'bottom' },
  { id: 'signals', title: 'Signals', component: SignalsPanel, defaultArea: 'side' },
];
