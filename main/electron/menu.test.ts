import { describe, expect, it } from 'vitest';
import { appMenuTemplate, KILL_SWITCH_ACCELERATOR, type MenuItemTemplate } from './menu.ts';

function find(items: MenuItemTemplate[], label: RegExp): MenuItemTemplate | undefined {
  for (const item of items) {
    if (item.label && label.test(item.label)) return item;
    const inner = item.submenu ? find(item.submenu, label) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

describe('app menu', () => {
  it('the kill switch has a keyboard shortcut and reports what happened', async () => {
    const reports: string[] = [];
    let engaged = 0;
    const template = appMenuTemplate(
      {
        engageKillSwitch: async () => {
          engaged++;
          return 'Kill switch engaged';
        },
        restartEngine: () => undefined,
        installUpdate: async () => 'no update',
        report: (m) => reports.push(m),
      },
      'linux',
    );
    const item = find(template, /^Kill Switch/)!;
    expect(item.accelerator).toBe(KILL_SWITCH_ACCELERATOR);
    item.click!();
    await new Promise((r) => setImmediate(r));
    expect(engaged).toBe(1);
    expect(reports).toEqual(['Kill switch engaged']);
  });

  it('a failing kill switch is reported, not swallowed', async () => {
    const reports: string[] = [];
    const template = appMenuTemplate(
      {
        engageKillSwitch: async () => {
          throw new Error('engine unreachable');
        },
        restartEngine: () => undefined,
        installUpdate: async () => '',
        report: (m) => reports.push(m),
      },
      'darwin',
    );
    expect(template[0]).toEqual({ role: 'appMenu' });
    find(template, /^Kill Switch/)!.click!();
    await new Promise((r) => setImmediate(r));
    expect(reports).toEqual(['engine unreachable']);
  });
});
