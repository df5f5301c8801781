import type { FunctionComponent } from 'react';
import { SystemPanel } from './system/SystemPanel.tsx';

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
export const panels: PanelDefinition[] = [{ id: 'system', title: 'System', component: SystemPanel, defaultArea: 'side' }];
